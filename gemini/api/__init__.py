"""The GEMINI-compatible Python API: ``ModelRun``, ``Model`` and ``Experiment``.

These classes follow the seed's conventions: a failed operation returns ``None`` (or ``False`` for
yes/no questions and ``delete``) and logs one line on the ``gemini.api`` logger. For exceptions
instead, call ``gemini.core`` directly.
"""
