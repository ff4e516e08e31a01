"""Prometheus metrics: requests and latency per route template, answer statuses, ingested files, feedback.

Each app owns its registry (several apps can live in one process, as in the tests). Under several
workers (``ctn serve --workers N``) ``PROMETHEUS_MULTIPROC_DIR`` is set and ``/metrics`` aggregates the
workers' files, so a scrape sees the whole server rather than whichever worker answered.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("ctn_http_requests", "HTTP requests by method, route template and status",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("ctn_http_request_duration_seconds", "HTTP request latency (until the last "
                                 "byte, streams included)", ["method", "route"], buckets=LATENCY_BUCKETS,
                                 registry=r)
        self.in_progress = Gauge("ctn_http_requests_in_progress", "HTTP requests being served", registry=r,
                                 multiprocess_mode="livesum")
        self.answers = Counter("ctn_answers", "Answers by status (API, UI and CLI of this process)", ["status"],
                               registry=r)
        self.answer_latency = Histogram("ctn_answer_duration_seconds", "Answer pipeline time",
                                        buckets=LATENCY_BUCKETS, registry=r)
        self.ingested = Counter("ctn_ingest_files", "Files seen by ingests, by outcome", ["status"], registry=r)
        self.feedback = Counter("ctn_feedback", "Feedback received, by rating", ["rating"], registry=r)

    def on_event(self, kind: str, payload: Any) -> None:
        """A service listener (see ``AssistantService.add_listener``)."""
        if kind == "answer":
            self.answers.labels(payload.status).inc()
            self.answer_latency.observe(payload.timings_ms.get("total", 0.0) / 1000)
        elif kind == "ingest":
            for status, n in payload.summary().items():
                if n:
                    self.ingested.labels(status).inc(n)
        elif kind == "feedback":
            self.feedback.labels(str(payload)).inc()

    def render(self) -> tuple[bytes, str]:
        if multiprocess_dir():
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI (streams pass through untouched); labels by route template, never by raw path."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.in_progress.dec()
            route = scope.get("route")
            path = getattr(route, "path", None)
            # A mounted app (the UI) extends root_path; keep its prefix so /ui/... stays apart.
            template = (str(scope.get("root_path", ""))[len(root):] + path) if path is not None else "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
