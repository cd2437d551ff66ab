"""``APIBase`` and the one place where core errors become the seed's ``None``/``False``."""

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, ConfigDict

from gemini.domain.errors import GeminiError, NotFoundError

logger = logging.getLogger("gemini.api")

P = ParamSpec("P")
R = TypeVar("R")


class APIBase(BaseModel):
    """Base of the API classes: a pydantic model printed as ``Class(field=value, ...)``."""

    # Field names such as model_id and model_info are the seed's; pydantic reserves "model_" otherwise.
    model_config = ConfigDict(protected_namespaces=(), arbitrary_types_allowed=True)

    def __str__(self) -> str:
        return repr(self)


def seed_operation(fallback: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn a ``GeminiError`` raised by ``operation`` into ``fallback`` and one log line.

    The line names the operation (``ModelRun.create``) and the cause (``no model named 'x'``). A "not
    found" is logged as a warning, anything else as an error. Other exceptions are bugs and propagate.
    """

    def decorate(operation: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(operation)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return operation(*args, **kwargs)
            except GeminiError as exc:
                level = logging.WARNING if isinstance(exc, NotFoundError) else logging.ERROR
                logger.log(level, "%s failed: %s", operation.__qualname__, exc)
                return fallback

        return wrapper

    return decorate
