"""The offline spool of each server this process talks to, with its sender: every spooled entry, of
any kind, goes back to the server through the same requests the transport makes."""

import threading
from pathlib import Path

from gemini.domain.errors import InvalidInputError
from gemini.domain.records import ArtifactBlob
from gemini.remote import http
from gemini.remote.batches import send_batch
from gemini.tracking import spool

_spools: dict[str, spool.Spool] = {}
_spools_lock = threading.Lock()


def server_spool() -> spool.Spool:
    """The spool of the server ``GEMINI_API_URL`` names now."""
    url = http.server().url
    found = _spools.get(url)
    if found is None:
        with _spools_lock:
            found = _spools.setdefault(url, spool.Spool(url, send_entry))
    return found


def send_entry(entry: spool.Entry) -> None:
    """Send one spooled entry to the configured server."""
    if entry.kind == spool.METRICS:
        send_batch(entry.run_id, entry.payload)
    elif entry.kind == spool.END:
        http.send("end_run", run_id=entry.run_id, json=entry.payload, idempotent=False)
    elif entry.kind == spool.ARTIFACT:
        from gemini.remote.artifacts import upload

        payload = entry.payload
        upload(entry.run_id, Path(payload["copy"]), ArtifactBlob(payload["name"], payload["sha256"], payload["size"]))
    else:
        raise InvalidInputError(f"unknown spool entry kind {entry.kind!r}")


def sync(*, wait: bool = True) -> spool.SyncReport:
    """Send what the spool holds for the configured server (``gemini sync``)."""
    return server_spool().send_all(wait=wait)
