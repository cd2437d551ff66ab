"""The page on a team server: a private server asks for a token before it shows anything; runs show their author."""

import contextlib
import uuid

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Server


@pytest.fixture(scope="session")
def private_server(tmp_path_factory, gemini_server):
    """A ``gemini serve --private`` process: reads need a token too."""
    token = f"t-{uuid.uuid4().hex}"
    database = f"sqlite:///{tmp_path_factory.mktemp('web-private') / 'web.db'}"
    with gemini_server(database, token=token, args=("--private",)) as served:
        yield Server(url=served.url, token=token, database_url=database)


def _user_token(server: Server, name: str, scope: str) -> str:
    with contextlib.closing(server.api()) as api:
        response = api.post("/tokens", json={"name": name, "scope": scope})
        assert response.status_code == 201, response.text
        return response.json()["token"]


def test_private_server_asks_for_a_token_then_reads(page, private_server):
    reader = _user_token(private_server, f"reader-{uuid.uuid4().hex[:6]}", "read")
    page.goto(f"{private_server.url}/#/runs")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("needs a token to read")
    expect(dialog).to_have_count(1)
    dialog.get_by_label("API token").fill(reader)
    dialog.get_by_role("button", name="Use token").click()
    expect(page.get_by_role("heading", name="Runs", level=1)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_run_page_shows_its_author(page, private_server):
    author = f"alice-{uuid.uuid4().hex[:6]}"
    writer = _user_token(private_server, author, "write")
    with contextlib.closing(private_server.api()) as api:
        run = api.post(
            "/model_runs", json={"model_run_info": {"x": 1}}, headers={"Authorization": f"Bearer {writer}"}
        ).json()
    page.goto(f"{private_server.url}/#/runs/{run['id']}")
    page.get_by_role("dialog").get_by_label("API token").fill(writer)
    page.get_by_role("dialog").get_by_role("button", name="Use token").click()
    expect(page.locator("#run-created-by")).to_have_text(author)
