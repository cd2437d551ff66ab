"""/docs and /redoc load nothing from another site: their scripts, styles and icon are the registry's own."""

import re

import pytest
from fastapi.testclient import TestClient

from gemini.rest_api.app import create_app

DOC_PAGES = ("/docs", "/redoc")
# Every URL a page makes the browser load: scripts, style sheets, icons, the schema.
LOADED = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"|\burl:\s*'([^']+)'|\bspec-url="([^"]+)\"""")
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


def loaded_urls(page: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in LOADED.finditer(page)]


@pytest.mark.parametrize("path", DOC_PAGES)
def test_a_docs_page_loads_only_same_origin_urls(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = loaded_urls(response.text)
    assert "/openapi.json" in urls
    assert any(url.endswith(".js") for url in urls), urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{path} loads {url} from another site"
    assert "https://" not in response.text and "http://" not in response.text


@pytest.mark.parametrize("path", DOC_PAGES)
def test_every_asset_a_docs_page_loads_is_served_with_its_content_type(client, path):
    for url in loaded_urls(client.get(path).text):
        if url == "/openapi.json":
            continue
        asset = client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[suffix]), (url, asset.headers["content-type"])
        assert len(asset.content) > 1000, url  # the real file, not an error page


def test_swagger_ui_is_a_version_that_renders_the_openapi_3_1_schema(client):
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    assert "openapi: 3.1.x" in bundle  # Swagger UI 4 names only 3.0.n and shows an empty page for 3.1


@pytest.mark.parametrize("path", DOC_PAGES)
def test_a_docs_page_tells_the_browser_to_load_from_the_registry_only(client, path):
    policy = dict(
        directive.strip().split(" ", 1) for directive in client.get(path).headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    for sources in policy.values():
        assert set(sources.split()) <= {"'self'", "'unsafe-inline'", "data:", "blob:"}, sources


def test_swagger_ui_asks_no_online_validator(client):
    assert '"validatorUrl": null' in client.get("/docs").text


def test_behind_a_path_prefix_every_url_carries_it():
    prefixed = TestClient(create_app(), root_path="/registry")
    for path in DOC_PAGES:
        urls = loaded_urls(prefixed.get(path).text)
        assert urls and all(url.startswith("/registry/") for url in urls), urls


def test_an_unknown_asset_is_404(client):
    assert client.get("/docs/assets/nothing-here.js").status_code == 404


def test_the_docs_pages_need_no_token_even_when_reads_do(client, monkeypatch):
    monkeypatch.setenv("GEMINI_API_TOKEN", "s3cret")
    monkeypatch.setenv("GEMINI_REQUIRE_TOKEN_FOR_READS", "true")
    assert client.get("/api/model_runs").status_code == 401
    for path in (*DOC_PAGES, "/docs/assets/swagger-ui-bundle.js", "/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_the_docs_pages_are_not_part_of_the_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(path.startswith(("/docs", "/redoc")) for path in paths)
