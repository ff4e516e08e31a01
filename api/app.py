"""The FastAPI application: one factory, one service per process, the UI mounted at /ui.

``create_app`` builds the service object (cheap: every heavy part is loaded lazily) so the UI can be
mounted with it; the lifespan then warms it up in a background thread (model and keyword index loaded,
index polling started) while ``/healthz`` already answers and ``/readyz`` says 503 until it is done.
Run it with ``ctn serve`` or ``uvicorn --factory api.app:create_app``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse

from api import errors
from api.limits import JSON_BODY_LIMIT, BodyLimitMiddleware
from api.metrics import Metrics, MetricsMiddleware
from api.routes import ask, chat, documents, feedback, health
from ctn.service import AssistantService
from rag.settings import Settings, get_settings

log = logging.getLogger(__name__)

WARM_RETRY_S = 5.0

DESCRIPTION = """Grounded, cited answers over the documents of Italy's National Technology Clusters program.

* Every `[n]` in an answer has a citation whose `quote` is verbatim text of the cited document, and whose
  `url` opens the original file (at the page, for PDFs).
* `status` is `not_found` when the documents do not answer, and `out_of_scope` for unrelated requests.
* Write endpoints (upload, delete, ingest, analytics) need `Authorization: Bearer <CTN_ADMIN_API_KEY>`;
  without that setting they are disabled (403).
* Errors are `{"error": {"type", "message"}}`.
* `POST /v1/chat/completions` speaks the OpenAI chat protocol (plain and streamed).
"""

TAGS = [
    {"name": "questions", "description": "Answers and search"},
    {"name": "documents", "description": "The indexed documents, their files, uploads"},
    {"name": "feedback", "description": "Ratings of answers"},
    {"name": "analytics", "description": "What users asked"},
    {"name": "openai-compatible", "description": "The OpenAI chat protocol"},
    {"name": "operations", "description": "Health, readiness, metrics"},
]


def _version() -> str:
    try:
        return version("ctn-assistant")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(settings: Settings | None = None, service: AssistantService | None = None, *,
               ui: bool | None = None) -> FastAPI:
    """The app. ``service`` lets a caller share an already built service (tests, ``ctn serve``);
    ``ui=False`` skips the Gradio UI, ``ui=True`` requires it (default: mount it when available)."""
    owned = service is None
    if service is None:
        service = AssistantService(settings or get_settings())
    metrics = Metrics()
    service.add_listener(metrics.on_event)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=_warm_up, args=(app, service, stop), name="ctn-warm-up", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            if owned:
                service.close()
            elif "database" in service.__dict__:
                service.database.flush()

    app = FastAPI(title="CTN Assistant API", version=_version(), description=DESCRIPTION, openapi_tags=TAGS,
                  lifespan=lifespan)
    app.state.service = service
    app.state.metrics = metrics
    app.state.warm = threading.Event()
    app.state.warm_error = None
    errors.install(app)
    for module in (ask, chat, documents, feedback, health):
        app.include_router(module.router)

    settings = service.settings
    upload_limit = int(settings.max_upload_files * settings.max_file_mb * 1024 * 1024) + (1 << 20)
    app.add_middleware(BodyLimitMiddleware, json_limit=JSON_BODY_LIMIT, upload_limit=upload_limit)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if service.settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=service.settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False)

    app.state.ui_mounted = _mount_ui(app, service, ui)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui" if app.state.ui_mounted else "/docs")

    return app


def _warm_up(app: FastAPI, service: AssistantService, stop: threading.Event) -> None:
    """Load the model and the keyword index, then keep the index fresh; retried while the store is down."""
    while not stop.is_set():
        try:
            service.database  # noqa: B018 - create the tables now, not on the first question
            service.warm_up()
            service.index.start_polling()
        except Exception as exc:
            app.state.warm_error = f"{type(exc).__name__}: {exc}"
            log.warning("warm-up failed, retrying in %.0f s: %s", WARM_RETRY_S, exc)
            stop.wait(WARM_RETRY_S)
            continue
        app.state.warm_error = None
        app.state.warm.set()
        log.info("ready: model and keyword index loaded")
        return


def _mount_ui(app: FastAPI, service: AssistantService, ui: bool | None) -> bool:
    if ui is False:
        return False
    try:
        from ui.app import mount
    except ImportError as exc:
        if ui:
            raise
        if getattr(exc, "name", None) in ("ui", "ui.app"):
            log.info("no UI package (ui/app.py with mount()): /ui is not mounted")
        else:
            log.error("the UI could not be imported, /ui is not mounted: %s", exc)
        return False
    try:
        mount(app, service)
    except Exception:
        if ui:
            raise
        log.exception("the UI failed to mount; the API runs without it")
        return False
    return True
