"""``gemini.core.artifacts`` over REST: a run's files, streamed to and from the server."""

from gemini.errors import UnsupportedOperationError


def _not_served(*_args: object, **_kwargs: object) -> None:
    raise UnsupportedOperationError("artifacts cannot be stored or read through a server with this version")


log_artifact_file = log_artifact_directory = list_artifacts = download_artifact = _not_served
