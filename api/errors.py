"""Every error leaves the API as ``{"error": {"type", "message"}}`` with the right status, never a trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ctn.documents import UploadError
from ctn.feedback import DatabaseUnavailable, UnknownAnswer
from rag.store import StoreUnavailable

log = logging.getLogger(__name__)

ERROR_TYPES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_request",
    429: "too_many_requests", 500: "internal_error", 503: "service_unavailable",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_ or ERROR_TYPES.get(status, "error")
        self.headers = headers


def error_body(type_: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, **extra}}


def error_response(status: int, message: str, type_: str | None = None, headers: dict[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(type_ or ERROR_TYPES.get(status, "error"), message, **extra),
                        status_code=status, headers=headers)


def _loc(loc: tuple | list) -> str:
    return ".".join(str(p) for p in loc if p not in ("body",)) or "body"


def validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    details = [{"field": _loc(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in exc.errors()]
    text = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5]) or "invalid request"
    if len(details) > 5:
        text += f"; and {len(details) - 5} more"
    return text, details


def install(app: FastAPI) -> None:
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.type, exc.headers)

    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else ERROR_TYPES.get(exc.status_code, "error")
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = validation_message(exc)
        return error_response(422, message, details=details)

    async def store_down(_: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("store unavailable: %s", exc)
        return error_response(503, f"the document store is unavailable: {exc}", "store_unavailable",
                              headers={"Retry-After": "5"})

    async def database_down(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return error_response(503, str(exc), "database_unavailable", headers={"Retry-After": "5"})

    async def upload_refused(_: Request, exc: UploadError) -> JSONResponse:
        return error_response(exc.status, str(exc))

    async def unknown_answer(_: Request, exc: UnknownAnswer) -> JSONResponse:
        return error_response(404, str(exc))

    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error; it has been logged on the server")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StoreUnavailable, store_down)
    app.add_exception_handler(DatabaseUnavailable, database_down)
    app.add_exception_handler(UploadError, upload_refused)
    app.add_exception_handler(UnknownAnswer, unknown_answer)
    app.add_exception_handler(Exception, crash)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route can answer with."""
    from api.schemas import ErrorResponse

    descriptions = {
        401: "Missing or invalid admin API key", 403: "Write endpoints are disabled (CTN_ADMIN_API_KEY unset)",
        404: "Not found", 409: "Conflicts with an existing document", 413: "Too large or too many files",
        415: "Unsupported file type", 422: "Invalid input", 503: "Not ready, or the store is unavailable",
    }
    return {s: {"model": ErrorResponse, "description": descriptions.get(s, ERROR_TYPES.get(s, "error"))}
            for s in statuses}
