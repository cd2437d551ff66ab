"""``/api/tokens``: per-user API tokens, managed with an ``admin`` token (as ``gemini tokens`` does locally)."""

from fastapi import APIRouter, Request, Response

from gemini.domain.records import Page
from gemini.registry import registry
from gemini.rest_api.errors import CONFLICT, NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.pages import list_responses, set_page_headers
from gemini.rest_api.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenPublic
from gemini.rest_api.security import ADMIN_ACCESS
from gemini.rest_api.strict_json import StrictJsonRoute

router = APIRouter(
    route_class=StrictJsonRoute,
    prefix="/tokens",
    tags=["API tokens"],
    dependencies=ADMIN_ACCESS,
    responses=READ_ERRORS,
)


@router.get("", responses=list_responses("Every token, revoked ones included."))
def list_tokens(request: Request, response: Response) -> list[ApiTokenPublic]:
    """Every token with its scope and dates, revoked ones included; never the tokens themselves."""
    records = registry().list_tokens()
    set_page_headers(request, response, Page(records, len(records)), limit=None)
    return [ApiTokenPublic.of(record) for record in records]


@router.post("", status_code=201, responses={**WRITE_ERRORS, **CONFLICT})
def create_token(body: ApiTokenCreate) -> ApiTokenCreated:
    """Create a token for a person or a job; the response is the only place the token is ever shown."""
    record, token = registry().create_token(name=body.name, scope=body.scope)
    return ApiTokenCreated(**ApiTokenPublic.of(record).model_dump(), token=token)


@router.post("/{name}/revoke", responses={**WRITE_ERRORS, **NOT_FOUND})
def revoke_token(name: str) -> ApiTokenPublic:
    """Refuse the token from now on; its name stays taken."""
    return ApiTokenPublic.of(registry().revoke_token(name=name))
