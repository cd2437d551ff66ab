"""A run's artifacts on its page: images as a gallery that opens full size, small text files read in place
(a CSV as a table), and every file still one click from its download."""

import struct
import uuid
import zlib

import pytest
from playwright.sync_api import expect
from test_accessibility import CONTRAST, UNLABELLED

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#15803d"/></svg>'
ARGS = b"task: detect\nepochs: 2\nlr0: 0.01\n"
RESULTS = b"epoch,train/box_loss,metrics/mAP50(B)\n1,3.04722,0.000030422749999999952\n2,2.5,0.9516666666666667\n"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour, written by hand: no imaging library is needed for a test image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def run_with_files(api, model_name):
    """A finished tracked run with plots, two small text files and weights."""
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"seed": uuid.uuid4().hex}})
    response.raise_for_status()
    run_id = response.json()["id"]
    files = {
        "results.png": png(320, 160, (31, 95, 168)),
        "train_batch0.png": png(64, 64, (194, 65, 12)),
        "plots/curve.svg": SVG,
        "args.yaml": ARGS,
        "results.csv": RESULTS,
        "weights/best.pt": b"\x00" * 2048,
    }
    for name, content in files.items():
        api.put(f"/model_runs/{run_id}/artifacts/{name}", content=content).raise_for_status()
    api.post(f"/model_runs/{run_id}/end", json={"status": "finished"}).raise_for_status()
    return run_id


def test_images_show_as_a_gallery_and_open_full_size(page, server, run_with_files, screenshot):
    page.goto(f"{server.url}/#/runs/{run_with_files}")
    gallery = page.locator("#artifact-gallery")
    expect(gallery.locator("li")).to_have_count(3)
    # The summary plot first, the batch mosaics last; the weights are no image.
    assert gallery.locator("li").evaluate_all("all => all.map((li) => li.dataset.name)") == ["results.png", "plots/curve.svg", "train_batch0.png"]
    thumb = gallery.locator('li[data-name="results.png"] img')
    expect(thumb).to_have_attribute("src", f"/api/model_runs/{run_with_files}/artifacts/results.png")
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 320", arg=thumb.element_handle())
    # SVG is sent as a plain download, so the page hands the <img> its bytes as SVG.
    svg_thumb = gallery.locator('li[data-name="plots/curve.svg"] img')
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 40", arg=svg_thumb.element_handle())
    screenshot("run-artifacts")

    page.get_by_role("button", name="Open results.png full size").click()
    view = page.locator("#artifact-lightbox")
    expect(view).to_be_visible()
    full = view.locator("img")
    expect(full).to_have_attribute("alt", "results.png")
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 320", arg=full.element_handle())
    expect(view.get_by_role("link", name="Download")).to_have_attribute("href", f"/api/model_runs/{run_with_files}/artifacts/results.png")
    assert page.evaluate(CONTRAST) == [] and page.evaluate(UNLABELLED) == []
    page.keyboard.press("ArrowRight")
    expect(full).to_have_attribute("alt", "plots/curve.svg")
    page.keyboard.press("Escape")
    expect(page.locator("#artifact-lightbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Open results.png full size")).to_be_focused()


def test_small_text_files_read_in_place_and_a_csv_as_a_table(page, server, run_with_files):
    page.goto(f"{server.url}/#/runs/{run_with_files}")
    texts = page.locator("#artifact-texts")
    expect(texts.locator("details")).to_have_count(2)
    assert texts.locator("details").evaluate_all("all => all.map((d) => d.dataset.name)") == ["args.yaml", "results.csv"]

    texts.get_by_text("args.yaml", exact=True).click()
    expect(texts.locator('details[data-name="args.yaml"] pre')).to_have_text(ARGS.decode())

    texts.get_by_text("results.csv", exact=True).click()
    table = texts.locator('details[data-name="results.csv"] table')
    expect(table.locator("thead th")).to_have_text(["epoch", "train/box_loss", "metrics/mAP50(B)"])
    cells = table.locator("tbody td")
    expect(cells).to_have_text(["1", "3.047", "3.042e-5", "2", "2.5", "0.9517"])
    # Rounded for reading; the tooltip has the value as the file has it.
    assert float(cells.nth(2).get_attribute("title")) == 0.000030422749999999952
    assert cells.nth(5).get_attribute("title") == "0.9516666666666667"
    assert page.evaluate(CONTRAST) == [] and page.evaluate(UNLABELLED) == []

    # Every file, the weights included, still downloads from the table.
    with page.expect_download() as download:
        page.locator("#artifacts-table").get_by_role("link", name="weights/best.pt").click()
    assert download.value.suggested_filename == "best.pt"


def test_a_large_text_file_only_downloads(page, server, api, run_with_files):
    api.put(f"/model_runs/{run_with_files}/artifacts/big.log", content=b"x" * (256 * 1024 + 1)).raise_for_status()
    page.goto(f"{server.url}/#/runs/{run_with_files}")
    expect(page.locator('#artifacts-table tr[data-name="big.log"]')).to_be_visible()
    expect(page.locator('#artifact-texts details[data-name="big.log"]')).to_have_count(0)
