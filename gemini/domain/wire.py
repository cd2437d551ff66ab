"""What a server and its clients agree on, kept free of any server or database dependency."""

API_VERSION = 1
"""The version of the REST API's shapes that ``gemini.remote`` relies on. A server reports it at
``/api/health``; a client refuses a server with another number. Raised on any change a client of the
previous number would misread."""
