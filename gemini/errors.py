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
