"""deploy/docker-compose.yml, read as docker compose would read it (no Docker needed): the services of the
lab setup (docs/deploy.md), how they find one another, the order they start in, and settings that exist."""

import re
import shlex
import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from gemini.config import Settings
from gemini.rest_api.http_limits import HEAD_TIMEOUT_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
GEMINI_SERVERS = ("gemini-a", "gemini-b")
# Settings' fields, and the one variable the HTTP layer reads for itself.
REAL_SETTINGS = {f"GEMINI_{name.upper()}" for name in Settings.model_fields} | {
    "GEMINI_ARTIFACT_ROOT",
    HEAD_TIMEOUT_VARIABLE,
}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@cache
def example_environment() -> dict[str, str]:
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def interpolated(text: str) -> str:
    """``text`` with ``${VAR...}`` replaced as compose would, from deploy/.env.example (a default where
    the example leaves a value empty, ``x`` for a required one)."""

    def value(match: re.Match) -> str:
        name, kind, default = match.groups()
        return example_environment().get(name) or (default if kind and kind.endswith("-") else "x")

    return INTERPOLATION.sub(value, text)


def environment(service: dict) -> dict[str, str]:
    found = service.get("environment", {})
    if isinstance(found, list):
        found = dict(item.split("=", 1) for item in found)
    return {key: interpolated(str(value)) for key, value in found.items()}


def command(service: dict) -> list[str]:
    found = service.get("command", [])
    return shlex.split(found) if isinstance(found, str) else [str(part) for part in found]


def listening_port(service: dict) -> int:
    arguments = command(service)
    return int(arguments[arguments.index("--port") + 1])


def published_host_ports(service: dict) -> list[str]:
    # "127.0.0.1:7777:7777" or "7777:7777": the host's port is the part before the container's
    return [str(mapping).rsplit(":", 1)[0].rsplit(":", 1)[-1] for mapping in service.get("ports", [])]


def test_the_lab_services_are_all_there(services):
    assert {"postgres", "minio", "bucket", "migrate", *GEMINI_SERVERS, "proxy"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert "minio/minio" in services["minio"]["image"]
    assert "minio/mc" in services["bucket"]["image"]
    assert services["proxy"]["image"].startswith("caddy:")


@pytest.mark.parametrize("name", GEMINI_SERVERS)
def test_each_server_runs_gemini_serve_from_the_deploy_image(services, name):
    service = services[name]
    assert command(service)[:2] == ["gemini", "serve"]
    assert (ROOT / "deploy" / service["build"]["context"]).resolve() == ROOT
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    # Beyond loopback gemini serve refuses to start without its admin token; reads need tokens too.
    assert command(service)[command(service).index("--host") + 1] == "0.0.0.0"
    assert environment(service)["GEMINI_API_TOKEN"] and "--private" in command(service)


@pytest.mark.parametrize("name", GEMINI_SERVERS)
def test_each_server_uses_the_postgres_service_as_its_database(services, name):
    url = make_url(environment(services[name])["GEMINI_DATABASE_URL"])
    postgres = environment(services["postgres"])
    assert url.get_backend_name() == "postgresql" and url.drivername == "postgresql+psycopg"
    assert (url.host, url.port) == ("postgres", 5432)
    assert (url.username, url.database) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])
    assert url.password == postgres["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("name", GEMINI_SERVERS)
def test_each_server_keeps_its_blobs_in_the_minio_bucket(services, name):
    server = environment(services[name])
    root = server["GEMINI_ARTIFACT_ROOT"]
    assert root.startswith("s3://")
    bucket = root.removeprefix("s3://").split("/")[0]
    assert f"lab/{bucket}" in " ".join(command(services["bucket"])), "the one-shot bucket service makes it"
    endpoint = urlsplit(server["AWS_ENDPOINT_URL"])
    assert (endpoint.hostname, endpoint.port) == ("minio", 9000)
    assert "9000" in published_host_ports(services["minio"]), "clients reach the bucket through presigned URLs"
    assert server["AWS_SECRET_ACCESS_KEY"] and server["AWS_DEFAULT_REGION"]


@pytest.mark.parametrize("name", GEMINI_SERVERS)
def test_each_server_has_a_bucket_user_of_its_own_not_the_root_one(services, name):
    key = services[name]["environment"]["AWS_ACCESS_KEY_ID"]
    assert key != environment(services["minio"])["MINIO_ROOT_USER"]
    assert f"mc admin user add lab {key} " in " ".join(command(services["bucket"]))
    assert "MINIO_ROOT" not in services[name]["environment"]["AWS_SECRET_ACCESS_KEY"]


def test_the_servers_have_the_same_database_bucket_and_admin_token(services):
    settings = [environment(services[name]) for name in GEMINI_SERVERS]
    for variable in ("GEMINI_DATABASE_URL", "GEMINI_ARTIFACT_ROOT", "GEMINI_API_TOKEN", "AWS_ENDPOINT_URL"):
        assert len({server[variable] for server in settings}) == 1, variable


def test_the_servers_listen_and_are_published_on_distinct_ports(services):
    ports = [listening_port(services[name]) for name in GEMINI_SERVERS]
    assert len(set(ports)) == len(ports)
    published = [port for name in GEMINI_SERVERS for port in published_host_ports(services[name])]
    assert len(set(published)) == len(published)
    every_published = [port for service in services.values() for port in published_host_ports(service)]
    assert len(set(every_published)) == len(every_published)


@pytest.mark.parametrize("name", GEMINI_SERVERS)
def test_each_server_checks_its_own_health_endpoint(services, name):
    test = " ".join(services[name]["healthcheck"]["test"])
    assert f"127.0.0.1:{listening_port(services[name])}/api/health" in test


def test_services_start_once_what_they_need_is_ready(services):
    for name in ("postgres", "minio"):
        assert services[name]["healthcheck"]["test"], f"{name} says when it is ready"
    for name in GEMINI_SERVERS:
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "minio": {"condition": "service_healthy"},
            "bucket": {"condition": "service_completed_successfully"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    assert services["bucket"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert command(services["migrate"]) == ["gemini", "db", "upgrade"]
    assert services["migrate"]["restart"] == services["bucket"]["restart"] == "no"
    assert services["proxy"]["depends_on"] == {name: {"condition": "service_healthy"} for name in GEMINI_SERVERS}


def test_the_start_order_has_no_cycle(services):
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name in services, f"depends on a service that does not exist: {name}"
        assert name not in visiting, f"a cycle through {name}"
        if name in done:
            return
        visiting.add(name)
        for needed in services[name].get("depends_on", {}):
            visit(needed)
        visiting.discard(name)
        done.add(name)

    for name in services:
        visit(name)


def test_the_proxy_spreads_requests_over_every_server(services):
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    mounted = [volume for volume in services["proxy"]["volumes"] if volume.startswith("./Caddyfile:")]
    assert mounted == ["./Caddyfile:/etc/caddy/Caddyfile:ro"]
    (upstreams,) = re.findall(r"reverse_proxy\s+([^{\n]+)", caddyfile)
    assert sorted(upstreams.split()) == sorted(f"{name}:{listening_port(services[name])}" for name in GEMINI_SERVERS)
    assert "health_uri /api/health" in caddyfile


def test_the_dockerfile_installs_the_project_with_its_server_extra():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "server" in project["optional-dependencies"]
    (install,) = re.findall(r"pip install [^&\n]*", dockerfile)
    targets = [word.strip("\"'") for word in shlex.split(install)[2:] if not word.startswith("-")]
    assert targets in ([".[server]"], [f"{project['name']}[server]"])
    for source in re.findall(r"^COPY\s+(.+?)\s+\S+$", dockerfile, flags=re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"COPY {path}: not in the build context"


def test_every_gemini_variable_named_is_a_real_setting():
    for path in (COMPOSE_FILE, DEPLOY / ".env.example", DEPLOY / "Dockerfile", ROOT / "docs" / "deploy.md"):
        named = set(re.findall(r"\bGEMINI_[A-Z0-9_]+", path.read_text()))
        assert named - REAL_SETTINGS == set(), path.name


def test_every_required_variable_is_in_the_example_environment():
    required = {name for name, kind, _ in INTERPOLATION.findall(COMPOSE_FILE.read_text()) if kind.endswith("?")}
    assert required and required <= set(example_environment())
