"""The registry's contract over a server's REST API (``gemini.remote.transport.HttpRegistry``), chosen
by ``gemini.registry.registry()`` when ``GEMINI_API_URL`` is set.

``http`` is the connection (one keep-alive pool, retries, error kinds read from the server's table);
``models``, ``tracking``, ``artifacts`` and ``administration`` hold one function per operation, each a
request on the route the contract declares; ``spooling`` gives each server its offline spool. Nothing
here imports a database driver, SQLAlchemy or the server.
"""
