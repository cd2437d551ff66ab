"""``gemini.core.tracking`` over REST: tracked runs and their metrics on the server."""

from gemini.core.metric_values import (  # noqa: F401 - the same checks as the core's, under the same names
    MAX_KEY_LENGTH,
    MAX_STEP,
    NON_FINITE_TEXT,
    check_metric_key,
    check_metric_value,
    check_step,
    json_value,
    new_batch_id,
)
from gemini.errors import UnsupportedOperationError


def _not_served(*_args: object, **_kwargs: object) -> None:
    raise UnsupportedOperationError("tracked runs cannot be started or logged through a server with this version")


start_run = end_run = heartbeat = log_batch = metric_history = metric_histories = metric_summaries = _not_served
