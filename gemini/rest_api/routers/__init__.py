"""One router per resource; each handler decodes the request, calls the registry
(``gemini.registry.registry()``, which checks the input and runs the operation on the database) and
shapes the reply.

No handler waits on the database on the event loop: a write can wait on SQLite's write lock for up to
its busy timeout, a read on a slow or distant PostgreSQL, a list or a batch for as long as its data is
large, and on the loop any such wait would stall every other request. Most handlers are plain ``def``,
run in FastAPI's thread pool. The hot few (read a run, record one, start, end, heartbeat, a metric
batch) are ``async def`` and hand their one registry call to ``threads.off_the_loop``, a plain executor
that costs less than FastAPI's hand-off; the artifact upload awaits its body and hands its database and
file work to the thread pool itself.
"""
