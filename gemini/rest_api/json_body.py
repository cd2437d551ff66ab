"""Large JSON answers written in one call, without a response model per item."""

import json
from typing import Any


def json_bytes(body: Any) -> bytes:
    """Compact JSON of plain lists, dicts, strings and finite numbers."""
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
