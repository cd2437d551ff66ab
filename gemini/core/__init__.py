"""Operations on models, runs and experiments.

Each function runs in its own unit of work and either returns records (``gemini.records``) or
raises a ``gemini.errors`` exception: ``NotFoundError``, ``ConflictError``, ``InvalidInputError``,
``DatabaseUnavailableError``. REST, the CLI and the web page call these; so can any Python caller that
prefers exceptions to the seed API's ``None``/``False``. ``get_or_create`` is the exception: its
functions run inside a caller's unit of work, making a model or experiment named by a create.
"""
