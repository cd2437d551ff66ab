"""The registry's operations over a server's REST API, chosen when ``GEMINI_API_URL`` is set.

Each module mirrors the ``gemini.core`` module of the same name: the same functions, keyword-only
arguments, records (``gemini.records``) and errors (``gemini.errors``), so ``gemini.backend`` can hand
either to the Python API and the CLI. Nothing here imports a database driver, SQLAlchemy or the server.
"""
