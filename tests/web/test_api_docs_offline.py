"""/docs and /redoc render in a browser that can reach nothing but the registry, as on a lab network."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect


@pytest.fixture
def offline_page(page, server):
    """The tab, with every request to another origin refused and remembered."""
    origin = urlsplit(server.url)
    elsewhere: list[str] = []

    def only_the_registry(route):
        target = urlsplit(route.request.url)
        if (target.scheme, target.netloc) == (origin.scheme, origin.netloc):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_the_registry)
    yield page
    assert elsewhere == [], f"the page asked for other sites: {elsewhere}"


def test_swagger_ui_renders_the_operations_offline(offline_page, server, screenshot):
    offline_page.goto(f"{server.url}/docs")
    expect(offline_page.locator(".swagger-ui .info .title")).to_contain_text("GEMINI model-run registry")
    operation = offline_page.locator(".opblock-summary-path", has_text="/api/model_runs").first
    expect(operation).to_be_visible()
    assert offline_page.locator(".opblock").count() > 20
    screenshot("api-docs-swagger-ui")


def test_redoc_renders_the_schema_offline(offline_page, server):
    offline_page.goto(f"{server.url}/redoc")
    expect(offline_page.locator("h1", has_text="GEMINI model-run registry")).to_be_visible(timeout=20_000)
    expect(offline_page.get_by_text("/api/model_runs").first).to_be_attached()
