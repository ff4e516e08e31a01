"""Dependencies shared by the routers: the service, readiness, the admin key and the input limits."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from ctn.service import AssistantService
from rag.settings import Settings

admin_bearer = HTTPBearer(auto_error=False, scheme_name="AdminKey",
                          description="`Authorization: Bearer <CTN_ADMIN_API_KEY>`; required by write endpoints")


def get_service(request: Request) -> AssistantService:
    return request.app.state.service


def get_settings(request: Request) -> Settings:
    return request.app.state.service.settings


def ready_service(request: Request) -> AssistantService:
    """The service, once the model and the keyword index are loaded (503 with Retry-After before)."""
    state = request.app.state
    if not state.warm.is_set():
        detail = f" (last attempt: {state.warm_error})" if state.warm_error else ""
        raise ApiError(503, "the service is starting: loading the model and the keyword index" + detail,
                       "not_ready", headers={"Retry-After": "5"})
    return state.service


def require_admin(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(admin_bearer)]) -> None:
    key = request.app.state.service.settings.admin_api_key
    if not key:
        raise ApiError(403, "write endpoints are disabled: set CTN_ADMIN_API_KEY on the server to enable them")
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <CTN_ADMIN_API_KEY>'",
                       headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(credentials.credentials.encode(), key.encode()):
        raise ApiError(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})


def check_question(settings: Settings, question: str, history: list[str], field: str = "question") -> None:
    """The configurable limits (CTN_MAX_QUESTION_CHARS, CTN_MAX_HISTORY_TURNS) as 422s."""
    if not question.strip():
        raise ApiError(422, f"{field}: must not be blank")
    if len(question) > settings.max_question_chars:
        raise ApiError(422, f"{field}: {len(question)} characters, over the limit of "
                            f"{settings.max_question_chars} (CTN_MAX_QUESTION_CHARS)")
    if len(history) > settings.max_history_turns:
        raise ApiError(422, f"history: {len(history)} turns, over the limit of {settings.max_history_turns} "
                            "(CTN_MAX_HISTORY_TURNS)")
    for i, turn in enumerate(history):
        if len(turn) > settings.max_question_chars:
            raise ApiError(422, f"history.{i}: over the limit of {settings.max_question_chars} characters")


ServiceDep = Annotated[AssistantService, Depends(get_service)]
ReadyServiceDep = Annotated[AssistantService, Depends(ready_service)]
AdminDep = Depends(require_admin)
