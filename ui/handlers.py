"""The UI's event handlers: thin calls to the shared ``AssistantService`` plus formatting from ``ui.render``.

They take and return plain values (strings, lists, the conversation dict) so that tests can call them
without a browser; ``ui.app`` wires them to Gradio components. Nothing here decides an answer: the
service does, and the same service object serves the API.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from rag.settings import Settings
from ui import render
from ui.i18n import from_accept_language, t

log = logging.getLogger(__name__)

PAGE_SIZE = 25
ANY = ""  # the value of the "any" choice of every filter


class ChatView(NamedTuple):
    """Everything a chat event updates: the messages, the sources panel, the status line, the reply."""

    messages: list[dict[str, str]]
    sources: str
    status: str
    reply: str


def new_conversation(base_url: str = "") -> dict[str, Any]:
    """The per-browser-session state: turns (question + answer dict), chat messages, selected turn."""
    return {"turns": [], "messages": [], "selected": None, "base_url": base_url}


def build_filters(doc_type: str | None = None, act: str | None = None, year: str | int | None = None,
                  language: str | None = None) -> dict[str, Any] | None:
    filters = {"doc_type": doc_type, "act": (act or "").strip() or None, "year": year, "language": language}
    kept = {k: v for k, v in filters.items() if v not in (None, ANY)}
    if "year" in kept:
        try:
            kept["year"] = int(kept["year"])
        except (TypeError, ValueError):
            kept.pop("year")
    return kept or None


def view(conv: Mapping[str, Any], lang: str, status: str | None = None) -> ChatView:
    """The panels for the selected turn (by default the latest)."""
    turns = conv["turns"]
    index = conv.get("selected")
    turn = turns[index] if index is not None and 0 <= index < len(turns) else None
    answer = turn["answer"] if turn else None
    if status is None and answer:
        status = answer.get("status")
    elif status is None and turn and turn.get("error"):
        status = "error"
    warnings = (answer or {}).get("warnings") or []
    return ChatView(list(conv["messages"]), render.sources_panel(answer, lang),
                    render.status_banner(status, lang, warnings), render.helpdesk_reply(answer, conv.get("base_url", "")))


def respond(service: Any, question: str, conv: dict[str, Any], filters: dict[str, Any] | None,
            lang: str) -> Iterator[ChatView]:
    """Ask the service and stream the answer into the chat; earlier questions go along as history.

    The answer's language is left to the service (the language of the question), not the interface's.
    """
    question = (question or "").strip()
    if not question:
        yield view(conv, lang)
        return
    keep = int(getattr(getattr(service, "settings", None), "max_history_turns", 20) or 20)
    history = [turn["question"] for turn in conv["turns"]][-keep:]
    turn: dict[str, Any] = {"question": question, "answer": None}
    conv["turns"].append(turn)
    conv["selected"] = len(conv["turns"]) - 1
    messages = conv["messages"]
    messages.append({"role": "user", "content": render.user_message(question)})
    messages.append({"role": "assistant", "content": render.pending_message(lang)})
    yield view(conv, lang, status="retrieving")
    text = ""
    try:
        for event in service.ask_stream(question, history=history or None, filters=filters):
            kind = event.get("type")
            if kind == "delta":
                text += str(event.get("text", ""))
                messages[-1] = {"role": "assistant", "content": render.streaming_message(text)}
                yield view(conv, lang, status="retrieving")
            elif kind == "answer":
                turn["answer"] = dict(event["answer"])
                messages[-1] = {"role": "assistant", "content": render.answer_message(turn["answer"], lang)}
                yield view(conv, lang)
    except Exception:
        log.exception("the UI could not answer %r", question[:200])
        turn["error"] = True
        messages[-1] = {"role": "assistant", "content": render.error_message(lang)}
        yield view(conv, lang, status="error")
        return
    if turn["answer"] is None:  # the stream ended without an answer event
        turn["error"] = True
        messages[-1] = {"role": "assistant", "content": render.error_message(lang)}
        yield view(conv, lang, status="error")


def turn_of_message(message_index: Any) -> int | None:
    """The turn shown by a chat message (messages alternate user, assistant)."""
    if isinstance(message_index, list | tuple):
        message_index = message_index[0] if message_index else None
    if not isinstance(message_index, int):
        return None
    return message_index // 2


def select_turn(conv: dict[str, Any], message_index: Any, lang: str) -> ChatView:
    """Show the sources and the reply of the answer the user clicked in the chat."""
    index = turn_of_message(message_index)
    if index is not None and 0 <= index < len(conv["turns"]):
        conv["selected"] = index
    return view(conv, lang)


def record_feedback(service: Any, conv: Mapping[str, Any], rating: str, comment: str | None, lang: str,
                    turn_index: int | None = None) -> str:
    """Store a thumbs up/down (and an optional comment) for an answer: the selected one by default."""
    index = conv.get("selected") if turn_index is None else turn_index
    turns = conv["turns"]
    answer = turns[index]["answer"] if index is not None and 0 <= index < len(turns) else None
    if not answer:
        return render.notice(t(lang, "feedback_no_answer"), "warning")
    try:
        service.record_feedback(answer["answer_id"], rating, (comment or "").strip() or None)
    except Exception:
        log.exception("feedback for %s was not recorded", answer.get("answer_id"))
        return render.notice(t(lang, "feedback_error"), "error")
    return render.notice(t(lang, "feedback_saved"), "ok")


def record_like(service: Any, conv: Mapping[str, Any], message_index: Any, liked: Any, comment: str | None,
                lang: str) -> str:
    """The chat's own thumbs on a message: up when ``liked`` is True, down when it is False."""
    rating = "up" if liked is True else "down"
    return record_feedback(service, conv, rating, comment, lang, turn_index=turn_of_message(message_index))


# --- documents --------------------------------------------------------------------------------------

def all_documents(service: Any, page: int = 200) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    while True:
        total, batch = service.list_documents(offset=len(docs), limit=page)
        docs.extend(batch)
        if not batch or len(docs) >= total:
            return docs


def filter_choices(service: Any, lang: str) -> dict[str, list[tuple[str, str]]]:
    """The values present in the collection for each filter, each list led by "any"."""
    docs = all_documents(service)
    any_choice = [(t(lang, "any"), ANY)]

    def values(key: str) -> list[tuple[str, str]]:
        found = sorted({str(v) for d in docs if (v := render.doc_field(d, key)) not in (None, "", 0)})
        return any_choice + [(v, v) for v in found]

    return {"doc_type": values("doc_type"), "act": values("act"), "year": values("year"),
            "language": values("language")}


def documents_page(service: Any, offset: int, lang: str) -> tuple[str, list[tuple[str, str]], int]:
    """One page of the documents table, the choices of the document picker, and the page's offset."""
    offset = max(0, int(offset or 0))
    total, docs = service.list_documents(offset=offset, limit=PAGE_SIZE)
    if offset and not docs and total:
        offset = max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE)
        total, docs = service.list_documents(offset=offset, limit=PAGE_SIZE)
    return render.documents_table(total, docs, offset, lang), render.document_choices(docs), offset


def document_details(service: Any, document_id: str | None, lang: str) -> str:
    if not document_id:
        return ""
    return render.document_details(service.get_document(document_id), lang)


def is_admin(settings: Settings, key: str | None) -> bool:
    expected = settings.admin_api_key
    if not expected or not key:
        return False
    return hmac.compare_digest(key.encode(), expected.encode())


def admin_login(settings: Settings, key: str | None, lang: str) -> tuple[bool, str]:
    if not settings.admin_api_key:
        return False, render.notice(t(lang, "admin_disabled"), "warning")
    if is_admin(settings, key):
        return True, render.notice(t(lang, "admin_ok"), "ok")
    return False, render.notice(t(lang, "admin_bad"), "error")


def upload(service: Any, key: str | None, paths: list[str] | None, lang: str) -> str:
    """Ingest the uploaded files (admins only); the key is checked again on every call."""
    if not is_admin(service.settings, key):
        return admin_login(service.settings, key, lang)[1]
    files = [Path(p if isinstance(p, str) else getattr(p, "name", str(p))) for p in paths or []]
    if not files:
        return render.notice(t(lang, "upload_none"), "warning")
    try:
        report = service.upload_documents([(f.name, f.read_bytes()) for f in files])
    except ValueError as exc:  # a refused file (ctn.documents.UploadError): the reason is for the user
        return render.notice(str(exc), "error")
    except Exception as exc:
        log.exception("upload failed")
        return render.notice(f"{t(lang, 'status_error')} ({type(exc).__name__}: {exc})", "error")
    return render.ingest_report(report, lang)


def delete(service: Any, key: str | None, document_id: str | None, lang: str) -> str:
    if not is_admin(service.settings, key):
        return admin_login(service.settings, key, lang)[1]
    if not document_id:
        return render.notice(t(lang, "no_document"), "warning")
    if service.delete_document(document_id):
        return render.notice(t(lang, "deleted", id=document_id), "ok")
    return render.notice(t(lang, "not_deleted", id=document_id), "warning")


# --- page load ----------------------------------------------------------------------------------------

def language_of(headers: Mapping[str, str] | None) -> str:
    return from_accept_language((headers or {}).get("accept-language"))


def base_url_of(headers: Mapping[str, str] | None) -> str:
    """The scheme and host the browser used, so that links in a copied reply work outside the page."""
    headers = headers or {}
    host = headers.get("x-forwarded-host") or headers.get("host")
    if not host:
        return ""
    scheme = (headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
    return f"{scheme}://{host.split(',')[0].strip()}"
