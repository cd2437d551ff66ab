"""Metric batches as the server accepts them: split to fit the limits its ``/api/health`` states.

A batch travels as columns (``keys``, ``steps``, ``values``, ``timestamps``: an array each), which the
server reads without an object per point. A batch spooled as rows (``points``) by an earlier version is
sent as rows, split exactly as it was then, so that the parts an earlier attempt delivered keep their ids.
"""

import hashlib
import json
import math
from typing import Any

import msgspec

from gemini.domain.checks import Point
from gemini.domain.numbers import json_value
from gemini.remote import http

COLUMNS = ("keys", "steps", "values", "timestamps")

_ENCODER = msgspec.json.Encoder()


def batch_columns(batch_id: str, points: list[Point]) -> dict[str, Any]:
    """The columnar body of a checked batch: values as JSON numbers (or the strings of NaN and the
    infinities), timestamps as seconds since 1970 (exact to the microsecond from 1700 to 2200)."""
    keys, steps, values, stamps = zip(*points) if points else ((), (), (), ())
    isfinite = math.isfinite
    # The points of one logging call share their timestamp: each distinct one is converted once.
    seconds = {stamp: stamp.timestamp() for stamp in set(stamps)}
    return {
        "batch_id": batch_id,
        "keys": list(keys),
        "steps": list(steps),
        "values": [value if isfinite(value) else json_value(value) for value in values],
        "timestamps": [seconds[stamp] for stamp in stamps],
    }


def send_batch(run_id: Any, body: dict[str, Any]) -> bool:
    """Send a batch's body as requests that each fit the server's limits; ``True`` when any part was new.

    Sent again (a retry, the spool), the batch is split the same way under the same ids, so the parts
    already written are not applied twice."""
    server = http.checked_server()
    if "points" in body:
        parts = batch_parts(
            body["batch_id"], body["points"], max_bytes=server.max_request_bytes, max_points=server.max_batch_points
        )
    else:
        parts = column_parts(body, max_bytes=server.max_request_bytes, max_points=server.max_batch_points)
    written = False
    for content in parts:
        answer = http.send("log_batch", run_id=run_id, content=content, headers=_JSON, idempotent=True).json()
        written = answer["written"] or written
    return written


_JSON = {"Content-Type": "application/json"}


def column_parts(body: dict[str, Any], *, max_bytes: int | None, max_points: int) -> list[bytes]:
    """The request bodies of one columnar batch: the batch itself when it fits, else parts of at most
    ``max_points`` points, each halved until it fits ``max_bytes`` bytes, in order, each with an id
    derived from the batch's id and its place.

    A point too large for any body goes alone, for the server to refuse it by itself."""
    whole = _ENCODER.encode(body)
    count = len(body["keys"])
    if count <= max_points and (max_bytes is None or len(whole) <= max_bytes):
        return [whole]
    columns = [name for name in COLUMNS if body.get(name) is not None]

    def part(batch_id: str, start: int, end: int) -> bytes:
        return _ENCODER.encode({"batch_id": batch_id, **{name: body[name][start:end] for name in columns}})

    ranges = [(start, min(start + max_points, count)) for start in range(0, count, max_points)]
    fitting: list[tuple[int, int]] = []
    while ranges:
        start, end = ranges.pop(0)
        # A part's id has 40 characters (_part_id), whatever the batch's: the size measured is the size sent.
        if end - start > 1 and max_bytes is not None and len(part("0" * 40, start, end)) > max_bytes:
            middle = (start + end) // 2
            ranges[0:0] = [(start, middle), (middle, end)]
        else:
            fitting.append((start, end))
    return [part(_part_id(body["batch_id"], index), start, end) for index, (start, end) in enumerate(fitting)]


def _encoded(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def batch_parts(batch_id: str, points: list[dict[str, Any]], *, max_bytes: int | None, max_points: int) -> list[bytes]:
    """The request bodies of one batch of rows (a spool entry of an earlier version): the batch itself
    when it fits, else parts of at most ``max_bytes`` bytes and ``max_points`` points, in order, each with
    an id derived from ``batch_id`` and its place.

    A point too large for any body goes alone, for the server to refuse it by itself."""
    whole = _encoded({"batch_id": batch_id, "points": points})
    if len(points) <= max_points and (max_bytes is None or len(whole) <= max_bytes):
        return [whole]
    room = (max_bytes if max_bytes is not None else len(whole)) - len(_encoded({"batch_id": "0" * 40, "points": []}))
    parts: list[list[bytes]] = [[]]
    used = 0
    for point in map(_encoded, points):
        if parts[-1] and (len(parts[-1]) >= max_points or used + len(point) + 1 > room):
            parts.append([])
            used = 0
        parts[-1].append(point)
        used += len(point) + 1  # and its comma
    return [
        b'{"batch_id":' + _encoded(_part_id(batch_id, index)) + b',"points":[' + b",".join(part) + b"]}"
        for index, part in enumerate(parts)
    ]


def _part_id(batch_id: str, index: int) -> str:
    # 40 characters, within any batch id's limit, whatever the length of the batch's own id.
    return hashlib.sha1(f"{batch_id}/{index}".encode()).hexdigest()
