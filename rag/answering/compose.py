"""The extractive answer's text: the direct answer first, then the quotes grouped by document, each cited.

"In breve: euro 408.000.000,00 [1]." gives the asked-for value verbatim from the best quote; then
"Secondo i documenti: «...» [1] «...» [2] (DD 257/Ric del 30 maggio 2012)." quotes the evidence, document by
document, naming the act after the quotes taken from the act itself; a part of the question that the
documents do not answer is named as such. The lead says in which language the quotes are when it is not the
answer's (the language of each quote is read from the quote, not from its document's metadata).
"""

from __future__ import annotations

import re

from rag.acts import format_act
from rag.answering.extractive import Draft, Evidence
from rag.language import detect_language_with_confidence
from rag.phrases import phrases
from rag.state import AnswerState
from rag.values import YEAR, value_spans

PRIMARY_TYPES = ("notice", "decree", "law", "guideline")
MAX_QUOTE = 700  # a lead-in is quoted with its list when the whole span stays readable


def quote_of(ev: Evidence) -> str:
    """The quote: the unit, or a lead-in with the items it introduces when they follow it closely."""
    text = ev.chunk.text
    if ev.items and ev.items[-1].end - ev.unit.start <= MAX_QUOTE:
        return text[ev.unit.start:ev.items[-1].end]
    return ev.unit.text


def act_label(ev: Evidence, language: str) -> str:
    meta = ev.chunk.metadata
    if meta.get("doc_type") not in PRIMARY_TYPES or not meta.get("act_number"):
        return ""
    return format_act(str(meta.get("act_type") or ""), str(meta.get("act_number") or ""),
                      str(meta.get("act_date") or ""), language, fallback=str(meta.get("act") or ""))


def quote_language(text: str, fallback: str) -> str:
    lang, prob = detect_language_with_confidence(text)
    return lang if lang in ("it", "en") and prob >= 0.6 else fallback


def lead(s: AnswerState, quotes: list[str]) -> str:
    ph = phrases(s.language)
    others = sorted({quote_language(q, s.language) for q in quotes} - {s.language})
    if not others:
        return ph["lead"]
    names = ph["language_names"]
    return ph["lead_quoted_in"].format(languages=", ".join(names.get(lg, lg) for lg in others))


def conflicting(evidence: list[Evidence], kind: str, years: set[str] | frozenset[str] = frozenset()) -> bool:
    """Quotes that the scorer holds more likely than not to answer (p >= 0.5), from different documents, giving
    different values of the asked-for kind: a quote added for context is no disagreeing source. When the
    question names a year (``years``), a quote naming only other years is about another edition or act."""
    evidence = [e for e in evidence if e.p >= 0.5]
    if years:
        evidence = [e for e in evidence if not (found := set(YEAR.findall(e.text))) or found & years]
    if kind not in ("amount", "count", "date", "percent") or len(evidence) < 2:
        return False
    values = [(e.chunk.document_id, {re.sub(r"\D", "", e.text[a:b]) for a, b in value_spans(e.text)[kind]})
              for e in evidence]
    return any(d1 != d2 and v1 and v2 and not (v1 & v2) for i, (d1, v1) in enumerate(values)
               for d2, v2 in values[i + 1:])


def compose(s: AnswerState, draft: Draft) -> None:
    ph = phrases(s.language)
    pieces: list[str] = []
    answered = [p for p in draft.parts if p.answered]
    for part in answered:
        if part.direct:
            n = s.cite(part.evidence[0].chunk, quote_of(part.evidence[0]))
            pieces.append(ph["direct"].format(value=part.direct, n=n))
    evidence: list[Evidence] = []
    for part in answered:
        for ev in part.evidence:
            if all(quote_of(ev) != quote_of(e) for e in evidence):
                evidence.append(ev)
    quotes = [quote_of(e) for e in evidence]
    groups: dict[str, list[Evidence]] = {}
    for ev in evidence:
        groups.setdefault(ev.chunk.document_id, []).append(ev)
    body = [lead(s, quotes)]
    for evs in groups.values():
        cited = [f"«{quote_of(ev)}» [{s.cite(ev.chunk, quote_of(ev))}]" for ev in evs]
        label = act_label(evs[0], s.language)
        number = str(evs[0].chunk.metadata.get("act_number") or "").split("/")[0]
        if label and not any(re.search(rf"(?<!\d){re.escape(number)}(?!\d)", quote_of(ev)) for ev in evs):
            cited[-1] += f" ({label})"
        body.append(" ".join(cited))
    pieces.append(" ".join(body))
    for part in draft.parts:
        if not part.answered:
            pieces.append(ph["part_not_found"].format(part=part.text.strip().rstrip("?").strip()))
    s.text = "\n\n".join(pieces)
    years = {n for n in s.analysis.numbers if YEAR.fullmatch(n)} if s.analysis is not None else set()
    if any(conflicting(p.evidence, p.kind, years) for p in answered):
        s.warnings.append(ph["conflict"])
