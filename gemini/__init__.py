"""gemini: the model-run registry of the GEMINI breeding-data framework.

Layers, from the bottom up:

- ``gemini.db``: tables, engine, unit of work and migrations (SQLAlchemy 2, Alembic).
- ``gemini.core``: operations on models, runs and experiments; they raise ``gemini.domain.errors``.
- ``gemini.api``: the GEMINI-compatible classes (``ModelRun``, ``Model``, ``Experiment``) that turn
  those errors into ``None``/``False`` plus one log line.
"""

__version__ = "0.1.0"
