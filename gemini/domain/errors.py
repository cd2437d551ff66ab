"""The one error hierarchy of gemini.

The core raises these; every edge translates them exactly once: the seed facade into ``None``/``False``
plus a log line, REST into HTTP statuses, the CLI into a message and an exit code.
"""


class GeminiError(Exception):
    """Root of every error gemini raises on purpose."""


class NotFoundError(GeminiError):
    """The named model, run or experiment does not exist."""


class ConflictError(GeminiError):
    """The operation would break a uniqueness rule (e.g. two runs of one model with equal info)."""


class InvalidInputError(GeminiError):
    """The caller's input is malformed: wrong type, bad JSON value, malformed id, empty name."""


class InfoTooLargeError(InvalidInputError):
    """An info dict whose JSON text exceeds the configured size limit."""


class DatabaseError(GeminiError):
    """The database refused or failed an operation for a reason that is not the caller's input."""


class DatabaseUnavailableError(DatabaseError):
    """The database cannot be reached (server down, file unreadable, disk full)."""


class ArtifactTooLargeError(InvalidInputError):
    """An artifact larger than the configured limit (``GEMINI_MAX_ARTIFACT_BYTES``)."""


class StorageError(GeminiError):
    """The artifact store failed for a reason that is not the caller's input."""


class StorageUnavailableError(StorageError):
    """The artifact store cannot be written or read (directory missing or read-only, disk full)."""


class ArtifactCorruptedError(StorageError):
    """An artifact's stored bytes no longer match the digest recorded when it was logged."""


class AuthenticationError(GeminiError):
    """The request carries no token, or one the registry does not know (wrong, revoked)."""


class PermissionDeniedError(GeminiError):
    """The token is valid but its scope does not allow the operation."""


class ServerUnreachableError(DatabaseUnavailableError):
    """The registry's server (``GEMINI_API_URL``) cannot be reached, or keeps answering "busy"."""


class IncompatibleServerError(GeminiError):
    """The server at ``GEMINI_API_URL`` speaks another version of the REST API than this client."""


class UnsupportedOperationError(GeminiError):
    """The operation cannot run in this mode: a database command while ``GEMINI_API_URL`` names a server."""


class ErrorKind:
    """One row of the table both ends of the REST API read: an error's kind (the ``error`` field of an
    error body), its exception class and its HTTP status."""

    __slots__ = ("kind", "error_class", "status")

    def __init__(self, kind: str, error_class: type[GeminiError], status: int) -> None:
        self.kind = kind
        self.error_class = error_class
        self.status = status


ERROR_KINDS: tuple[ErrorKind, ...] = (
    # Most specific first: the first row whose class an error is an instance of gives its kind.
    ErrorKind("unauthorized", AuthenticationError, 401),
    ErrorKind("forbidden", PermissionDeniedError, 403),
    ErrorKind("not_found", NotFoundError, 404),
    ErrorKind("conflict", ConflictError, 409),
    ErrorKind("info_too_large", InfoTooLargeError, 413),
    ErrorKind("artifact_too_large", ArtifactTooLargeError, 413),
    ErrorKind("invalid_input", InvalidInputError, 422),
    ErrorKind("database_unavailable", DatabaseUnavailableError, 503),
    ErrorKind("database_error", DatabaseError, 500),
    ErrorKind("storage_unavailable", StorageUnavailableError, 503),
    ErrorKind("artifact_corrupted", ArtifactCorruptedError, 500),
    ErrorKind("storage_error", StorageError, 500),
    ErrorKind("unsupported_operation", UnsupportedOperationError, 501),
)
"""Every ``GeminiError`` the server sends, by kind. ``ServerUnreachableError`` and
``IncompatibleServerError`` are the client's own and never sent."""

REQUEST_ERROR_KINDS: tuple[ErrorKind, ...] = (
    # Refusals of the request itself, before any operation runs (the web server's, not the registry's).
    ErrorKind("request_too_large", InvalidInputError, 413),
    ErrorKind("unsupported_media_type", InvalidInputError, 415),
    ErrorKind("method_not_allowed", InvalidInputError, 405),
)

_BY_KIND = {row.kind: row for row in (*ERROR_KINDS, *REQUEST_ERROR_KINDS)}


def kind_of(error: GeminiError) -> ErrorKind | None:
    """The row of ``ERROR_KINDS`` for an error (its first row whose class the error is an instance of)."""
    for row in ERROR_KINDS:
        if isinstance(error, row.error_class):
            return row
    return None


def error_class_of(kind: str) -> type[GeminiError] | None:
    """The exception class of an error kind, ``None`` for a kind this version does not know."""
    row = _BY_KIND.get(kind)
    return row.error_class if row is not None else None
