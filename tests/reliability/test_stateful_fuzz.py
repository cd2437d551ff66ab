"""Schemathesis's stateful mode: sequences of requests that follow the schema's OpenAPI links
(gemini/rest_api/openapi_links.py), e.g. create a model, start a run of it, log metrics to the run, read
their history, end the run, end it again. Each answer must be no 5xx and match the schema (status,
content type, body). No token.

Each scenario starts on a fresh SQLite registry (a copy of one migrated file): Hypothesis replays the
beginnings of earlier scenarios to explore from them and replays a failing one to report it, and on a
registry that earlier scenarios changed a replay gets other answers (200 instead of 201 for a name taken
meanwhile), takes other steps and ends in FlakyStrategyDefinition instead of the defect.

Only the links the schema declares are followed (schemathesis's own link inference is off), so that this
test is about them and cannot pass with none: it checks that every declared link became a transition and
that the run followed many of them."""

import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gemini.db.engine import dispose_engines, get_engine
from gemini.rest_api.app import create_app
from gemini.rest_api.openapi_links import declared_link_count

TEMPLATE = "template.db"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

MAX_EXAMPLES = 30
STEPS = 10
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    phases=[Phase.generate],  # no shrinking: each try replays HTTP scenarios, up to 5 minutes of them
    database=None,
    suppress_health_check=list(HealthCheck),
)

app = create_app()
# Without schemathesis's inferred links (it infers some 330 on this schema): only the declared ones.
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"with-security-parameters": False},
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """The generated state machine, counting what it does and checking each answer with ``CHECKS``."""

    calls = 0
    scenarios = 0
    followed: Counter[str] = Counter()
    directory: Path | None = None  # holds template.db; set by the fixture

    def setup(self) -> None:
        cls = type(self)
        assert cls.directory is not None, "needs the fresh_registries fixture"
        cls.scenarios += 1
        database = cls.directory / f"scenario-{cls.scenarios}.db"
        shutil.copyfile(cls.directory / TEMPLATE, database)
        os.environ["GEMINI_DATABASE_URL"] = f"sqlite:///{database}"  # monkeypatch restores it

    def teardown(self) -> None:
        dispose_engines()  # this scenario's connections

    def step(self, input):  # noqa: A002 (schemathesis's name)
        type(self).calls += 1
        if input.transition is not None and input.is_applied:
            type(self).followed[input.transition.id] += 1
        return super().step(input)

    def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
        __tracebackhide__ = True
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder)


def prepare_registries(directory: Path) -> None:
    """A migrated, empty registry ``directory/template.db`` that every scenario starts from a copy of."""
    dispose_engines()
    get_engine(f"sqlite:///{directory / TEMPLATE}")  # migrates it
    dispose_engines()  # the last connection closed: everything is in the file, no -wal left
    Workflow.directory = directory


@pytest.fixture
def fresh_registries(tmp_path, monkeypatch) -> Iterator[None]:
    for name in ("GEMINI_API_TOKEN", "GEMINI_REQUIRE_TOKEN_FOR_READS", "GEMINI_ARTIFACT_ROOT", "GEMINI_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{tmp_path / TEMPLATE}")
    prepare_registries(tmp_path)
    yield
    Workflow.directory = None
    dispose_engines()


def test_every_declared_link_is_a_transition():
    transitions = Workflow._transitions.operations
    assert schema.statistic.transitions.total == declared_link_count() > 0
    assert sum(len(entry.outgoing) for entry in transitions.values()) == declared_link_count()
    assert Workflow.root_rules, "no operation can start a scenario"


@pytest.mark.usefixtures("fresh_registries")
def test_stateful_sequences_follow_links():
    Workflow.calls, Workflow.scenarios, Workflow.followed = 0, 0, Counter()
    started = time.monotonic()
    case = Workflow.TestCase("runTest")
    case.settings = SETTINGS
    case.runTest()
    elapsed = time.monotonic() - started
    print(
        f"\nstateful: {Workflow.scenarios} scenarios, {Workflow.calls} requests, "
        f"{sum(Workflow.followed.values())} link steps over {len(Workflow.followed)} of "
        f"{declared_link_count()} links, {elapsed:.1f} s"
    )
    assert Workflow.scenarios >= MAX_EXAMPLES // 2
    # Links followed, not only scenario roots: many steps, over many different links.
    assert sum(Workflow.followed.values()) >= MAX_EXAMPLES
    assert len(Workflow.followed) >= 10
