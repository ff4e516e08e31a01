"""Questions: the grounded answer (plain or as server-sent events) and the raw ranked search."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import ReadyServiceDep, check_question
from api.errors import error_body, error_responses
from api.schemas import AnswerResponse, AskRequest, SearchHit, SearchRequest, SearchResponse
from rag.index import Filters
from rag.store import StoreUnavailable

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["questions"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
STREAM_DOC = """Server-sent events:

* `event: status` — `{"status": "<step>"}` as each step of the answer pipeline starts (`rewrite_followup`,
  `analyse`, `retrieve`, `route`, `rerank`, `answer`, `add_amendments`, `verify_citations`,
  `add_warnings`); useful to show progress
* `event: delta` — `{"text": "..."}`, pieces of the answer text in order
* `event: citations` — `{"citations": [...]}`
* `event: final` — the full answer JSON (as `POST /v1/ask` returns it), with the outcome in `status`;
  its `answer` is authoritative (a later step may append to the streamed text)

A failure after the stream has started arrives as `event: error` with `{"error": {"type", "message"}}`.
"""


def filters_dict(filters: Any) -> dict[str, Any] | None:
    return filters.model_dump(exclude_none=True) if filters is not None else None


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/ask", response_model=AnswerResponse, summary="Ask a question",
             responses=error_responses(422, 503))
def ask(body: AskRequest, service: ReadyServiceDep) -> dict[str, Any]:
    """The grounded answer with citations; `status` says when the documents do not answer."""
    check_question(service.settings, body.question, body.history)
    answer = service.ask(body.question, history=body.history, filters=filters_dict(body.filters), lang=body.lang,
                         top_k=body.top_k)
    return answer.to_dict()


@router.post("/ask/stream", summary="Ask a question, streamed as server-sent events", description=STREAM_DOC,
             response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}, "example":
                                                                 'event: status\ndata: {"status": "retrieve"}\n\n'
                                                                 'event: delta\ndata: {"text": "..."}\n\n'}},
                              "description": "The event stream"}, **error_responses(422, 503)})
def ask_stream(body: AskRequest, service: ReadyServiceDep) -> StreamingResponse:
    check_question(service.settings, body.question, body.history)
    events = service.ask_stream(body.question, history=body.history, filters=filters_dict(body.filters),
                                lang=body.lang, top_k=body.top_k)
    return StreamingResponse(answer_events(events), media_type="text/event-stream", headers=SSE_HEADERS)


def answer_events(events: Iterator[dict[str, Any]]) -> Iterator[str]:
    try:
        for event in events:
            kind = event.get("type")
            if kind == "status":
                yield sse("status", {"status": event["status"]})
            elif kind == "delta":
                yield sse("delta", {"text": event["text"]})
            elif kind == "answer":
                yield sse("citations", {"citations": event["answer"]["citations"]})
                yield sse("final", event["answer"])
    except StoreUnavailable as exc:
        yield sse("error", error_body("store_unavailable", f"the document store is unavailable: {exc}"))
    except Exception:
        log.exception("streamed answer failed")
        yield sse("error", error_body("internal_error", "internal error; it has been logged on the server"))


@router.post("/search", response_model=SearchResponse, summary="Search the documents",
             responses=error_responses(422, 503))
def search(body: SearchRequest, service: ReadyServiceDep) -> dict[str, Any]:
    """Ranked chunks with their metadata and scores (hybrid BM25 + dense retrieval, no answer)."""
    check_question(service.settings, body.query, [], field="query")
    chunks = service.retriever.search(body.query, k=body.k, filters=Filters.from_dict(filters_dict(body.filters)))
    results = []
    for rank, c in enumerate(chunks, start=1):
        meta = c.metadata
        results.append(SearchHit(
            rank=rank, chunk_id=c.chunk_id, document_id=c.document_id, title=str(meta.get("title", "")),
            doc_type=str(meta.get("doc_type", "")), act=str(meta.get("act", "")),
            year=int(meta["year"]) if meta.get("year") else None,
            language=str(meta.get("language", "")), section=c.section, page=c.page, text=c.text,
            score=round(float(c.score), 6), scores={k: round(float(v), 6) for k, v in c.scores.items()},
            url=f"/v1/documents/{c.document_id}/file" + (f"#page={c.page}" if c.page else ""),
        ))
    return {"query": body.query, "results": results}
