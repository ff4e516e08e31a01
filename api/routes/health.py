"""Liveness, readiness and metrics: what an orchestrator and a Prometheus server call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Alive")
def healthz() -> dict[str, Any]:
    """The process answers (nothing else is checked)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, summary="Ready to answer",
            responses={503: {"model": Readiness, "description": "Not ready (starting, or the store is down)"}})
def readyz(request: Request) -> Any:
    """200 once the store is reachable and the model and keyword index are loaded; 503 otherwise."""
    state = request.app.state
    report = state.service.readiness()
    report["warming_up"] = not state.warm.is_set()
    report["error"] = state.warm_error
    if report["warming_up"]:
        report["ready"], report["status"] = False, "not_ready"
    return JSONResponse(report, status_code=200 if report["ready"] else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)
