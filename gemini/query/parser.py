"""A hand-written tokenizer and recursive-descent parser for ``where`` and ``order_by``.

Grammar (keywords are case-insensitive)::

    expression  := disjunction
    disjunction := conjunction ("or" conjunction)*
    conjunction := negation ("and" negation)*
    negation    := "not" negation | primary
    primary     := "(" expression ")" | "exists" "(" target ")" | predicate
    predicate   := target ( compare_op literal
                          | ["not"] "in" "(" literal ("," literal)* ")"
                          | "glob" string | "startswith" string
                          | "exists" )           # "target exists" is "exists(target)"
    compare_op  := "=" | "!=" | "<" | "<=" | ">" | ">="
    target      := key ("." key)*          # model.name, name, created_at, updated_at, status,
                                           # started_at, ended_at, created_by, version are run fields
                                           # (version only with exists); metric.<key> a metric's last value
                 | ("min" | "max" | "last") "(" "metric" "." key ("." key)* ")"
    key         := identifier | `quoted key`
    literal     := string | number | "true" | "false" | "null"

    order_by    := order_key ("," order_key)*
    order_key   := ["-"] target

Every error is an ``InvalidInputError`` saying what was expected and at which column (1-based).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gemini.query.ast import (
    FIELD_NAMES,
    METRIC_AGGREGATES,
    PRESENCE_FIELDS,
    METRIC_NAMESPACE,
    TIME_FIELDS,
    TEXT_FIELDS,
    And,
    Compare,
    Exists,
    Expression,
    Field,
    Glob,
    In,
    InfoPath,
    Metric,
    Not,
    Or,
    OrderKey,
    Prefix,
    Scalar,
    Target,
)
from gemini.domain.statuses import RUN_STATUSES
from gemini.domain.errors import InvalidInputError
from gemini.query.tokens import Token, error, tokenize

MAX_EXPRESSION_LENGTH = 10_000
"""Longest ``where``/``order_by`` text accepted, in characters."""

MAX_NESTING = 64
"""Deepest nesting of parentheses and ``not`` accepted."""

MAX_PATH_KEYS = 32


class _Parser:
    def __init__(self, text: str, source_name: str) -> None:
        if not isinstance(text, str):
            raise InvalidInputError(f"{source_name} must be a string, got {type(text).__name__}")
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise InvalidInputError(
                f"{source_name} is {len(text)} characters long; at most {MAX_EXPRESSION_LENGTH} are allowed"
            )
        self.source_name = source_name
        self.tokens = tokenize(text, source_name=source_name)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, value: object = None) -> bool:
        token = self.current
        return token.kind == kind and (value is None or token.value == value)

    def expect(self, kind: str, value: object, description: str) -> Token:
        if not self.at(kind, value):
            raise self.fail(f"expected {description}")
        return self.advance()

    def fail(self, expected: str, token: Token | None = None) -> InvalidInputError:
        token = token or self.current
        return error(f"{expected}, found {token.describe()}", token.column, self.source_name)

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise error(f"nested deeper than {MAX_NESTING} levels", self.current.column, self.source_name)

    # -- where -------------------------------------------------------------------------------------

    def expression(self) -> Expression:
        operands = [self.conjunction()]
        while self.at("keyword", "or"):
            self.advance()
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self) -> Expression:
        operands = [self.negation()]
        while self.at("keyword", "and"):
            self.advance()
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def negation(self) -> Expression:
        if self.at("keyword", "not"):
            self.advance()
            self.nest()
            operand = self.negation()
            self.depth -= 1
            return Not(operand)
        return self.primary()

    def primary(self) -> Expression:
        if self.at("punct", "("):
            self.advance()
            self.nest()
            inner = self.expression()
            self.depth -= 1
            self.expect("punct", ")", "')' or 'and'/'or'")
            return inner
        if self.at("keyword", "exists"):
            self.advance()
            self.expect("punct", "(", "'(' after exists")
            target = self.target()
            self.expect("punct", ")", "')' after the path in exists(...)")
            return Exists(target)
        if self.current.kind not in ("name", "key"):
            raise self.fail("expected a path, 'not', 'exists(' or '('")
        return self.predicate(self.target())

    def predicate(self, target: Target) -> Expression:
        token = self.current
        if self.at("keyword", "exists"):
            self.advance()
            return Exists(target)
        if isinstance(target, Field) and target.name in PRESENCE_FIELDS:
            raise error(
                f"{target} is tested with '{target} exists' or 'not {target} exists' "
                f"(quote it to reach the info key: `{target}`)",
                token.column,
                self.source_name,
            )
        if token.kind == "op":
            self.advance()
            value = self.literal(target)
            operator = token.value
            if operator in ("<", "<=", ">", ">=") and (value is None or isinstance(value, bool)):
                raise error(
                    f"{operator} needs a number, a string or a time, not {self.tokens[self.index - 1].text}",
                    self.tokens[self.index - 1].column,
                    self.source_name,
                )
            if isinstance(target, Field) and target.name == "status" and operator not in ("=", "!="):
                raise error("status is compared with =, !=, in or not in", token.column, self.source_name)
            return Compare(target, operator, value)
        if self.at("keyword", "in"):
            self.advance()
            return In(target, self.literal_list(target))
        if self.at("keyword", "not"):
            self.advance()
            self.expect("keyword", "in", "'in' after 'not' (to negate a comparison, put 'not' before the path)")
            return In(target, self.literal_list(target), negated=True)
        if self.at("keyword", "glob") or self.at("keyword", "startswith"):
            operator = self.advance().value
            if isinstance(target, Metric):
                raise error(f"{operator} applies to strings; {target} is a number", token.column, self.source_name)
            if isinstance(target, Field) and target.name == "status":
                raise error("status is compared with =, !=, in or not in", token.column, self.source_name)
            if isinstance(target, Field) and target.name not in TEXT_FIELDS:
                raise error(f"{operator} applies to strings; {target} is a time", token.column, self.source_name)
            pattern = self.expect("string", None, f"a quoted string after {operator}").value
            return Glob(target, pattern) if operator == "glob" else Prefix(target, pattern)
        raise self.fail(
            f"expected an operator after {target} (=, !=, <, <=, >, >=, in, not in, glob, startswith, exists)"
        )

    def literal_list(self, target: Target) -> tuple:
        self.expect("punct", "(", "'(' to open the list of values")
        values = [self.literal(target, in_list=True)]
        while self.at("punct", ","):
            self.advance()
            values.append(self.literal(target, in_list=True))
        self.expect("punct", ")", "',' or ')' in the list of values")
        return tuple(values)

    def literal(self, target: Target, *, in_list: bool = False) -> Scalar | dt.datetime:
        token = self.current
        if token.kind in ("string", "number"):
            self.advance()
            value = token.value
        elif token.kind == "keyword" and token.value in ("true", "false", "null"):
            self.advance()
            value = {"true": True, "false": False, "null": None}[token.value]
        else:
            raise self.fail("expected a value (a quoted string, a number, true, false or null)")
        if value is None and in_list:
            raise error("null is not allowed in a list of values; use '= null'", token.column, self.source_name)
        if isinstance(target, Field):
            return _field_value(target, value, token, self.source_name)
        if isinstance(target, Metric) and (isinstance(value, (bool, str)) or value is None):
            raise error(f"{target} is compared with a number", token.column, self.source_name)
        return value

    # -- shared ------------------------------------------------------------------------------------

    def target(self) -> Target:
        first = self.current
        if (
            first.kind == "name"
            and first.value.lower() in METRIC_AGGREGATES
            and self.tokens[self.index + 1].kind == "punct"
            and self.tokens[self.index + 1].value == "("
        ):
            self.advance()
            self.advance()
            inner = self.current
            target = self.target()
            if not isinstance(target, Metric) or target.aggregate != "last":
                raise error(
                    f"{first.value}(...) takes a metric, such as {first.value.lower()}(metric.loss)",
                    inner.column,
                    self.source_name,
                )
            self.expect("punct", ")", f"')' after {first.value}(metric...")
            return Metric(target.key, first.value.lower())
        keys = [self.key()]
        while self.at("punct", "."):
            self.advance()
            keys.append(self.key())
        if len(keys) > MAX_PATH_KEYS:
            raise error(f"a path may have at most {MAX_PATH_KEYS} keys", first.column, self.source_name)
        if first.kind == "name":
            dotted = ".".join(keys)
            if dotted in FIELD_NAMES:
                return Field(dotted)
            if keys[0] == METRIC_NAMESPACE:
                if len(keys) == 1:
                    raise self.fail("expected '.' and a metric key after metric (e.g. metric.loss)")
                return Metric(".".join(keys[1:]))
        return InfoPath(tuple(keys))

    def key(self) -> str:
        token = self.current
        if token.kind in ("name", "key"):
            self.advance()
            if any(char in '"\\' or ord(char) < 0x20 for char in token.value):
                # SQLite's JSON paths match keys as JSON writes them, and cannot spell these.
                raise error(
                    "keys containing a double quote, a backslash or a control character cannot be searched",
                    token.column,
                    self.source_name,
                )
            return token.value
        if token.kind == "keyword" and self.index > 0 and self.tokens[self.index - 1].text == ".":
            self.advance()  # after a dot every word is a key, even one spelled like a keyword
            return token.text
        raise self.fail("expected a key (a name, or a `quoted key`)")

    def finish(self) -> None:
        if not self.at("end"):
            raise self.fail("expected 'and', 'or' or the end of the expression")


def _field_value(field: Field, value: object, token: Token, source_name: str) -> object:
    if field.name in TEXT_FIELDS:
        if not isinstance(value, str):
            raise error(f"{field.name} is compared with a quoted string", token.column, source_name)
        return value
    if field.name == "status":
        if value not in RUN_STATUSES:
            raise error(f"status is one of {', '.join(RUN_STATUSES)} (quoted), not {token.text}", token.column, source_name)
        return value
    assert field.name in TIME_FIELDS
    if not isinstance(value, str):
        raise error(f"{field.name} is compared with a quoted ISO 8601 time", token.column, source_name)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise error(f"{value!r} is not an ISO 8601 time (e.g. '2024-05-01T12:00:00Z')", token.column, source_name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def parse_where(text: str) -> Expression:
    """The syntax tree of a ``where`` expression; ``InvalidInputError`` naming the column when malformed."""
    parser = _Parser(text, "where")
    if parser.at("end"):
        raise InvalidInputError("where: the expression is empty")
    expression = parser.expression()
    parser.finish()
    return expression


def parse_order_by(text: str | list[str] | tuple[str, ...]) -> tuple[OrderKey, ...]:
    """Order keys from ``"-metrics.map50, params.lr"`` or ``["-metrics.map50", "params.lr"]``."""
    if isinstance(text, (list, tuple)):
        keys: list[OrderKey] = []
        for item in text:
            keys.extend(parse_order_by(item))
        if not keys:
            raise InvalidInputError("order_by: the list is empty")
        return tuple(keys)
    parser = _Parser(text, "order_by")
    keys = [_order_key(parser)]
    while parser.at("punct", ","):
        parser.advance()
        keys.append(_order_key(parser))
    if not parser.at("end"):
        raise parser.fail("expected ',' or the end of the order")
    return tuple(keys)


def _order_key(parser: _Parser) -> OrderKey:
    descending = False
    if parser.at("punct", "-"):
        parser.advance()
        descending = True
    elif parser.current.kind == "number" and str(parser.current.text).startswith("-"):
        raise parser.fail("expected a path after '-'")
    if parser.current.kind not in ("name", "key"):
        raise parser.fail("expected a path to order by (prefix it with '-' for descending)")
    token = parser.current
    target = parser.target()
    if isinstance(target, Field) and target.name in PRESENCE_FIELDS:
        raise error(
            f"{target} does not order runs (it is tested with '{target} exists'; quote it to reach the info key: `{target}`)",
            token.column,
            parser.source_name,
        )
    return OrderKey(target, descending)


def parse_path(text: str) -> InfoPath:
    """An info path such as ``params.lr`` or ``metrics.`map50-95```; run fields are refused."""
    parser = _Parser(text, "path")
    if parser.current.kind not in ("name", "key"):
        raise parser.fail("expected a path (a name, or a `quoted key`)")
    target = parser.target()
    if not parser.at("end"):
        raise parser.fail("expected '.' or the end of the path")
    if isinstance(target, Field):
        raise InvalidInputError(f"path: {target} is a run field, not a key of the info (quote it: `{target}`)")
    if isinstance(target, Metric):
        raise InvalidInputError(f"path: {target} is a metric, not a key of the info (quote it: `{METRIC_NAMESPACE}`)")
    return target
