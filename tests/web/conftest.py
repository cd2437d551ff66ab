"""End-to-end fixtures: a real ``gemini serve`` on a free loopback port and Debian's Chromium under Playwright.

The browser is the system one (``/usr/bin/chromium``, or ``GEMINI_TEST_CHROMIUM``); nothing is downloaded.
Without it the tests are skipped with the reason, except under ``CI=true``, where that is a failure.
Screenshots of every page go to ``test-artifacts/web/``.
"""

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("GEMINI_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


def browser_unavailable(reason: str) -> None:
    message = f"{reason}; install it with `make browser` (Debian: apt-get install -y chromium) to run the web tests."
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class Server:
    url: str
    token: str | None
    database_url: str

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=f"{self.url}/api", headers=headers, timeout=10)


@contextlib.contextmanager
def web_server(gemini_server, tmp_path: Path, token: str | None = None) -> Iterator[Server]:
    """A ``gemini serve`` process on a SQLite file of its own in ``tmp_path``."""
    database_url = f"sqlite:///{tmp_path / 'web.db'}"
    with gemini_server(database_url, token=token) as served:
        yield Server(url=served.url, token=token, database_url=database_url)


@pytest.fixture(scope="session")
def server(tmp_path_factory, gemini_server) -> Iterator[Server]:
    """A ``gemini serve`` process without a write token, on its own SQLite file."""
    with web_server(gemini_server, tmp_path_factory.mktemp("web-server")) as served:
        yield served


@pytest.fixture(scope="session")
def token_server(tmp_path_factory, gemini_server) -> Iterator[Server]:
    """A ``gemini serve`` process that needs ``Authorization: Bearer`` on writes."""
    token = f"t-{uuid.uuid4().hex}"
    with web_server(gemini_server, tmp_path_factory.mktemp("web-token-server"), token=token) as served:
        yield served


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        browser_unavailable(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_unavailable("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh tab (own sessionStorage) that fails the test on any uncaught script error."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"uncaught script errors in the page: {errors}"


@pytest.fixture
def screenshot(page):
    """``screenshot("runs")`` saves the whole page as test-artifacts/web/runs.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def model_name() -> str:
    """A model name of this test's own, so tests sharing one server do not see each other's data."""
    return f"detector-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def api(server) -> Iterator[httpx.Client]:
    """An HTTP client of the REST API, to set up data and to check what the page wrote."""
    with server.api() as client:
        yield client


@pytest.fixture
def make_runs(api, model_name):
    """Create this test's model and one run per info through the REST API; returns the runs' ids."""

    def make(infos: list[dict]) -> list[str]:
        api.post("/models", json={"model_name": model_name}).raise_for_status()
        ids = []
        for info in infos:
            response = api.post("/model_runs", json={"model_name": model_name, "model_run_info": info})
            response.raise_for_status()
            ids.append(response.json()["id"])
        return ids

    return make
