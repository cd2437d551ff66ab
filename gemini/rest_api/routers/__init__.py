"""One router per resource; each handler decodes the request, calls ``gemini.core`` and shapes the reply."""
