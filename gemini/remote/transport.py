"""The registry's contract over HTTP: the operations of ``gemini.remote``'s modules, bound into one
``Registry`` (``gemini.registry.contract``). Each is a request on the route the contract declares for
it, its answer read back into the records the database transport returns, its error into the same
exception (``gemini.domain.errors.ERROR_KINDS``)."""

from gemini.registry.contract import implementation
from gemini.remote import administration, artifacts, model_records, models, tracking, versions
from gemini.remote.spooling import sync  # noqa: F401 - `gemini sync`

HttpRegistry = implementation(
    "HttpRegistry",
    __name__,
    (models, tracking, artifacts, administration, versions, model_records),
    "The registry on the server that ``GEMINI_API_URL`` names.",
)
