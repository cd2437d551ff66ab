"""The tokenizer of the ``where``/``order_by`` language: names, `quoted keys`, strings, numbers,
operators, punctuation and keywords, each with its 1-based column for error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gemini.domain.errors import InvalidInputError

KEYWORDS = frozenset({"and", "or", "not", "in", "exists", "glob", "startswith", "true", "false", "null"})

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "name", "key" (backquoted), "string", "number", "op", "punct", "keyword", "end"
    text: str
    value: object
    column: int

    def describe(self) -> str:
        return "the end of the expression" if self.kind == "end" else repr(self.text)


def error(what: str, column: int, source_name: str) -> InvalidInputError:
    return InvalidInputError(f"{source_name}: {what} at column {column}")


def tokenize(text: str, *, source_name: str = "where") -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        column = position + 1
        if char.isspace():
            position += 1
            continue
        if char in "(),.":
            tokens.append(Token("punct", char, char, column))
            position += 1
            continue
        if char in "=<>!":
            two = text[position : position + 2]
            if two in ("!=", "<=", ">=", "=="):
                tokens.append(Token("op", two, "=" if two == "==" else two, column))
                position += 2
                continue
            if char == "!":
                raise error("expected '!=' after '!'", column, source_name)
            tokens.append(Token("op", char, char, column))
            position += 1
            continue
        if char in "\"'":
            value, position = _read_string(text, position, source_name)
            tokens.append(Token("string", text[column - 1 : position], value, column))
            continue
        if char == "`":
            value, position = _read_quoted_key(text, position, source_name)
            tokens.append(Token("key", text[column - 1 : position], value, column))
            continue
        if char == "-" or char.isdigit():
            match = _NUMBER.match(text, position)
            if match and not _continues_word(text, match.end()):
                raw = match.group()
                try:
                    number = float(raw) if any(c in raw for c in ".eE") else int(raw)
                except ValueError:  # an integer past Python's limit on digits converted from text
                    number = float("inf")
                if isinstance(number, float) and number in (float("inf"), float("-inf")):
                    raise error(f"number {raw[:40]}{'…' if len(raw) > 40 else ''} is out of range", column, source_name)
                tokens.append(Token("number", raw, number, column))
                position = match.end()
                continue
            if char == "-":
                tokens.append(Token("punct", "-", "-", column))
                position += 1
                continue
            raise error(f"malformed number starting {text[position:position + 12]!r}", column, source_name)
        match = _IDENTIFIER.match(text, position)
        if match:
            word = match.group()
            kind = "keyword" if word.lower() in KEYWORDS else "name"
            tokens.append(Token(kind, word, word.lower() if kind == "keyword" else word, column))
            position = match.end()
            continue
        raise error(f"unexpected character {char!r}", column, source_name)
    tokens.append(Token("end", "", None, length + 1))
    return tokens


def _continues_word(text: str, position: int) -> bool:
    return position < len(text) and (text[position].isalnum() or text[position] in "_.")


def _read_string(text: str, start: int, source_name: str) -> tuple[str, int]:
    quote = text[start]
    position = start + 1
    parts: list[str] = []
    while position < len(text):
        char = text[position]
        if char == quote:
            return "".join(parts), position + 1
        if char == "\\":
            escape = text[position + 1 : position + 2]
            if escape in _ESCAPES:
                parts.append(_ESCAPES[escape])
                position += 2
                continue
            if escape == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[position + 2 : position + 6]):
                code = int(text[position + 2 : position + 6], 16)
                if 0xD800 <= code <= 0xDFFF:
                    raise error("a \\u escape may not name a surrogate", position + 1, source_name)
                parts.append(chr(code))
                position += 6
                continue
            raise error("unknown escape in string (use \\\\, \\\", \\', \\n, \\t or \\uXXXX)", position + 1, source_name)
        if char == "\x00":
            raise error("strings may not contain NUL characters", position + 1, source_name)
        parts.append(char)
        position += 1
    raise error(f"unterminated string (missing closing {quote})", start + 1, source_name)


def _read_quoted_key(text: str, start: int, source_name: str) -> tuple[str, int]:
    position = start + 1
    parts: list[str] = []
    while position < len(text):
        char = text[position]
        if char == "`":
            if text[position + 1 : position + 2] == "`":  # a doubled backquote is a literal one
                parts.append("`")
                position += 2
                continue
            return "".join(parts), position + 1
        if char == "\x00":
            raise error("keys may not contain NUL characters", position + 1, source_name)
        parts.append(char)
        position += 1
    raise error("unterminated quoted key (missing closing `)", start + 1, source_name)
