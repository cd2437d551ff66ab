"""The REST API: a FastAPI app over the registry (``gemini.registry``), served as ``gemini.rest_api.app:app``."""
