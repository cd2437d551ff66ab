"""The registry's contract on the database: the operations of ``gemini.core``'s modules, bound into one
``Registry`` (``gemini.registry.contract``). Each module function is one operation: a unit of work of
repository calls, on arguments the registry's front has checked."""

from gemini.core import artifacts, experiments, model_records, model_runs, models, tokens, tracking, transfer, versions
from gemini.registry.contract import implementation

DatabaseRegistry = implementation(
    "DatabaseRegistry",
    __name__,
    (models, model_runs, experiments, tracking, artifacts, tokens, transfer, versions, model_records),
    "The registry on the database that ``GEMINI_DATABASE_URL`` names.",
)
