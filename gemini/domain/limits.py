"""The registry's fixed limits, in one place: the checks enforce them, the server and the client page
and split by them. (Limits a deployment may change are settings: ``gemini.config``.)"""

MAX_NAME_LENGTH = 255
"""Longest model or experiment name, in characters."""
MAX_INFO_DEPTH = 64
"""Deepest nesting of objects and arrays accepted in an info dict."""

MAX_KEY_LENGTH = 250
"""Longest metric key, in characters."""
MAX_STEP = 2**63 - 1
MAX_BATCH_POINTS = 100_000
"""Most points one metric batch may carry."""
MAX_BATCH_ID_LENGTH = 64
MAX_RUNS_PER_HISTORY = 1000
"""Most runs one read of a key's history may name."""
MAX_SUMMARY_RUNS = 1000
"""Most runs one read of metric summaries may name."""
MAX_ERROR_MESSAGE_LENGTH = 10_000
"""A failed run's error message is cut to this many characters (its type, to ``MAX_KEY_LENGTH``)."""

MAX_ARTIFACT_NAME_LENGTH = 1024
"""Longest artifact name, in characters."""
MAX_ARTIFACTS_PER_REQUEST = 1000
"""Artifacts one upload offer or record request names (a run's directory is sent in requests of this many)."""
ARTIFACT_UPLOADS_AT_ONCE = 4
"""Files of one directory stored at the same time: each is a few round trips (to a server, to a bucket)
that would otherwise wait on one another."""
STORE_LOOKUPS_AT_ONCE = 8
"""Blobs the server looks up in a bucket at the same time before it records them: a round trip each."""
UPLOAD_IN_PARTS_FROM_BYTES = 64 * 1024**2
"""A file this large or larger goes to a bucket in parts, several at once; a smaller one in one request
(a YOLO run's weights and plots are all smaller)."""
UPLOAD_PART_BYTES = 8 * 1024**2
"""Size of each part of a large file (the last may be shorter): 8 MiB, as the AWS tools cut them."""
MIN_UPLOAD_PART_BYTES = 5 * 1024**2
"""S3's smallest part but the last."""
MAX_UPLOAD_PART_BYTES = 5 * 1024**3
"""S3's largest part, and the largest object one request may put."""
MAX_UPLOAD_PARTS = 10_000
"""S3's most parts of one object: a file above 80,000 MiB is cut in larger parts."""
UPLOAD_PARTS_AT_ONCE = 8
"""Parts of one large file sent at the same time."""

MAX_SEGMENT_BYTES = 255
"""Longest part of an artifact name between slashes, in UTF-8 bytes: what common file systems allow."""

MAX_ALIAS_LENGTH = 64
"""Longest alias of a model version (``production``), in characters."""
MAX_VERSION = 2**31 - 1
"""Highest version number a reference may name."""

MAX_BULK_RUNS = 10_000
"""Most runs one request of ``create_runs`` records over REST; a client sends more as several requests."""
DEFAULT_PAGE_SIZE = 100
"""A REST list's page when the request names no ``limit``."""
MAX_PAGE_SIZE = 1000
"""The largest page a REST list answers; a client reads longer lists a page of this size at a time."""
MAX_OFFSET = 2**63 - 1
"""The databases' largest OFFSET."""


def upload_part_bytes(size: int) -> int:
    """The parts ``size`` bytes are cut in: ``UPLOAD_PART_BYTES``, or larger (whole MiB) when
    ``MAX_UPLOAD_PARTS`` of those would not hold them."""
    mib = 1024 * 1024
    smallest = -(-size // MAX_UPLOAD_PARTS)
    return max(UPLOAD_PART_BYTES, -(-smallest // mib) * mib)
