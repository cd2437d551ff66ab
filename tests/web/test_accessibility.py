"""Keyboard use, labels and text contrast, checked on every page in the real browser."""

import pytest
from playwright.sync_api import expect

# For every element with its own visible text: its colour against the first opaque background behind it.
CONTRAST = """
() => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg.a > 0.5) return bg;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const failures = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("svg, [disabled], [aria-disabled='true'], .visually-hidden, dialog:not([open])")) continue;
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || !el.checkVisibility()) continue;
    const style = getComputedStyle(el);
    const fg = lum(parse(style.color));
    const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.6 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) failures.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return failures;
}
"""

UNLABELLED = """
() => [...document.querySelectorAll("input, select, textarea, button")]
  .filter((el) => el.checkVisibility())
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.textContent.trim())
  .map((el) => el.outerHTML.slice(0, 80))
"""


@pytest.fixture
def pages(server, make_runs):
    ids = make_runs([{"params": {"lr": 0.1}, "m": 1}, {"params": {"lr": 0.2}, "m": 2}, {"params": {"lr": 0.3}, "m": 3}])
    return {
        "models": "#/models",
        "runs": "#/runs",
        "run": f"#/runs/{ids[0]}",
        "compare": f"#/compare?ids={','.join(ids)}",
        "error": "#/runs/00000000-0000-0000-0000-000000000000",
    }


def test_text_contrast_and_labels_on_every_page(page, server, pages):
    for name, fragment in pages.items():
        page.goto(f"{server.url}/{fragment}")
        expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.eval_on_selector_all("main details", "all => all.forEach((d) => { d.open = true; })")
        assert page.evaluate(CONTRAST) == [], f"text below the contrast minimum on the {name} page"
        assert page.evaluate(UNLABELLED) == [], f"controls without a label on the {name} page"


def test_keyboard_skip_link_and_focus_on_page_change(page, server):
    page.goto(f"{server.url}/#/models")
    expect(page.locator("#models-table, .empty").first).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert page.url.endswith("#/models"), "the skip link keeps the view's address"

    page.get_by_role("link", name="Runs").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Runs", level=1)).to_be_focused()


def test_a_confirmation_can_be_answered_with_the_keyboard(page, server, api, model_name):
    api.post("/models", json={"model_name": model_name}).raise_for_status()
    page.goto(f"{server.url}/#/models")
    delete = page.get_by_role("button", name=f"Delete model {model_name}")
    delete.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog").get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(delete).to_be_focused()
    assert len(api.get("/models", params={"model_name": model_name}).json()) == 1
