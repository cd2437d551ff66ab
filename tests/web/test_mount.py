"""How the app serves the page: without a browser, through the ASGI app itself."""

import re

import pytest
from fastapi.testclient import TestClient

from gemini.rest_api.app import create_app
from gemini.web import STATIC_DIR


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as test_client:
        yield test_client


def test_the_page_is_served_at_the_root(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/app.js">' in response.text


@pytest.mark.parametrize("path", sorted(p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js")))
def test_every_module_is_served_as_javascript(client, path):
    response = client.get(f"/web/{path}")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]


def test_every_import_names_a_file_that_exists():
    for module in STATIC_DIR.rglob("*.js"):
        for target in re.findall(r'^import .* from "(\.[^"]+)";', module.read_text(), flags=re.MULTILINE):
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports a missing {target}"


REMOTE = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|(from|import\(|@import)\s*["'](https?:)?//""")


def test_nothing_is_loaded_from_elsewhere():
    for asset in STATIC_DIR.rglob("*"):
        if asset.is_file():
            assert not REMOTE.search(asset.read_text()), f"{asset.name} loads something from another site"


def test_the_page_is_not_part_of_the_api_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith("/web") for path in paths)


def test_an_unknown_asset_is_404(client):
    assert client.get("/web/nothing-here.js").status_code == 404


def test_the_page_preloads_every_module():
    page = (STATIC_DIR / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/web/([^"]+)">', page))
    modules = {p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js")} - {"app.js"}
    assert preloaded == modules
