"""The Models page in a real browser: create, edit and delete models, with run counts."""

from playwright.sync_api import expect


def test_create_a_model_and_its_runs_through_the_page(page, server, api, model_name, screenshot):
    page.goto(f"{server.url}/#/models")
    expect(page.get_by_role("heading", name="Models", level=1)).to_be_visible()
    page.get_by_text("New model…").click()
    page.get_by_label("Name").fill(model_name)
    page.get_by_label("URL").fill("https://example.org/detector")
    page.get_by_label("Info (JSON object)").fill('{"task": "stand counting"}')
    page.get_by_role("button", name="Create model").click()

    row = page.locator("#models-table tbody tr", has_text=model_name)
    expect(row).to_be_visible()
    expect(row).to_contain_text("task: stand counting")
    expect(row.locator("td").nth(2)).to_have_text("0")  # runs

    row.get_by_role("link", name=model_name).click()
    expect(page.get_by_role("heading", name=f"Runs of {model_name}")).to_be_visible()
    page.get_by_text("New run…").click()
    for lr in (0.1, 0.01, 0.001):
        page.get_by_label("Info (JSON object)").fill(f'{{"params": {{"lr": {lr}}}, "metrics": {{"map50": {lr * 5}}}}}')
        page.get_by_role("button", name="Record run").click()
        expect(page.locator(".notice")).to_contain_text("recorded")
        expect(page.locator("#runs-table tbody tr").filter(has_text=str(lr))).to_have_count(1)
    expect(page.locator("#runs-table tbody tr")).to_have_count(3)
    expect(page.locator(".pager-status")).to_have_text("1–3 of 3 (page 1 of 1)")
    screenshot("runs")

    # The same info again is the same run: the page says so and records nothing.
    page.get_by_label("Info (JSON object)").fill('{"metrics": {"map50": 0.005}, "params": {"lr": 0.001}}')
    page.get_by_role("button", name="Record run").click()
    expect(page.locator(".notice")).to_contain_text("already has this info")
    expect(page.locator("#runs-table tbody tr")).to_have_count(3)

    runs = api.get("/model_runs", params={"model_name": model_name}).json()
    assert sorted(run["model_run_info"]["params"]["lr"] for run in runs) == [0.001, 0.01, 0.1]

    page.get_by_role("link", name="Models").click()
    row = page.locator("#models-table tbody tr", has_text=model_name)
    expect(row.locator("td").nth(2)).to_have_text("3")
    expect(row.locator("td").nth(3)).not_to_have_text("never")
    screenshot("models")


def test_model_info_that_is_not_an_object_is_refused_before_sending(page, server, api):
    before = int(api.get("/models").headers["X-Total-Count"])
    page.goto(f"{server.url}/#/models")
    page.get_by_text("New model…").click()
    page.get_by_label("Info (JSON object)").fill("[1, 2]")
    page.get_by_role("button", name="Create model").click()
    expect(page.locator("#new-model-info-error")).to_contain_text("must be a JSON object")
    assert int(api.get("/models").headers["X-Total-Count"]) == before


def test_edit_a_model(page, server, api, model_name):
    model = api.post("/models", json={"model_name": model_name, "model_info": {"v": 1}}).json()
    page.goto(f"{server.url}/#/models")
    page.get_by_role("button", name=f"Edit model {model_name}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("URL").fill("https://example.org/v2")
    dialog.get_by_label("Info (JSON object)").fill('{"v": 2}')
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_contain_text("saved")
    saved = api.get(f"/models/{model['id']}").json()
    assert saved["model_url"] == "https://example.org/v2"
    assert saved["model_info"] == {"v": 2}


def test_renaming_a_model_to_a_taken_name_shows_the_conflict(page, server, api, model_name):
    api.post("/models", json={"model_name": f"{model_name}-other"}).raise_for_status()
    model = api.post("/models", json={"model_name": model_name}).json()
    page.goto(f"{server.url}/#/models")
    page.get_by_role("button", name=f"Edit model {model_name}", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(f"{model_name}-other")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert").filter(has_text="Conflict")).to_contain_text(f"{model_name}-other")
    assert api.get(f"/models/{model['id']}").json()["model_name"] == model_name


def test_deleting_a_model_asks_first(page, server, api, make_runs, model_name, screenshot):
    make_runs([{"seed": 1}, {"seed": 2}])
    model_id = api.get("/models", params={"model_name": model_name}).json()[0]["id"]
    page.goto(f"{server.url}/#/models")
    page.get_by_role("button", name=f"Delete model {model_name}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("its 2 runs")
    screenshot("models-delete-confirmation")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert api.get(f"/models/{model_id}").status_code == 200

    page.get_by_role("button", name=f"Delete model {model_name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete model").click()
    expect(page.locator(".notice")).to_contain_text("deleted")
    expect(page.locator("#models-table tbody tr", has_text=model_name)).to_have_count(0)
    assert api.get(f"/models/{model_id}").status_code == 404


def test_the_models_list_is_one_request_whatever_the_number_of_models(page, server, api, model_name):
    for suffix in ("", "-b", "-c"):
        api.post("/models", json={"model_name": f"{model_name}{suffix}"})
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/#/models")
    expect(page.locator("#models-table tbody tr").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert [url for url in requested if "/api/" in url] == [f"{server.url}/api/models?limit=50&offset=0"]
