"""The alias rule and the reference parser of ``gemini.domain.checks``, pure."""

import pytest

from gemini.domain.checks import check_alias, parse_version_reference
from gemini.domain.errors import InvalidInputError


@pytest.mark.parametrize("alias", ["a", "Z", "production", "Prod-2024_v1", "x" * 64, "latest2", "Latest"])
def test_aliases(alias):
    assert check_alias(alias) == alias


@pytest.mark.parametrize(
    "alias, words",
    [
        ("latest", "reserved"),
        ("3", "is a number"),
        ("0042", "is a number"),
        ("", "must not be empty"),
        ("x" * 65, "at most 64"),
        ("1st", "starting with a letter"),
        ("-x", "starting with a letter"),
        ("_x", "starting with a letter"),
        ("a b", "not an alias"),
        ("a/b", "not an alias"),
        ("a@b", "not an alias"),
        ("a.b", "not an alias"),
        ("prodé", "not an alias"),
        ("ｐｒｏｄ", "not an alias"),  # full-width letters are not ASCII
        ("prod\n", "not an alias"),
        ("٣", "is a number"),  # an Arabic-Indic digit: refused either way
        (None, "must be a string"),
        (3, "must be a string"),
    ],
)
def test_what_is_no_alias(alias, words):
    with pytest.raises(InvalidInputError, match=words):
        check_alias(alias)


@pytest.mark.parametrize(
    "reference, parsed",
    [
        ("stand_counter@production", ("stand_counter", None, "production")),
        ("stand_counter@3", ("stand_counter", 3, None)),
        ("stand_counter@latest", ("stand_counter", None, "latest")),
        ("team@site/counter@7", ("team@site/counter", 7, None)),  # the name is what comes before the last @
        ("stand counter@v2", ("stand counter", None, "v2")),
    ],
)
def test_references(reference, parsed):
    assert parse_version_reference(reference) == parsed


@pytest.mark.parametrize(
    "reference, words",
    [
        ("stand_counter", "not a version reference"),
        ("stand_counter@", "not a version reference"),
        ("@3", "not a version reference"),
        ("stand_counter@0", "between 1 and"),
        ("stand_counter@" + "9" * 5000, "between 1 and"),
        ("stand_counter@-1", "starting with a letter"),
        ("stand_counter@bad alias", "not an alias"),
        (" @3", "must not be empty"),
        (None, "must be a string"),
    ],
)
def test_what_is_no_reference(reference, words):
    with pytest.raises(InvalidInputError, match=words):
        parse_version_reference(reference)
