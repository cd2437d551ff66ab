"""Writes on a server with a token, and what the page shows when the API or the server fails."""

from playwright.sync_api import expect


def create_model(page, name: str) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create model").click()


def test_the_token_is_asked_once_and_sent_with_writes(page, token_server, model_name, screenshot):
    page.goto(f"{token_server.url}/#/models")
    page.get_by_text("New model…").click()
    create_model(page, model_name)

    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("needs a write token")
    screenshot("token-dialog")
    dialog.get_by_label("API token").fill(token_server.token)
    dialog.get_by_role("button", name="Use token").click()
    expect(page.locator("#models-table tbody tr", has_text=model_name)).to_have_count(1)

    requests = []
    page.on("request", lambda request: requests.append(request))
    create_model(page, f"{model_name}-second")
    expect(page.locator("#models-table tbody tr", has_text=f"{model_name}-second")).to_have_count(1)
    expect(page.get_by_role("dialog")).to_have_count(0)
    posts = [request for request in requests if request.method == "POST"]
    assert [request.headers.get("authorization") for request in posts] == [f"Bearer {token_server.token}"]

    with token_server.api() as api:
        names = {model["model_name"] for model in api.get("/models", params={"limit": 1000}).json()}
    assert {model_name, f"{model_name}-second"} <= names

    page.get_by_role("button", name="Forget write token").click()
    create_model(page, f"{model_name}-third")
    expect(page.get_by_role("dialog")).to_contain_text("needs a write token")


def test_a_wrong_token_is_asked_again_and_cancelling_says_why(page, token_server, model_name):
    page.goto(f"{token_server.url}/#/models")
    page.get_by_text("New model…").click()
    create_model(page, model_name)
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("API token").fill("wrong-token")
    dialog.get_by_role("button", name="Use token").click()
    expect(page.get_by_role("dialog")).to_contain_text("refused this token")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text("token")
    expect(page.locator("#models-table tbody tr", has_text=model_name)).to_have_count(0)


def test_reads_need_no_token(page, token_server):
    page.goto(f"{token_server.url}/#/runs")
    expect(page.get_by_role("heading", name="Runs", level=1)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_an_unknown_page_is_a_message(page, server):
    page.goto(f"{server.url}/#/nowhere")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("alert")).to_contain_text("nowhere")


def test_a_server_that_stops_answering_gives_a_message_not_a_blank_page(page, server):
    page.goto(f"{server.url}/#/models")
    expect(page.get_by_role("heading", name="Models", level=1)).to_be_visible()
    page.route("**/api/**", lambda route: route.abort("connectionrefused"))
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("alert")).to_contain_text("could not be reached")
    expect(page.get_by_role("heading", level=1)).to_have_text("Runs")


def test_an_unexpected_server_error_shows_its_message(page, server):
    page.route(
        lambda url: "/api/model_runs" in url,
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"error": "database_unavailable", "error_description": "the database cannot be reached", "detail": "the database cannot be reached"}',
        ),
    )
    page.goto(f"{server.url}/#/runs")
    expect(page.get_by_role("alert")).to_contain_text("Database unavailable: the database cannot be reached")
