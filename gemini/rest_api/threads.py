"""``off_the_loop``: run one registry call on a plain thread pool, from an ``async def`` handler.

The hot handlers (read a run, record one, start, end, heartbeat, a metric batch) are few statements
around one registry call, and FastAPI's own hand-off of a ``def`` handler (anyio's worker threads, a
capacity limiter, the dependencies solved in the thread too) cost more than the call itself: the
server benchmark measured about half the requests per second on PostgreSQL. Handing only the
registry call to a ``ThreadPoolExecutor`` keeps every database wait off the event loop at a fraction of
that cost. The call runs in a copy of the request's context, so the notices it logs
(``gemini.rest_api.notices``) still reach the response.
"""

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

Result = TypeVar("Result")

# One thread: the hot writes of a worker process run one after the other, as they did on the event
# loop, but without holding it. More threads only lengthen each write's transaction, since they contend
# for the GIL while holding database locks: in the server benchmark (docs/benchmarks.md) 2 and 4
# threads wrote fewer metric batches per second than 1 on both databases, and 40 half the creates of 4.
# A write waiting on SQLite's write lock holds it; reads, and FastAPI's own thread pool, go on meanwhile.
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gemini-registry")


async def off_the_loop(function: Callable[..., Result], /, **arguments: Any) -> Result:
    context = contextvars.copy_context()
    call = functools.partial(context.run, functools.partial(function, **arguments))
    return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, call)
