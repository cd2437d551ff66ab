"""The Run page in a real browser: info tree, JSON edit with validation, model association, delete."""

import uuid

from playwright.sync_api import expect

INFO = {"params": {"lr": 0.01, "optimizer": "adam"}, "metrics": {"map50": 0.8}, "tags": ["a", "b"]}


def open_run_from_table(page, server, model_name: str, run_id: str) -> None:
    page.goto(f"{server.url}/#/runs?model={model_name}")
    page.locator(f'#runs-table tr[data-run-id="{run_id}"]').get_by_role("link").click()
    expect(page.locator("#run-id")).to_have_text(run_id)


def test_open_a_run_and_read_its_info_tree(page, server, make_runs, model_name, screenshot):
    (run_id,) = make_runs([INFO])
    open_run_from_table(page, server, model_name, run_id)
    tree = page.locator("#info-tree")
    expect(tree).to_contain_text('optimizer: "adam"')
    expect(tree).to_contain_text("map50: 0.8")
    expect(page.locator("#run-model")).to_have_text(model_name)
    screenshot("run")

    params = tree.locator("details", has_text="params").first
    expect(params.get_by_text("lr: 0.01")).to_be_visible()
    params.locator("summary").first.click()
    expect(params.get_by_text("lr: 0.01")).to_be_hidden()
    page.get_by_role("button", name="Expand all").click()
    expect(params.get_by_text("lr: 0.01")).to_be_visible()


def test_edit_the_info_and_see_a_bad_edit_refused(page, server, api, make_runs, model_name, screenshot):
    (run_id,) = make_runs([INFO])
    open_run_from_table(page, server, model_name, run_id)
    page.get_by_text("Edit info").click()
    editor = page.get_by_label("Info as JSON")

    editor.fill('{"params": {"lr": 0.02,}}')
    page.get_by_role("button", name="Save info").click()
    expect(page.locator("#edit-info-error")).to_contain_text("not valid JSON")
    expect(editor).to_have_attribute("aria-invalid", "true")
    screenshot("run-bad-edit")
    assert api.get(f"/model_runs/{run_id}").json()["model_run_info"] == INFO

    editor.fill('["not", "an", "object"]')
    page.get_by_role("button", name="Save info").click()
    expect(page.locator("#edit-info-error")).to_contain_text("must be a JSON object")
    assert api.get(f"/model_runs/{run_id}").json()["model_run_info"] == INFO

    editor.fill('{"params": {"lr": 0.02}, "note": "retrained"}')
    page.get_by_role("button", name="Format JSON").click()
    expect(editor).to_have_value('{\n  "params": {\n    "lr": 0.02\n  },\n  "note": "retrained"\n}')
    page.get_by_role("button", name="Save info").click()
    expect(page.locator(".notice")).to_have_text("Info saved.")
    expect(page.locator("#info-tree")).to_contain_text('note: "retrained"')
    assert api.get(f"/model_runs/{run_id}").json()["model_run_info"] == {"params": {"lr": 0.02}, "note": "retrained"}


def test_an_edit_that_collides_with_another_run_shows_the_conflict(page, server, api, make_runs, model_name):
    first, second = make_runs([{"seed": 1}, {"seed": 2}])
    page.goto(f"{server.url}/#/runs/{second}")
    page.get_by_text("Edit info").click()
    page.get_by_label("Info as JSON").fill('{"seed": 1}')
    page.get_by_role("button", name="Save info").click()
    expect(page.locator("#edit-status")).to_contain_text("Conflict")
    expect(page.locator("#edit-status")).to_contain_text(first)
    assert api.get(f"/model_runs/{second}").json()["model_run_info"] == {"seed": 2}


def test_move_a_run_to_another_model_and_remove_it(page, server, api, make_runs, model_name):
    (run_id,) = make_runs([{"seed": 1}])
    other = f"{model_name}-b"
    api.post("/models", json={"model_name": other}).raise_for_status()
    page.goto(f"{server.url}/#/runs/{run_id}")
    page.get_by_label("Move to model").select_option(other)
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#run-model")).to_have_text(other)
    assert api.get(f"/model_runs/{run_id}/model").json()["model_name"] == other

    page.get_by_role("button", name=f"Remove from {other}").click()
    expect(page.locator("#run-model")).to_have_text("none")
    assert api.get(f"/model_runs/{run_id}/model").status_code == 404


def test_delete_a_run_after_confirming(page, server, api, make_runs, model_name):
    (run_id,) = make_runs([{"seed": 1}])
    page.goto(f"{server.url}/#/runs/{run_id}")
    page.get_by_role("button", name="Delete run").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete run").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Runs of {model_name}")
    expect(page.locator(".notice")).to_contain_text("deleted")
    assert api.get(f"/model_runs/{run_id}").status_code == 404


def test_an_unknown_run_is_a_message_not_a_blank_page(page, server, screenshot):
    missing = uuid.uuid4()
    page.goto(f"{server.url}/#/runs/{missing}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Model run not found")
    expect(page.get_by_role("alert")).to_contain_text("Not found")
    expect(page.get_by_role("alert")).to_contain_text(str(missing))
    screenshot("run-not-found")

    page.goto(f"{server.url}/#/runs/not-a-uuid")
    expect(page.get_by_role("alert")).to_contain_text("Invalid input")
