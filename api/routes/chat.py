"""An OpenAI-compatible chat endpoint, so any OpenAI client or chat UI can use the assistant.

The last user message is the question and earlier user messages are the history (assistant turns are
the assistant's own answers and carry no new facts). The answer comes back as the assistant message,
with its [n] markers resolved in a short "Sources" list, the citations as structured data on the message,
and the full answer JSON in a top-level ``ctn`` object.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import ReadyServiceDep, check_question
from api.errors import ApiError, error_body, error_responses
from api.routes.ask import SSE_HEADERS, filters_dict
from api.schemas import ChatCompletion, ChatCompletionRequest, ChatMessage, ModelList
from rag.store import StoreUnavailable

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = "ctn-assistant"


def message_text(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "\n".join(str(p.get("text", "")) for p in parts if isinstance(p, dict) and p.get("type") == "text")


def split_conversation(messages: list[ChatMessage], max_turns: int) -> tuple[str, list[str]]:
    users = [message_text(m) for m in messages if m.role == "user"]
    users = [u for u in users if u.strip()]
    if not users:
        raise ApiError(422, "messages: at least one user message with text is required")
    # Long conversations keep their most recent turns (chat clients resend the whole conversation).
    return users[-1], users[:-1][-max_turns:] if max_turns > 0 else []


def short_section(section: str, title: str) -> str:
    """The section path without the document's own title, which the footer already shows."""
    parts = section.split(" > ")
    head = parts[0].rstrip("…")
    if len(parts) > 1 and head and title.startswith(head):
        parts = parts[1:]
    return " > ".join(parts) if section else ""


def sources_footer(answer: dict[str, Any]) -> str:
    if not answer["citations"]:
        return ""
    label = "Fonti" if answer["language"] == "it" else "Sources"
    lines = []
    for c in answer["citations"]:
        where = ", ".join(p for p in (c["act"], short_section(c["section"], c["title"]),
                                      f"p. {c['page']}" if c["page"] else "") if p)
        lines.append(f"[{c['n']}] {c['title']}" + (f" ({where})" if where else "") + f" — {c['url']}")
    return f"\n\n{label}:\n" + "\n".join(lines)


@router.get("/models", response_model=ModelList, summary="Models (OpenAI-compatible)")
def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "ctn"}]}


@router.post("/chat/completions", response_model=ChatCompletion, summary="Chat completion (OpenAI-compatible)",
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "A chat.completion, or with stream=true chat.completion.chunk events "
                                             "ending with `data: [DONE]`"}, **error_responses(422, 503)})
def chat_completions(body: ChatCompletionRequest, service: ReadyServiceDep) -> Any:
    settings = service.settings
    question, history = split_conversation(body.messages, settings.max_history_turns)
    check_question(settings, question, history, field="messages")
    model = body.model or MODEL_ID
    kwargs = {"history": history, "filters": filters_dict(body.filters), "lang": body.lang}
    created = int(time.time())
    if body.stream:
        events = service.ask_stream(question, **kwargs)
        return StreamingResponse(chunk_events(events, model, created), media_type="text/event-stream",
                                 headers=SSE_HEADERS)
    answer = service.ask(question, **kwargs).to_dict()
    return {
        "id": f"chatcmpl-{answer['answer_id']}", "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": answer["answer"] + sources_footer(answer),
            "citations": answer["citations"]}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "ctn": answer,
    }


def chunk_events(events: Iterator[dict[str, Any]], model: str, created: int) -> Iterator[str]:
    chunk_id = f"chatcmpl-{uuid.uuid4()}"  # the answer_id is known only at the end: it is in `ctn`

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    try:
        started = False
        for event in events:
            if event["type"] == "delta":
                if not started:
                    yield chunk({"role": "assistant", "content": ""})
                    started = True
                yield chunk({"content": event["text"]})
            elif event["type"] == "answer":
                answer = event["answer"]
                if not started:
                    yield chunk({"role": "assistant", "content": ""})
                footer = sources_footer(answer)
                if footer:
                    yield chunk({"content": footer})
                yield chunk({"citations": answer["citations"]}, "stop", ctn=answer)
    except StoreUnavailable as exc:
        yield f"data: {json.dumps(error_body('store_unavailable', f'the document store is unavailable: {exc}'))}\n\n"
    except Exception:
        log.exception("streamed chat completion failed")
        yield f"data: {json.dumps(error_body('internal_error', 'internal error; it has been logged'))}\n\n"
    yield "data: [DONE]\n\n"
