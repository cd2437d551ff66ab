"""The contract is the one list of registry operations: both transports implement every one of them with
the contract's exact signature, the checking front offers each under the same keywords, and the server
serves every route the contract declares."""

import inspect
import re
import types

import pytest

from gemini.core.transport import DatabaseRegistry
from gemini.registry.contract import Registry, implementation, operation_names, route_of
from gemini.registry.front import CheckedRegistry
from gemini.remote.transport import HttpRegistry

OPERATIONS = operation_names()


def contract_signature(name: str) -> inspect.Signature:
    signature = inspect.signature(getattr(Registry, name))
    return signature.replace(parameters=list(signature.parameters.values())[1:])  # without self


def differences(transport: type, name: str) -> str | None:
    """How ``transport.<name>`` differs from the contract's, ``None`` when it does not."""
    found = getattr(transport, name, None)
    if found is None or getattr(found, "__isabstractmethod__", False):
        return f"{transport.__name__} lacks {name}"
    implemented = inspect.signature(found)
    expected = contract_signature(name)
    if [(p.name, p.kind, p.default) for p in implemented.parameters.values()] != [
        (p.name, p.kind, p.default) for p in expected.parameters.values()
    ]:
        return f"{transport.__name__}.{name}{implemented} is not the contract's {name}{expected}"
    return None


def test_the_contract_lists_every_operation_once():
    assert len(OPERATIONS) == len(set(OPERATIONS)) > 40


@pytest.mark.parametrize("transport", [DatabaseRegistry, HttpRegistry], ids=lambda t: t.__name__)
@pytest.mark.parametrize("name", OPERATIONS)
def test_each_transport_implements_the_operation_with_the_contracts_signature(transport, name):
    assert differences(transport, name) is None
    transport()  # nothing left abstract


@pytest.mark.parametrize("name", OPERATIONS)
def test_the_front_offers_each_operation_under_the_same_keywords(name):
    front = inspect.signature(getattr(CheckedRegistry, name))
    names = [(p.name, p.kind) for p in list(front.parameters.values())[1:]]
    contract = contract_signature(name)
    expected = {(p.name, p.kind) for p in contract.parameters.values()}
    # The front takes what callers have: the contract's arguments, or the parts a checked one is made of
    # (a search's filters and page instead of its query and page request).
    if {"query", "page"} & {p.name for p in contract.parameters.values()}:
        expected -= {("query", inspect.Parameter.KEYWORD_ONLY), ("page", inspect.Parameter.KEYWORD_ONLY)}
        # A page request becomes its parts; a stream's limit and offset are the contract's own.
        paged = {"limit", "offset", "with_total"} if "page" in contract.parameters else {"limit", "offset"}
        assert paged <= {n for n, _ in names}
    assert expected <= set(names), f"CheckedRegistry.{name}{front} lacks some of {name}{contract}"


def test_a_transport_without_an_operation_is_refused_when_it_is_bound():
    module = types.ModuleType("incomplete")
    with pytest.raises(TypeError, match="lacks create_model"):
        implementation("Incomplete", "incomplete", [module], "")


def test_a_signature_that_differs_is_reported():
    def get_run(*, run_id, extra=None):  # noqa: ANN001, ANN202
        raise AssertionError

    module = types.ModuleType("drifted")
    module.get_run = get_run
    get_run.__module__ = "drifted"
    bound = type("Drifted", (Registry,), {"get_run": staticmethod(get_run)})
    assert "is not the contract's" in differences(bound, "get_run")
    assert differences(bound, "create_run") == "Drifted lacks create_run"


def test_every_declared_route_is_served():
    from gemini.rest_api.app import create_app

    # The OpenAPI document lists every served route, however the routers are included.
    served = {
        (method.upper(), re.sub(r"\{(\w+):path\}", r"{\1}", path))
        for path, operations in create_app().openapi()["paths"].items()
        for method in operations
    }
    missing = [
        (name, declared)
        for name in OPERATIONS
        if (declared := route_of(name)) is not None and (declared.method, f"/api{declared.path}") not in served
    ]
    assert missing == []
