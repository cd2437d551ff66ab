"""The ``gemini`` command line: click commands over ``gemini.registry.registry()``."""
