"""The REST API: a FastAPI app over ``gemini.core`` (``gemini.rest_api.app:app``)."""
