"""The ``gemini`` command line: click commands over ``gemini.core``."""
