"""Log training runs from the frameworks GEMINI's models are trained with.

- ``gemini.integrations.ultralytics``: ``track_yolo(model, model_name=...)`` before ``model.train(...)``.
- ``gemini.integrations.lightning``: ``GeminiLogger(model_name=...)`` as a Lightning ``Trainer``'s logger.

Each module imports its framework only when it is used, so importing them costs nothing for those who do
not train with it; the frameworks are the extras ``gemini-model-registry[ultralytics]`` and
``gemini-model-registry[lightning]``.
Both log through the public ``gemini.api`` only.
"""
