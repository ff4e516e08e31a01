"""HTML and text formatting for the UI: answers, sources, statuses, the help-desk reply, document tables.

Every piece of document or user text goes through ``esc`` before it is placed in HTML: the documents
are untrusted input (an uploaded file may contain ``<script>``), and the browser must show it as text.
Only the markup written in this module is ever emitted unescaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ui.i18n import t

MARKER = re.compile(r"\[(\d+)\]")
TITLE_CHARS = 400


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def text_block(text: str) -> str:
    """Escaped text with its line breaks kept."""
    return esc(text).replace("\n", "<br>")


def source_anchor(answer_id: str, n: int | str) -> str:
    return f"ctn-src-{re.sub(r'[^A-Za-z0-9]', '', answer_id)[:12]}-{n}"


def page_label(page: object, lang: str) -> str:
    return f"{t(lang, 'page')} {page}" if page not in (None, "", 0) else ""


def user_message(question: str) -> str:
    return text_block(question)


def pending_message(lang: str) -> str:
    return f'<span class="ctn-pending">{esc(t(lang, "status_retrieving"))}</span>'


def streaming_message(text: str) -> str:
    return text_block(text)


def answer_message(answer: Mapping[str, Any], lang: str) -> str:
    """The chat bubble of a finished answer: its text with each [n] a link to the sources panel."""
    by_n = {int(c["n"]): c for c in answer.get("citations") or []}
    answer_id = str(answer.get("answer_id", ""))

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        cit = by_n.get(n)
        if cit is None:
            return match.group(0)
        quote = str(cit.get("quote", ""))
        if len(quote) > TITLE_CHARS:
            quote = quote[:TITLE_CHARS] + "…"
        return (f'<a class="ctn-cite" href="#{source_anchor(answer_id, n)}" data-n="{n}" '
                f'title="{esc(quote)}">[{n}]</a>')

    body = MARKER.sub(link, text_block(str(answer.get("answer", ""))))
    parts = [f'<div class="ctn-answer">{body}</div>']
    status = answer.get("status")
    if status in ("not_found", "out_of_scope"):
        parts.insert(0, f'<div class="ctn-badge ctn-badge-{esc(status)}">{esc(t(lang, "status_" + status))}</div>')
    for warning in answer.get("warnings") or []:
        parts.append(f'<div class="ctn-warning">⚠ {esc(t(lang, "warning"))}: {text_block(warning)}</div>')
    return "".join(parts)


def error_message(lang: str) -> str:
    return f'<div class="ctn-badge ctn-badge-error">{esc(t(lang, "status_error"))}</div>'


def status_banner(status: str | None, lang: str, warnings: Iterable[str] = ()) -> str:
    """The status line under the chat: answered, not found, out of scope, error, plus the warnings."""
    if not status:
        return ""
    key = {"retrieving": "status_retrieving", "answered": "status_answered", "not_found": "status_not_found",
           "out_of_scope": "status_out_of_scope", "error": "status_error"}.get(status, "status_error")
    parts = [f'<div class="ctn-status ctn-status-{esc(status)}" data-status="{esc(status)}">'
             f'{esc(t(lang, key))}</div>']
    for warning in warnings:
        parts.append(f'<div class="ctn-warning">⚠ {esc(t(lang, "warning"))}: {text_block(warning)}</div>')
    return "".join(parts)


def _doc_link(url: str, page: object, lang: str) -> str:
    label = t(lang, "open_page", page=page) if page not in (None, "", 0) else t(lang, "open_document")
    return f'<a class="ctn-open" href="{esc(url)}" target="_blank" rel="noopener">{esc(label)} ↗</a>'


def sources_panel(answer: Mapping[str, Any] | None, lang: str) -> str:
    """The panel beside the chat: each cited passage with its document, act, page and section."""
    if not answer:
        return f'<div class="ctn-sources"><p class="ctn-muted">{esc(t(lang, "sources_empty"))}</p></div>'
    answer_id = str(answer.get("answer_id", ""))
    items: list[str] = []
    for cit in answer.get("citations") or []:
        meta = " · ".join(filter(None, [esc(cit.get("act")), esc(page_label(cit.get("page"), lang)),
                                        esc(cit.get("section")), esc(cit.get("doc_type"))]))
        items.append(
            f'<div class="ctn-source" id="{source_anchor(answer_id, cit["n"])}" data-n="{esc(cit["n"])}">'
            f'<div class="ctn-source-head"><span class="ctn-n">[{esc(cit["n"])}]</span> '
            f'<strong>{esc(cit.get("title") or cit.get("source"))}</strong></div>'
            f'<div class="ctn-meta">{meta}</div>'
            f'<blockquote class="ctn-quote"><mark>{text_block(cit.get("quote", ""))}</mark></blockquote>'
            f'{_doc_link(str(cit.get("url", "")), cit.get("page"), lang)}</div>')
    if answer.get("status") == "not_found":
        closest = answer.get("closest_documents") or []
        items.append(f'<div class="ctn-closest"><p><strong>{esc(t(lang, "status_not_found"))}.</strong> '
                     f'{esc(t(lang, "status_not_found_hint"))}</p><ul>')
        for doc in closest:
            meta = " · ".join(filter(None, [esc(doc.get("act")), esc(page_label(doc.get("page"), lang)),
                                            esc(doc.get("section"))]))
            items.append(f'<li><strong>{esc(doc.get("title"))}</strong><div class="ctn-meta">{meta}</div>'
                         f'{_doc_link(str(doc.get("url", "")), doc.get("page"), lang)}</li>')
        items.append("</ul></div>")
    if not items:
        return f'<div class="ctn-sources"><p class="ctn-muted">{esc(t(lang, "sources_empty"))}</p></div>'
    return f'<div class="ctn-sources">{"".join(items)}</div>'


def absolute(url: str, base_url: str) -> str:
    return base_url.rstrip("/") + url if url.startswith("/") and base_url else url


def helpdesk_reply(answer: Mapping[str, Any] | None, base_url: str = "") -> str:
    """A reply ready to send: the answer, its warnings and a numbered reference list with links.

    It is written in the answer's language (the language of the person who asked), not the interface's.
    """
    if not answer:
        return ""
    lang = str(answer.get("language") or "en")
    lines = [str(answer.get("answer", "")).strip()]
    for warning in answer.get("warnings") or []:
        lines.append(f"{t(lang, 'warning')}: {warning}")
    refs = []
    for cit in answer.get("citations") or []:
        where = ", ".join(filter(None, [str(cit.get("title") or ""), page_label(cit.get("page"), lang),
                                        str(cit.get("section") or "")]))
        head = " — ".join(filter(None, [str(cit.get("act") or ""), where]))
        refs.append(f"[{cit['n']}] {head}\n    {absolute(str(cit.get('url', '')), base_url)}")
    if not refs and answer.get("status") == "not_found":
        for i, doc in enumerate(answer.get("closest_documents") or [], start=1):
            head = " — ".join(filter(None, [str(doc.get("act") or ""), str(doc.get("title") or "")]))
            refs.append(f"{i}. {head}\n    {absolute(str(doc.get('url', '')), base_url)}")
        if refs:
            lines.append("")
            lines.append(f"{t(lang, 'closest')}:")
            lines.extend(refs)
        return "\n".join(lines)
    if refs:
        lines.append("")
        lines.append(f"{t(lang, 'references')}:")
        lines.extend(refs)
    return "\n".join(lines)


def doc_field(doc: Mapping[str, Any], key: str) -> Any:
    """A document's field, whether the service puts it at the top level or in ``meta``."""
    value = doc.get(key)
    if value in (None, "") and isinstance(doc.get("meta"), Mapping):
        value = doc["meta"].get(key)
    if value in (None, "") and isinstance(doc.get("metadata"), Mapping):
        value = doc["metadata"].get(key)
    return value


def doc_status(doc: Mapping[str, Any]) -> str:
    status = doc_field(doc, "status")
    if status:
        return str(status)
    chunks = doc_field(doc, "n_chunks")
    return "indexed" if chunks not in (None, "", 0) else ""


def documents_table(total: int, docs: list[Mapping[str, Any]], offset: int, lang: str) -> str:
    if not docs:
        return f'<div class="ctn-docs"><p class="ctn-muted">{esc(t(lang, "documents_empty"))}</p></div>'
    cols = ["col_title", "col_type", "col_act", "col_year", "col_language", "col_chunks", "col_status",
            "col_ingested", "col_id"]
    head = "".join(f"<th>{esc(t(lang, c))}</th>" for c in cols)
    rows = []
    for doc in docs:
        cells = [doc_field(doc, "title"), doc_field(doc, "doc_type"), doc_field(doc, "act"),
                 doc_field(doc, "year"), doc_field(doc, "language"), doc_field(doc, "n_chunks"), doc_status(doc),
                 str(doc_field(doc, "ingested_at") or "")[:19].replace("T", " "), doc_field(doc, "document_id")]
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    shown = f"{offset + 1}–{offset + len(docs)} / {t(lang, 'documents_total', total=total)}"
    return (f'<div class="ctn-docs"><p class="ctn-muted">{esc(shown)}</p>'
            f'<table class="ctn-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def document_choices(docs: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Dropdown choices (label, document id); Gradio shows labels as text."""
    return [(f"{doc_field(d, 'title') or doc_field(d, 'document_id')} ({doc_field(d, 'document_id')})",
             str(doc_field(d, "document_id"))) for d in docs]


def document_details(doc: Mapping[str, Any] | None, lang: str, max_chunks: int = 60) -> str:
    """A document's metadata, then its chunks (section, page, text), all escaped."""
    if not doc:
        return ""
    rows = []
    flat = {k: v for k, v in doc.items() if k not in ("meta", "metadata", "chunks")}
    for key in ("meta", "metadata"):
        if isinstance(doc.get(key), Mapping):
            flat.update({k: v for k, v in doc[key].items() if k not in flat})
    for key, value in flat.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        rows.append(f"<tr><th>{esc(key)}</th><td>{esc(value)}</td></tr>")
    chunks = []
    for chunk in list(doc.get("chunks") or [])[:max_chunks]:
        where = " · ".join(filter(None, [esc(chunk.get("section")), esc(page_label(chunk.get("page"), lang))]))
        chunks.append(f'<div class="ctn-chunk"><div class="ctn-meta">{where}</div>'
                      f'<div class="ctn-chunk-text">{text_block(chunk.get("text", ""))}</div></div>')
    return (f'<div class="ctn-details"><h4>{esc(t(lang, "details"))}</h4><table class="ctn-table">{"".join(rows)}'
            f'</table>{"".join(chunks)}</div>')


def ingest_report(report: Any, lang: str) -> str:
    """The result of an upload: counts, then one line per failed file with its reason."""
    results = list(getattr(report, "results", []) or [])
    counts = {s: sum(1 for r in results if getattr(r, "status", "") == s)
              for s in ("added", "updated", "unchanged", "removed", "failed")}
    summary = ", ".join(f"{counts[s]} {t(lang, 'report_' + s)}" for s in counts)
    lines = [f"<p>{esc(summary)}</p>"]
    if results:
        lines.append("<ul>")
        for r in results:
            reason = f": {esc(r.reason)}" if getattr(r, "reason", "") else ""
            lines.append(f"<li><code>{esc(r.path)}</code> — {esc(r.status)}{reason}</li>")
        lines.append("</ul>")
    return f'<div class="ctn-report">{"".join(lines)}</div>'


def notice(text: str, kind: str = "info") -> str:
    return f'<div class="ctn-notice ctn-notice-{esc(kind)}">{esc(text)}</div>'
