"""``created_by`` in ``where`` and ``order_by``: the author of a run, a text field like ``model.name``."""

import pytest

from gemini.registry import registry
from gemini.domain.errors import InvalidInputError


@pytest.fixture
def runs(db) -> dict[str, list]:
    made: dict[str, list] = {"alice": [], "bob": [], None: []}
    for number in range(3):
        for author in made:
            made[author].append(registry().create_run(model_run_info={"n": number, "by": str(author)}, created_by=author)[0].id)
    return made


def _ids(where: str, **options) -> list:
    return [run.id for run in registry().search_runs(where=where, **options).items]


def test_equality(runs):
    assert _ids('created_by = "alice"') == runs["alice"]


def test_in_and_not_equal(runs):
    assert sorted(_ids("created_by in ('alice', 'bob')")) == sorted(runs["alice"] + runs["bob"])
    assert sorted(_ids("created_by != 'alice'")) == sorted(runs["bob"])


def test_glob_and_prefix(runs):
    assert _ids("created_by glob 'b*'") == runs["bob"]
    assert _ids("created_by startswith 'al'") == runs["alice"]


def test_exists_means_an_author(runs):
    assert sorted(_ids("exists(created_by)")) == sorted(runs["alice"] + runs["bob"])
    assert _ids("not exists(created_by)") == runs[None]


def test_combined_with_info_and_counted(runs):
    assert _ids("created_by = 'bob' and n >= 1") == runs["bob"][1:]
    assert registry().count_runs(where="created_by = 'bob'") == 3


def test_order_by_author(runs):
    ordered = [run.created_by for run in registry().search_runs(order_by="-created_by", where="exists(created_by)").items]
    assert ordered == ["bob"] * 3 + ["alice"] * 3


def test_a_number_is_refused(runs):
    with pytest.raises(InvalidInputError, match="created_by is compared with a quoted string"):
        registry().search_runs(where="created_by = 3")


def test_a_quoted_key_still_reaches_the_info(db):
    registry().create_run(model_run_info={"created_by": "carol"}, created_by="alice")
    assert len(_ids("`created_by` = 'carol'")) == 1
    assert _ids("created_by = 'carol'") == []
