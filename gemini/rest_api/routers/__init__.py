"""One router per resource; each handler decodes the request, calls the registry
(``gemini.registry.registry()``, which checks the input and runs the operation on the database) and
shapes the reply.

Handlers are plain ``def``: FastAPI runs them in its thread pool. Every one of them reaches the
database, and a write can wait on SQLite's write lock for up to its busy timeout, a read on a slow or
distant PostgreSQL, a list or a batch for as long as its data is large; on the event loop any such wait
would stall every other request. The few ``async def`` handlers (the artifact upload) only await, and
hand their database and file work to the thread pool themselves.
"""
