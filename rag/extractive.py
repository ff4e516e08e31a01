"""The default answerer: offline, deterministic, quoting the sentences that answer the question.

It never writes a sentence of its own that carries a fact: every figure, date or name in the answer is
inside a verbatim quote with its [n] marker, so the answer can be pasted and checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.acts import act_keys as act_keys_in
from rag.evidence import TYPED_KINDS, Evidence, EvidenceScorer, answer_type, focus_words, typed_values
from rag.glossary import Glossary
from rag.models import StoredChunk
from rag.text_analysis import analyze

MIN_COVERAGE = 0.30  # of the question's weighted terms, for the best sentence
MIN_TYPED_COVERAGE = 0.22  # ... when it also carries the kind of value asked for (a date, an amount)
MIN_GAIN = 0.0  # coverage a further quote must add (multi-part questions)
RELATIVE_FLOOR = 0.75  # a further quote scores at least this share of the best one
MIN_TOTAL_COVERAGE = 0.45  # of all quotes together
PHRASES = {
    "it": {"lead": "Secondo i documenti:", "lead_other": "Secondo i documenti (citazione in inglese):",
           "not_found": "I documenti disponibili non contengono questa informazione.",
           "closest": "I documenti più vicini alla domanda sono: {docs}.",
           "out_of_scope": "Posso rispondere solo a domande sul programma dei Cluster Tecnologici Nazionali "
                           "e sui documenti che lo riguardano.",
           "conflict": "Le fonti riportano cifre diverse; sono citate entrambe.",
           "amended": "Attenzione: {act} è stato modificato da {by}.",
           "amended_quote": "L'atto è stato poi modificato:"},
    "en": {"lead": "According to the documents:", "lead_other": "According to the documents (quoted in Italian):",
           "not_found": "The documents available do not contain this information.",
           "closest": "The closest documents to the question are: {docs}.",
           "out_of_scope": "I can only answer questions about the National Technology Clusters program and "
                           "the documents about it.",
           "conflict": "The sources give different figures; both are quoted.",
           "amended": "Note: {act} was later amended by {by}.",
           "amended_quote": "The act was later amended:"},
}


@dataclass
class Draft:
    evidence: list[Evidence]
    status: str
    kind: str


def _distinct(a: Evidence, b: Evidence) -> bool:
    ta, tb = set(analyze(a.text, "it")) | set(analyze(a.text, "en")), set(analyze(b.text, "it")) | set(
        analyze(b.text, "en"))
    if not ta or not tb:
        return True
    return len(ta & tb) / len(ta | tb) < 0.6


class ExtractiveAnswerer:
    def __init__(self, known: Callable[[str], bool] | None = None) -> None:
        self.known = known  # does any chunk contain this index term?

    def select(self, question: str, chunks: list[StoredChunk], weights: dict[str, float],
               idf: dict[str, float], act_keys: list[str] | None = None, language: str | None = None,
               fetch_more: Callable[[list[str]], list[StoredChunk]] | None = None,
               constraints_from: str | None = None) -> Draft:
        kind = answer_type(question)
        focus = self.focus_terms(question, language or "en")
        if focus is None:
            return Draft([], "not_found", kind)  # what the question asks about is in no document
        scorer = EvidenceScorer(weights, idf, kind, act_keys, language, focus)
        ranked = scorer.score(chunks)
        if not ranked:
            return Draft([], "not_found", kind)
        typed_kinds = TYPED_KINDS

        def acceptable(ev: Evidence) -> bool:
            if kind in typed_kinds:
                return ev.typed and ev.coverage >= MIN_TYPED_COVERAGE
            return ev.coverage >= MIN_COVERAGE

        best = ranked[0]
        if best.unknown and not (kind in ("date", "amount") and best.typed):
            # The documents say they do not know; only another good statement can still answer.
            known = next((e for e in ranked[1:10] if not e.unknown and acceptable(e)
                          and e.score >= best.score * 0.8), None)
            if known is None:
                return Draft([best], "not_found", kind)
            best = known
        if not acceptable(best):
            return Draft([], "not_found", kind)
        chosen = [best]
        covered = set(best.terms)
        named = {k.split(":")[1] for k in act_keys or []}

        def other_act(ev: Evidence) -> bool:
            """A sentence about acts, none of them the one the question names (a 2016 extension is no
            answer about the 2012 notice)."""
            mentioned = {k.split(":")[1] for k in act_keys_in(ev.text)}
            return bool(named and mentioned and not (mentioned & named))

        for ev in ranked[:15]:
            if ev is best or other_act(ev):
                continue
            if len(chosen) >= (4 if kind == "list" else 3):
                break
            if ev.score < best.score * RELATIVE_FLOOR or ev.unknown or not all(_distinct(ev, c) for c in chosen):
                continue
            gain = scorer.coverage(covered | ev.terms) - scorer.coverage(covered)
            conflict = (kind in ("amount", "count", "date") and ev.typed and ev.score >= best.score * 0.9
                        and ev.chunk.document_id != best.chunk.document_id
                        and not (typed_values(kind, ev.text) & typed_values(kind, best.text)))
            if gain >= MIN_GAIN or conflict:
                chosen.append(ev)
                covered |= ev.terms
        if fetch_more is not None and len(chosen) < 3 and scorer.coverage(covered) < 0.85:
            # A multi-part question: look again for what the quotes so far do not cover.
            missing = [t for t in scorer.weights if t not in covered and t in scorer.question_terms]
            if missing:
                extra = scorer.score(fetch_more(missing), limit=6)
                for ev in extra[:8]:
                    if other_act(ev):
                        continue
                    gain = scorer.coverage(covered | ev.terms) - scorer.coverage(covered)
                    if (gain >= MIN_GAIN and not ev.unknown and ev.coverage >= MIN_COVERAGE * 0.5
                            and all(_distinct(ev, c) for c in chosen)):
                        ev.rank = len(chunks) + ev.rank
                        chosen.append(ev)
                        covered |= ev.terms
                        break
        if scorer.coverage(covered) < MIN_TOTAL_COVERAGE:
            return Draft([], "not_found", kind)
        if not self._constraints_met(constraints_from or question, chosen):
            return Draft([], "not_found", kind)
        chosen = [self._with_list(e) for e in chosen]
        chosen.sort(key=lambda e: (e.rank, e.start))
        return Draft(chosen, "answered", kind)

    @staticmethod
    def _with_list(ev: Evidence, limit: int = 600) -> Evidence:
        """A lead-in ending with a colon ("sono ammissibili le seguenti spese:") is quoted together with
        the list that follows it in the same chunk; the quote stays one verbatim span."""
        if not ev.text.rstrip().endswith(":"):
            return ev
        text = ev.chunk.text
        end = ev.end
        for m in re.finditer(r"\n\s*(?:[-•*–]|\d+[.)]|[a-z]\))\s[^\n]*", text[ev.end:]):
            if ev.end + m.start() > end + 3 or ev.end + m.end() - ev.start > limit:
                break
            end = ev.end + m.end()
        if end == ev.end:
            return ev
        return Evidence(ev.chunk, ev.rank, ev.start, end, text[ev.start:end], ev.coverage, ev.typed, ev.score,
                        ev.terms, ev.own_terms)

    def focus_terms(self, question: str, language: str) -> set[str] | None:
        """Stems of the asked-about noun, with its glossary equivalents; None when no document has it."""
        words = focus_words(question)
        if not words:
            return set()
        glossary = Glossary.load()
        terms = set(analyze(" ".join(words), "it")) | set(analyze(" ".join(words), "en"))
        terms |= set(glossary.expansions(" ".join(words), language))
        if self.known is not None and terms and not any(self.known(t) for t in terms):
            return None
        return terms

    @staticmethod
    def _constraints_met(question: str, chosen: list[Evidence]) -> bool:
        """Years and act numbers the question names must be stated by the quotes or their documents:
        a question about "the 2022 notice" is not answered by a quote about the 2012 one."""
        wanted = {n.replace(".", "").replace(",", "") for n in re.findall(r"\b\d[\d.,]{2,}\d\b|\b\d{3,}\b", question)}
        if not wanted:
            return True
        have = " ".join(
            f"{e.text} {e.chunk.metadata.get('title', '')} {e.chunk.metadata.get('act', '')} "
            f"{e.chunk.metadata.get('section', '')} {e.chunk.metadata.get('year', '')} "
            f"{e.chunk.metadata.get('act_number', '')}" for e in chosen)
        have_numbers = {n.replace(".", "").replace(",", "") for n in re.findall(r"\d[\d.,]*\d|\d", have)}
        return wanted <= have_numbers

    @staticmethod
    def conflicting(draft: Draft) -> bool:
        """Two quotes from different documents giving different figures for the same question."""
        if draft.kind not in ("amount", "count", "date") or len(draft.evidence) < 2:
            return False
        docs = {e.chunk.document_id for e in draft.evidence}
        figures = [typed_values(draft.kind, e.text) for e in draft.evidence]
        return len(docs) > 1 and any(a and b and not (a & b) for a in figures for b in figures)
