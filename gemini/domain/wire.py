"""What a server and its clients agree on, kept free of any server or database dependency."""

API_VERSION = 2
"""The version of the REST API's shapes that ``gemini.remote`` relies on. A server reports it at
``/api/health``; a client refuses a server with another number. Raised on any change a client of the
previous number would misread."""

REDUCED_HEADER = "X-Reduced"
"""On a metric history's answer: ``true`` when the series was reduced to fewer points than it holds."""
