"""Metric batches as the server accepts them: split to fit the limits its ``/api/health`` states."""

import hashlib
import json
from typing import Any

from gemini.remote import http


def send_batch(run_id: Any, body: dict[str, Any]) -> bool:
    """Send a batch's body as requests that each fit the server's limits; ``True`` when any part was new.

    Sent again (a retry, the spool), the batch is split the same way under the same ids, so the parts
    already written are not applied twice."""
    server = http.checked_server()
    parts = batch_parts(
        body["batch_id"], body["points"], max_bytes=server.max_request_bytes, max_points=server.max_batch_points
    )
    written = False
    for content in parts:
        answer = http.send("log_batch", run_id=run_id, content=content, headers=_JSON, idempotent=True).json()
        written = answer["written"] or written
    return written


_JSON = {"Content-Type": "application/json"}


def _encoded(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def batch_parts(batch_id: str, points: list[dict[str, Any]], *, max_bytes: int | None, max_points: int) -> list[bytes]:
    """The request bodies of one batch: the batch itself when it fits, else parts of at most ``max_bytes``
    bytes and ``max_points`` points, in order, each with an id derived from ``batch_id`` and its place.

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
