"""One router per resource; each handler decodes the request, calls ``gemini.core`` and shapes the reply.

Handlers whose work is a few statements by key (read a run by id, create one run, start, end or beat a
tracked run, write a metric batch, the health check) are ``async def``: they run on the event loop.
FastAPI runs a ``def`` handler in its thread pool, and on these the hand-off costs more than the work
(measured in docs/benchmarks.md, "The team server under load"). Every handler whose work can grow with
the data (lists, searches, bulk writes, artifacts, exports) stays ``def``, so a long one never holds
the loop. The CPU work of a request holds the GIL either way; what the loop gives up is only the wait
of a short statement on the database.
"""
