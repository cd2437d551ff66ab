"""Several ``gemini serve`` processes, one registry: two real servers on one PostgreSQL database, each
on its own port with its own local directories (as on two machines), both requiring tokens. What one
server is told, the other answers from the very next request: runs, metric histories, revocations."""

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from gemini.api.model_run import ModelRun
from gemini.remote import http
from tests.conftest import running_gemini_server
from tests.s3_support import new_root

pytestmark = [pytest.mark.postgresql, pytest.mark.remote]

ADMIN_TOKEN = "several-servers-admin-token"


@dataclass(frozen=True)
class TwoServers:
    a: str
    b: str
    writer_token: str
    """A per-user ``write`` token, made through ``a``."""


@pytest.fixture(scope="module")
def servers(new_postgres_database, tmp_path_factory, s3_server) -> Iterator[TwoServers]:
    """Two private servers (``--private``: reads need a token too) with the same admin token, started at
    the same moment on one fresh PostgreSQL database (both find it empty, and both must come up), their
    artifacts in one bucket. Each has a directory of its own for its spool and log."""
    database_url = new_postgres_database()
    bucket = {**s3_server.environment, "GEMINI_ARTIFACT_ROOT": new_root()}
    starting = []
    for name in ("a", "b"):
        directory = tmp_path_factory.mktemp(f"server-{name}")
        starting.append(
            running_gemini_server(
                database_url=database_url,
                log_path=directory / "serve.log",
                token=ADMIN_TOKEN,
                args=("--private",),
                settings=bucket,
            )
        )
    with contextlib.ExitStack() as stack:
        with ThreadPoolExecutor(len(starting)) as pool:
            entered = [pool.submit(context.__enter__) for context in starting]
        for context, future in zip(starting, entered):
            if future.exception() is None:
                stack.push(context)  # stopped at the end even when the other one failed to start
        a, b = (future.result().url for future in entered)
        with _client(a, ADMIN_TOKEN) as admin:
            created = admin.post("/api/tokens", json={"name": "alice", "scope": "write"})
            assert created.status_code == 201, created.text
        yield TwoServers(a=a, b=b, writer_token=created.json()["token"])


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def through(servers) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """A client of each server, both with the writer's token."""
    with _client(servers.a, servers.writer_token) as a, _client(servers.b, servers.writer_token) as b:
        yield a, b


def test_a_run_created_through_one_server_is_read_updated_and_found_through_the_other(through):
    a, b = through
    info = {"params": {"lr": 0.01}, "data": {"site": "Davis"}}
    created = a.post("/api/model_runs", json={"model_name": "detector", "model_run_info": info})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]

    read = b.get(f"/api/model_runs/{run_id}")
    assert read.status_code == 200
    assert read.json()["model_run_info"] == info and read.json()["model_name"] == "detector"
    assert read.json()["created_by"] == "alice"

    scored = {**info, "metrics": {"map50": 0.84}}
    assert b.patch(f"/api/model_runs/{run_id}", json={"model_run_info": scored}).status_code == 200
    assert a.get(f"/api/model_runs/{run_id}").json()["model_run_info"] == scored

    found = b.get("/api/model_runs", params={"model_name": "detector", "where": "metrics.map50 > 0.8"})
    assert found.status_code == 200
    assert [run["id"] for run in found.json()] == [run_id] and found.headers["X-Total-Count"] == "1"
    # Creates are get-or-create across servers too: the same info through B is A's run.
    again = b.post("/api/model_runs", json={"model_name": "detector", "model_run_info": scored})
    assert again.status_code == 200 and again.json()["id"] == run_id


def test_metric_batches_sent_alternately_through_both_servers_make_one_history(through):
    a, b = through
    started = a.post("/api/model_runs/start", json={"model_name": "stand_counter"})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    batches = [
        {"batch_id": f"alternate-{number}", "keys": ["loss"] * 5, "steps": list(range(5 * number, 5 * number + 5)),
         "values": [float(step) for step in range(5 * number, 5 * number + 5)]}
        for number in range(8)
    ]
    for number, batch in enumerate(batches):
        sent = (a, b)[number % 2].post(f"/api/model_runs/{run_id}/metrics", json=batch)
        assert sent.status_code == 200 and sent.json()["written"] is True, sent.text
    # A batch sent again through the other server (a client retrying elsewhere) is stored once.
    repeated = b.post(f"/api/model_runs/{run_id}/metrics", json=batches[0])
    assert repeated.status_code == 200 and repeated.json()["written"] is False

    for client in (a, b):
        history = client.get(f"/api/model_runs/{run_id}/metrics/loss").json()
        assert [point["step"] for point in history] == list(range(40))
        assert [point["value"] for point in history] == [float(step) for step in range(40)]
    summary = b.get(f"/api/model_runs/{run_id}/metrics").json()
    assert summary == a.get(f"/api/model_runs/{run_id}/metrics").json()
    assert len(summary) == 1 and summary[0]["count"] == 40


def test_metric_batches_sent_at_once_through_both_servers_lose_no_point(through):
    """One writer per server at the same time, their steps interleaved (each batch rewrites steps before
    the other's last): every point is kept once and the summary agrees with the history."""
    a, b = through
    run_id = a.post("/api/model_runs/start", json={"model_name": "stand_counter"}).json()["id"]
    begin = threading.Barrier(2)
    failures: list[str] = []

    def write(client: httpx.Client, parity: int) -> None:
        begin.wait()
        for number in range(20):
            steps = [10 * number + 2 * offset + parity for offset in range(5)]
            batch = {"batch_id": f"writer-{parity}-{number}", "keys": ["loss"] * 5, "steps": steps,
                     "values": [step / 100 for step in steps]}
            sent = client.post(f"/api/model_runs/{run_id}/metrics", json=batch)
            if sent.status_code != 200:
                failures.append(sent.text)

    writers = [threading.Thread(target=write, args=(client, parity)) for parity, client in enumerate((a, b))]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert failures == []

    history = b.get(f"/api/model_runs/{run_id}/metrics/loss").json()
    assert [point["step"] for point in history] == list(range(200))
    assert [point["value"] for point in history] == [step / 100 for step in range(200)]
    (summary,) = a.get(f"/api/model_runs/{run_id}/metrics").json()
    assert (summary["count"], summary["min"], summary["max"], summary["last"]) == (200, 0.0, 1.99, 1.99)


@pytest.mark.parametrize("revoked_on", ["a", "b"])
def test_a_token_revoked_through_one_server_is_refused_by_the_other_on_its_next_request(servers, revoked_on):
    here, there = (servers.a, servers.b) if revoked_on == "a" else (servers.b, servers.a)
    name = f"bob-{revoked_on}"
    with _client(here, ADMIN_TOKEN) as admin:
        made = admin.post("/api/tokens", json={"name": name, "scope": "write"})
        assert made.status_code == 201, made.text
        with _client(there, made.json()["token"]) as bob:
            # Known to the other server at once, and used there, so that anything it remembers of the
            # token would be remembered by now.
            assert bob.get("/api/models").status_code == 200
            assert bob.post("/api/models", json={"model_name": f"bobs-{revoked_on}"}).status_code == 201

            assert admin.post(f"/api/tokens/{name}/revoke").status_code == 200
            refused = bob.get("/api/models")
            assert refused.status_code == 401
            assert refused.json()["detail"] == f"the token {name!r} was revoked"
            assert bob.post("/api/models", json={"model_name": f"more-{revoked_on}"}).status_code == 401
        with _client(here, made.json()["token"]) as bob_here:
            assert bob_here.get("/api/models").status_code == 401


@pytest.fixture
def python_client(servers, monkeypatch, tmp_path) -> Iterator[TwoServers]:
    """The Python API configured as a training node: the writer's token and a spool of its own; which
    server it talks to is the test's to choose (``GEMINI_API_URL``)."""
    monkeypatch.setenv("GEMINI_API_TOKEN", servers.writer_token)
    monkeypatch.setenv("GEMINI_SPOOL_PATH", str(tmp_path / "client" / "spool.sqlite"))
    yield servers
    http.close_all()


def test_the_python_api_alternating_between_the_servers_works_on_one_registry(python_client, monkeypatch):
    servers = python_client

    def use(url: str) -> None:
        monkeypatch.setenv("GEMINI_API_URL", url)

    use(servers.a)
    run = ModelRun.create(model_run_info={"params": {"lr": 0.01}}, model_name="yield_predictor")
    assert run is not None
    use(servers.b)
    assert ModelRun.get({"params": {"lr": 0.01}}, model_name="yield_predictor").id == run.id
    assert run.set_info({"params": {"lr": 0.01}, "metrics": {"rmse": 0.2}}) is not None
    use(servers.a)
    assert [found.id for found in ModelRun.search(where="metrics.rmse < 0.5", model_name="yield_predictor")] == [run.id]
    assert ModelRun.get_by_id(run.id).model_run_info == {"params": {"lr": 0.01}, "metrics": {"rmse": 0.2}}

    # A tracked run started through A whose batches go alternately to A and B, and whose end goes to B.
    with ModelRun.track(model_run_info={"params": {"lr": 0.02}}, model_name="yield_predictor") as tracked:
        for step in range(6):
            use((servers.a, servers.b)[step % 2])
            tracked.log_metrics({"rmse": 1 / (step + 1)}, step=step)
            assert tracked.flush()
        use(servers.b)
    assert tracked.status == "finished"
    use(servers.a)
    assert ModelRun.get_by_id(tracked.id).status == "finished"
    assert [point["value"] for point in tracked.get_metric_history("rmse")] == [1 / (step + 1) for step in range(6)]
    use(servers.b)
    assert ModelRun.count(model_name="yield_predictor") == 2


def test_an_artifact_stored_through_one_server_is_read_through_the_other(through):
    """Streamed through A's upload route into the shared bucket, read back through B's download route;
    and a presigned exchange begun on B is recorded on A."""
    a, b = through
    run_id = a.post("/api/model_runs/start", json={"model_name": "detector"}).json()["id"]
    weights = b"weights of epoch 12" * 1000
    stored = a.put(f"/api/model_runs/{run_id}/artifacts/weights/best.pt", content=weights)
    assert stored.status_code == 201, stored.text
    read = b.get(f"/api/model_runs/{run_id}/artifacts/weights/best.pt")
    assert read.status_code == 200 and read.content == weights

    plot = b"png bytes"
    blob = {"name": "plots/pr.png", "sha256": hashlib.sha256(plot).hexdigest(), "size": len(plot)}
    [offer] = b.post(f"/api/model_runs/{run_id}/artifact_uploads", json={"artifacts": [blob]}).json()
    upload = offer["upload"]
    assert httpx.request(upload["method"], upload["url"], headers=upload["headers"], content=plot).status_code == 200
    assert a.post(f"/api/model_runs/{run_id}/artifact_records", json={"artifacts": [blob]}).status_code == 200
    link = b.get(f"/api/model_runs/{run_id}/artifact_links/plots/pr.png").json()
    assert link["artifact"]["sha256"] == blob["sha256"]
    assert httpx.get(link["download"]["url"]).content == plot
