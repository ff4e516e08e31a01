"""The UI's handlers over a real service and a small real corpus: answers, statuses, escaping, feedback,
the help-desk reply, the documents tab and its admin checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from fastapi import FastAPI

from ctn.service import AssistantService
from rag.settings import Settings
from tests.ui.conftest import (
    ADMIN_KEY,
    ANSWERED_FACT,
    ANSWERED_QUESTION,
    HOSTILE_QUESTION,
    NOT_FOUND_QUESTION,
)
from ui import handlers, render
from ui.app import build_ui, mount
from ui.i18n import from_accept_language

BASE = "http://assistant.example"


def ask(service: Any, question: str, conv: dict[str, Any] | None = None, filters: dict | None = None,
        lang: str = "en") -> tuple[list[handlers.ChatView], dict[str, Any]]:
    conv = conv if conv is not None else handlers.new_conversation(BASE)
    return list(handlers.respond(service, question, conv, filters, lang)), conv


class SpyService:
    """The real service, recording the arguments of each ``ask_stream`` call."""

    def __init__(self, service: AssistantService) -> None:
        self.service = service
        self.calls: list[dict[str, Any]] = []

    def ask_stream(self, question: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append({"question": question, **kwargs})
        yield from self.service.ask_stream(question, **kwargs)


# --- chat -------------------------------------------------------------------------------------------

def test_answer_streams_into_the_chat_with_linked_citations_and_sources(ui_service: AssistantService) -> None:
    views, conv = ask(ui_service, ANSWERED_QUESTION)

    assert len(views) >= 3  # pending, at least one streamed piece, the final answer
    assert 'data-status="retrieving"' in views[0].status
    assert ANSWERED_FACT in views[-2].messages[-1]["content"]  # streamed text before the final answer
    final = views[-1]
    answer = conv["turns"][0]["answer"]
    assert answer["status"] == "answered"
    assert final.messages[0] == {"role": "user", "content": render.esc(ANSWERED_QUESTION)}
    bubble = final.messages[-1]["content"]
    assert ANSWERED_FACT in bubble
    anchor = render.source_anchor(answer["answer_id"], 1)
    assert f'<a class="ctn-cite" href="#{anchor}"' in bubble
    assert 'title="2. La dotazione finanziaria complessiva' in bubble  # the quote on hover
    assert 'data-status="answered"' in final.status
    # the sources panel: the cited entry, its page, the highlighted quote and the link to the page
    assert f'id="{anchor}"' in final.sources
    assert "Avviso di prova per i Cluster tecnologici nazionali" in final.sources
    assert "p. 1" in final.sources
    assert re.search(r"<mark>[^<]*41\.700\.000 euro[^<]*</mark>", final.sources)
    assert 'href="/v1/documents/avviso-prova/file#page=1"' in final.sources


def test_follow_up_sends_the_earlier_questions_as_history(ui_service: AssistantService) -> None:
    spy = SpyService(ui_service)
    conv = handlers.new_conversation(BASE)
    ask(spy, "Quando scade il bando Zefiro?", conv)
    views, conv = ask(spy, "E chi può partecipare?", conv)

    assert spy.calls[0]["history"] is None
    assert spy.calls[1]["history"] == ["Quando scade il bando Zefiro?"]
    assert "lang" not in spy.calls[1]  # the answer keeps the question's language, not the interface's
    second = conv["turns"][1]["answer"]
    assert second["language"] == "it"
    assert second["rewritten_question"] and "Zefiro" in second["rewritten_question"]
    assert len(views[-1].messages) == 4


def test_not_found_says_so_and_lists_the_closest_documents(ui_service: AssistantService) -> None:
    views, conv = ask(ui_service, NOT_FOUND_QUESTION, lang="it")

    answer = conv["turns"][0]["answer"]
    assert answer["status"] == "not_found" and answer["closest_documents"]
    final = views[-1]
    assert 'data-status="not_found"' in final.status
    assert "Non trovato nei documenti" in final.status
    assert "ctn-badge-not_found" in final.messages[-1]["content"]
    assert "Domande frequenti sul programma Zefiro" in final.sources
    assert 'href="/v1/documents/faq-zefiro/file' in final.sources
    assert "ctn-cite" not in final.messages[-1]["content"]
    assert "Documenti più vicini:" in final.reply
    assert f"{BASE}/v1/documents/faq-zefiro/file" in final.reply


def test_a_service_error_shows_an_error_and_keeps_the_conversation(tmp_path: Path, embedder) -> None:
    broken = AssistantService(Settings(data_dir=tmp_path / "data", chroma_url="http://127.0.0.1:9",
                                       chroma_timeout_s=1.0))
    broken.__dict__["embedder"] = embedder
    views, conv = ask(broken, ANSWERED_QUESTION)

    final = views[-1]
    assert 'data-status="error"' in final.status
    assert "ctn-badge-error" in final.messages[-1]["content"]
    assert conv["turns"][0]["error"] is True
    assert final.reply == ""
    assert handlers.record_feedback(broken, conv, "up", None, "en").count("no answer to rate")


def test_an_empty_question_changes_nothing(ui_service: AssistantService) -> None:
    views, conv = ask(ui_service, "   ")
    assert len(views) == 1 and views[0].messages == [] and conv["turns"] == []


def test_document_text_is_escaped_in_the_chat_and_the_sources(ui_service: AssistantService) -> None:
    views, conv = ask(ui_service, "Qual è il programma <b>Quokka</b>? <script>alert(1)</script> "
                      + HOSTILE_QUESTION)
    final = views[-1]
    answer = conv["turns"][0]["answer"]
    assert answer["citations"] and "<script>" in answer["citations"][0]["quote"]  # really hostile text
    for html in (final.messages[-1]["content"], final.messages[0]["content"], final.sources):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in final.sources
    assert "&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;" in final.sources
    assert "Nota sul programma Quokka &lt;script&gt;" in final.sources


def test_filters_reach_the_service(ui_service: AssistantService) -> None:
    assert handlers.build_filters("", "", "", "") is None
    assert handlers.build_filters("faq", " DD 257/Ric ", "2012", "it") == {
        "doc_type": "faq", "act": "DD 257/Ric", "year": 2012, "language": "it"}
    spy = SpyService(ui_service)
    views, conv = ask(spy, "What is the minimum budget of a Borealis project?",
                      filters=handlers.build_filters("", "", "", "en"))
    assert spy.calls[0]["filters"] == {"language": "en"}
    assert conv["turns"][0]["answer"]["status"] == "answered"
    views, conv = ask(spy, "What is the minimum budget of a Borealis project?",
                      filters=handlers.build_filters("", "", "", "it"))
    assert spy.calls[1]["filters"] == {"language": "it"}
    assert all("Borealis" not in c["title"] for c in conv["turns"][0]["answer"]["citations"])


def test_filter_choices_come_from_the_documents(ui_service: AssistantService) -> None:
    choices = handlers.filter_choices(ui_service, "it")
    assert choices["doc_type"][0] == ("Tutti", "")
    assert ("notice", "notice") in choices["doc_type"]
    assert {"it", "en"} <= {v for _, v in choices["language"]}


def test_selecting_an_earlier_answer_shows_its_sources(ui_service: AssistantService) -> None:
    conv = handlers.new_conversation(BASE)
    ask(ui_service, ANSWERED_QUESTION, conv)
    ask(ui_service, "What is the minimum budget of a Borealis project?", conv)
    assert "Borealis" in handlers.view(conv, "en").sources

    shown = handlers.select_turn(conv, 1, "en")  # the first assistant message
    assert conv["selected"] == 0
    assert "41.700.000" in shown.sources and "Borealis" not in shown.sources


# --- help-desk reply ----------------------------------------------------------------------------------

def test_helpdesk_reply_has_the_answer_and_a_numbered_reference_list(ui_service: AssistantService) -> None:
    views, conv = ask(ui_service, ANSWERED_QUESTION)
    reply = views[-1].reply
    answer = conv["turns"][0]["answer"]
    assert reply.startswith(answer["answer"])
    assert "\n\nRiferimenti:\n[1] " in reply  # in the answer's language
    assert "Avviso di prova per i Cluster tecnologici nazionali, pag. 1" in reply
    assert f"{BASE}/v1/documents/avviso-prova/file#page=1" in reply


def test_helpdesk_reply_lists_warnings_and_acts() -> None:
    answer = {"answer": "According to the documents: «X is 5.» [1]", "language": "en", "status": "answered",
              "warnings": ["DD 1 was amended by DD 2"],
              "citations": [{"n": 1, "act": "DD 1 of 2 May 2020", "title": "Notice", "page": 3, "section": "Art. 4",
                             "url": "/v1/documents/dd-1/file#page=3"}]}
    assert render.helpdesk_reply(answer, "https://help.example/") == (
        "According to the documents: «X is 5.» [1]\n"
        "Warning: DD 1 was amended by DD 2\n\n"
        "References:\n"
        "[1] DD 1 of 2 May 2020 — Notice, p. 3, Art. 4\n"
        "    https://help.example/v1/documents/dd-1/file#page=3")


def test_warnings_are_shown_as_warnings() -> None:
    answer = {"answer_id": "a1", "answer": "«5» [1]", "status": "answered", "language": "en",
              "warnings": ["Conflicting <figures>"], "citations": [{"n": 1, "quote": "5"}]}
    assert '<div class="ctn-warning">⚠ Warning: Conflicting &lt;figures&gt;</div>' in render.answer_message(answer, "en")
    assert 'class="ctn-warning"' in render.status_banner("answered", "it", answer["warnings"])


# --- feedback -----------------------------------------------------------------------------------------

def test_thumbs_and_comment_are_stored_for_the_answer(ui_service: AssistantService) -> None:
    _, conv = ask(ui_service, ANSWERED_QUESTION)
    answer_id = conv["turns"][0]["answer"]["answer_id"]

    notice = handlers.record_feedback(ui_service, conv, "down", "  Manca la scadenza  ", "it")
    assert "registrato" in notice
    handlers.record_like(ui_service, conv, 1, True, "", "en")  # the chat's own thumb on message 1

    stored = [f for f in ui_service.list_feedback() if f["answer_id"] == answer_id]
    assert sorted((f["rating"], f.get("comment")) for f in stored) == [("down", "Manca la scadenza"), ("up", None)]


def test_feedback_without_an_answer_asks_for_one(ui_service: AssistantService) -> None:
    notice = handlers.record_feedback(ui_service, handlers.new_conversation(), "up", "", "en")
    assert "no answer to rate" in notice


# --- documents and admin ------------------------------------------------------------------------------

def test_documents_tab_lists_metadata_and_escapes_titles(ui_service: AssistantService) -> None:
    table, choices, offset = handlers.documents_page(ui_service, 0, "en")
    assert offset == 0
    assert "5 documents" in table
    assert "avviso-prova" in table and "notice" in table and ">current<" in table
    assert "Nota sul programma Quokka &lt;script&gt;window.__pwned = 1&lt;/script&gt;" in table
    assert "<script" not in table
    assert ("Avviso di prova per i Cluster tecnologici nazionali (avviso-prova)", "avviso-prova") in choices
    details = handlers.document_details(ui_service, "nota-quokka", "en")
    assert "&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;" in details
    assert "<script" not in details and "<img" not in details
    assert handlers.document_details(ui_service, "", "en") == ""


def test_documents_page_past_the_end_shows_the_last_page(ui_service: AssistantService) -> None:
    table, _, offset = handlers.documents_page(ui_service, 500, "en")
    assert offset == 0 and "avviso-prova" in table


def test_admin_key_is_checked(ui_service: AssistantService) -> None:
    settings = ui_service.settings
    assert handlers.is_admin(settings, ADMIN_KEY)
    assert not handlers.is_admin(settings, ADMIN_KEY + "x")
    assert not handlers.is_admin(settings, "")
    assert not handlers.is_admin(Settings(admin_api_key=None), "")
    assert handlers.admin_login(Settings(admin_api_key=None), "anything", "en")[0] is False
    assert handlers.admin_login(settings, ADMIN_KEY, "en")[0] is True


def test_upload_and_delete_need_the_admin_key(ui_service: AssistantService, tmp_path: Path) -> None:
    note = tmp_path / "nota-upload-ui.txt"
    note.write_text("Nota sul programma Wombat\n\nIl programma Wombat finanzia 12 progetti pilota.\n", encoding="utf-8")

    refused = handlers.upload(ui_service, "wrong", [str(note)], "en")
    assert "Invalid key" in refused
    assert ui_service.get_document("nota-upload-ui") is None

    report = handlers.upload(ui_service, ADMIN_KEY, [str(note)], "en")
    assert "1 added" in report and "nota-upload-ui.txt" in report
    assert ui_service.get_document("nota-upload-ui") is not None

    bad = tmp_path / "fake.pdf"
    bad.write_bytes(b"not a pdf at all")
    assert "ctn-notice-error" in handlers.upload(ui_service, ADMIN_KEY, [str(bad)], "en")
    assert "No file chosen" in handlers.upload(ui_service, ADMIN_KEY, [], "en")

    assert "Invalid key" in handlers.delete(ui_service, None, "nota-upload-ui", "en")
    assert ui_service.get_document("nota-upload-ui") is not None
    assert "Document deleted" in handlers.delete(ui_service, ADMIN_KEY, "nota-upload-ui", "en")
    assert ui_service.get_document("nota-upload-ui") is None
    assert "Document not found" in handlers.delete(ui_service, ADMIN_KEY, "nota-upload-ui", "en")


# --- page set-up --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "lang"), [
    ("it-IT,it;q=0.9,en-US;q=0.8,en;q=0.7", "it"), ("en-GB,en;q=0.9,it;q=0.8", "en"),
    ("de-DE,de;q=0.9,it;q=0.5", "it"), ("fr-FR", "en"), ("", "en"), ("en;q=0.2,it;q=0.8", "it"),
])
def test_interface_language_follows_accept_language(header: str, lang: str) -> None:
    assert from_accept_language(header) == lang


def test_base_url_is_taken_from_the_request_headers() -> None:
    assert handlers.base_url_of({"host": "127.0.0.1:8000"}) == "http://127.0.0.1:8000"
    assert handlers.base_url_of({"host": "x", "x-forwarded-host": "help.example",
                                 "x-forwarded-proto": "https"}) == "https://help.example"
    assert handlers.base_url_of({}) == ""


def test_build_ui_and_mount_serve_the_page_at_ui(ui_service: AssistantService) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(build_ui(ui_service), gr.Blocks)
    app = FastAPI()
    mount(app, ui_service)
    with TestClient(app) as client:
        page = client.get("/ui/")
    assert page.status_code == 200 and "ctn-cite" in page.text  # the page carries the UI's own head
