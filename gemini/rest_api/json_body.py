"""Large JSON answers written in one call, without a response model per item."""

from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder()


def json_bytes(body: Any) -> bytes:
    """Compact JSON of plain lists, dicts, strings and finite numbers (a NaN or an infinity must have
    been given as its string, ``gemini.domain.numbers``: the encoder would write ``null``)."""
    return _ENCODER.encode(body)
