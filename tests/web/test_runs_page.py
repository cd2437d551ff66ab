"""The Runs page in a real browser: chosen columns, containment filter, sort, server-side pages, URL state."""

import json
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

INFOS = [
    {"params": {"lr": 0.1}, "metrics": {"map50": 0.52}, "data": {"site": "Davis"}},
    {"params": {"lr": 0.01}, "metrics": {"map50": 0.81}, "data": {"site": "Kearney"}},
    {"params": {"lr": 0.001}, "metrics": {"map50": 0.67}, "data": {"site": "Davis"}},
    {"params": {"lr": 0.05}, "metrics": {"map50": 0.74}, "data": {"site": "Davis"}},
]


def column(page, key: str) -> list[str]:
    return page.locator(f'#runs-table tbody td[data-key="{key}"]').all_inner_texts()


def view_params(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).fragment.partition("?")[2])


def test_filter_by_containment_keeps_the_filter_in_the_url(page, server, make_runs, model_name, screenshot):
    make_runs(INFOS)
    page.goto(f"{server.url}/#/runs?model={model_name}")
    expect(page.locator("#runs-table tbody tr")).to_have_count(4)

    page.get_by_label("Filter").fill('{"data": {"site": "Davis"}}')
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(3)
    assert sorted(column(page, "data.site")) == ["Davis"] * 3
    assert json.loads(view_params(page)["filter"][0]) == {"data": {"site": "Davis"}}
    expect(page.locator(".pager-status")).to_have_text("1–3 of 3 (page 1 of 1)")
    screenshot("runs-filtered")

    page.get_by_label("Filter").fill('{"data": {"site": "Nowhere"}}')
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#runs-empty")).to_have_text("No runs match this filter.")


def test_a_filter_that_is_not_json_says_what_is_wrong(page, server, make_runs, model_name):
    make_runs(INFOS[:1])
    page.goto(f"{server.url}/#/runs?model={model_name}")
    page.get_by_label("Filter").fill('{"data": ')
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_role("alert").filter(has_text="filter")).to_contain_text("not valid JSON")
    expect(page.locator("#runs-table")).to_have_count(0)


def test_sort_by_an_info_column_both_ways(page, server, make_runs, model_name, screenshot):
    make_runs(INFOS)
    page.goto(f"{server.url}/#/runs?model={model_name}")
    expect(page.locator("#runs-table tbody tr")).to_have_count(4)

    header = page.locator('#runs-table th[data-key="metrics.map50"]')
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert column(page, "metrics.map50") == ["0.52", "0.67", "0.74", "0.81"]
    assert view_params(page)["sort"] == ["metrics.map50"]

    header = page.locator('#runs-table th[data-key="metrics.map50"]')
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert column(page, "metrics.map50") == ["0.81", "0.74", "0.67", "0.52"]
    assert view_params(page)["sort"] == ["-metrics.map50"]
    screenshot("runs-sorted")


def test_a_shared_link_opens_the_same_view(page, browser, server, make_runs, model_name):
    make_runs(INFOS)
    page.goto(f"{server.url}/#/runs?model={model_name}")
    page.get_by_label("Filter").fill('{"data": {"site": "Davis"}}')
    page.get_by_role("button", name="Apply filter").click()
    page.locator('#runs-table th[data-key="params.lr"]').get_by_role("button").click()
    expect(page.locator('#runs-table th[data-key="params.lr"]')).to_have_attribute("aria-sort", "ascending")
    link = page.url

    other = browser.new_context().new_page()
    try:
        other.goto(link)
        expect(other.locator("#runs-table tbody tr")).to_have_count(3)
        assert column(other, "params.lr") == ["0.001", "0.05", "0.1"]
        expect(other.get_by_label("Filter")).to_have_value('{"data": {"site": "Davis"}}')
    finally:
        other.context.close()


def test_choose_the_columns(page, server, make_runs, model_name):
    make_runs(INFOS)
    page.goto(f"{server.url}/#/runs?model={model_name}")
    expect(page.locator('#runs-table th[data-key="data.site"]')).to_have_count(1)
    page.get_by_text("Columns (").click()
    page.get_by_label("data.site").uncheck()
    expect(page.locator('#runs-table th[data-key="data.site"]')).to_have_count(0)
    assert view_params(page)["cols"] == ["params.lr,metrics.map50"]

    page.get_by_text("Columns (").click()
    page.get_by_label("Add a key not on this page").fill("tags.note")
    page.get_by_role("button", name="Add column").click()
    expect(page.locator('#runs-table th[data-key="tags.note"]')).to_have_count(1)
    assert set(column(page, "tags.note")) == {""}


def test_pages_come_from_the_server(page, server, make_runs, model_name, screenshot):
    make_runs([{"seed": index} for index in range(30)])
    page.goto(f"{server.url}/#/runs?model={model_name}&size=25")
    expect(page.locator("#runs-table tbody tr")).to_have_count(25)
    expect(page.locator(".pager-status")).to_have_text("1–25 of 30 (page 1 of 2)")

    page.get_by_role("link", name="Next ›").click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(5)
    expect(page.locator(".pager-status")).to_have_text("26–30 of 30 (page 2 of 2)")
    assert column(page, "seed") == [str(index) for index in range(25, 30)]
    assert view_params(page)["page"] == ["2"]
    screenshot("runs-page-2")

    page.go_back()
    expect(page.locator(".pager-status")).to_have_text("1–25 of 30 (page 1 of 2)")


def test_an_unknown_model_in_the_url_is_an_error_not_a_blank_page(page, server):
    page.goto(f"{server.url}/#/runs?model=no-such-model-anywhere")
    expect(page.get_by_role("alert")).to_contain_text("no-such-model-anywhere")
    expect(page.get_by_role("heading", level=1)).to_have_text("Runs of no-such-model-anywhere")


def test_sorting_is_done_by_the_server_across_pages(page, server, make_runs, model_name):
    make_runs([{"seed": index, "metrics": {"map50-95": index / 100}} for index in range(30)])
    page.goto(f"{server.url}/#/runs?model={model_name}&size=25")
    header = page.locator('#runs-table th[data-key="metrics.map50-95"]')
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    header.get_by_role("button").click()
    expect(page.locator('#runs-table th[data-key="metrics.map50-95"]')).to_have_attribute("aria-sort", "descending")
    # The best run of all 30 comes first, not the best of the first page in creation order.
    assert column(page, "seed")[:3] == ["29", "28", "27"]

    page.get_by_role("link", name="Next ›").click()
    expect(page.locator(".pager-status")).to_have_text("26–30 of 30 (page 2 of 2)")
    assert column(page, "seed") == ["4", "3", "2", "1", "0"]
    assert view_params(page)["after"], "the Next link carries the server's cursor"

    page.get_by_role("link", name="‹ Previous").click()
    expect(page.locator(".pager-status")).to_have_text("1–25 of 30 (page 1 of 2)")
    assert column(page, "seed")[:2] == ["29", "28"]
    assert "after" not in view_params(page)


def test_a_search_expression_filters_and_its_errors_say_where(page, server, make_runs, model_name):
    make_runs(INFOS)
    page.goto(f"{server.url}/#/runs?model={model_name}")
    page.get_by_label("Filter").fill("params.lr < 0.02 or data.site = 'Kearney'")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(2)
    assert sorted(column(page, "params.lr")) == ["0.001", "0.01"]

    page.get_by_label("Filter").fill("params.lr <")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid input: where: expected a value")
    expect(page.get_by_role("alert")).to_contain_text("column 12")


def test_the_page_reads_only_its_own_servers_lists(page, server, make_runs, model_name):
    make_runs(INFOS)
    requested = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path))
    page.goto(f"{server.url}/#/runs?model={model_name}")
    expect(page.locator("#runs-table tbody tr")).to_have_count(4)
    expect(page.locator("#runs-table tbody tr").first.locator("td").nth(1)).to_have_text(model_name)
    api_paths = [path for path in requested if path.startswith("/api/") or path == "/openapi.json"]
    assert sorted(api_paths) == ["/api/model_runs", "/api/models"]
