"""The registry's contract on the database (``gemini.core.transport.DatabaseRegistry``), chosen by
``gemini.registry.registry()`` when ``GEMINI_API_URL`` is not set, and always by the server.

``models``, ``model_runs``, ``experiments``, ``tracking``, ``artifacts``, ``versions``, ``tokens`` and ``transfer`` hold
one function per operation, on arguments the registry's front has checked: each runs in its own unit
of work (``gemini.db.engine``) and returns records or raises ``gemini.domain.errors``. What only the
database can know (uniqueness, existence) is decided here. ``get_or_create`` runs inside a caller's unit
of work; ``database``, ``info_indexes`` and the artifact store's garbage collection administer the
database itself and are not registry operations.
"""
