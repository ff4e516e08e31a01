"""The default answerer: offline, deterministic, quoting the sentences that answer the question.

It never writes a sentence of its own that carries a fact: every figure, date or name in the answer is
inside a verbatim quote with its [n] marker, so the answer can be pasted and checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.acts import act_keys as act_keys_in
from rag.decompose import strip_meta
from rag.evidence import (
    PRIMARY_TYPES,
    TYPED_KINDS,
    Evidence,
    EvidenceScorer,
    answer_type,
    focus_words,
    typed_values,
)
from rag.glossary import Glossary
from rag.models import StoredChunk
from rag.text_analysis import analyze

MIN_COVERAGE = 0.30  # of the question's weighted terms, for the best sentence
MIN_TYPED_COVERAGE = 0.22  # ... when it also carries the kind of value asked for (a date, an amount)
MIN_GAIN = 0.0  # coverage a further quote must add (multi-part questions)
RELATIVE_FLOOR = 0.75  # a further quote scores at least this share of the best one
MIN_TOTAL_COVERAGE = 0.3  # of all quotes together
RUNNER_UP = 0.8  # share of the top score a sentence needs to answer when the top one cannot
UNKNOWN_MARGIN = 0.05  # how much closer to the question a "not known" statement must be to outweigh an answer
FOCUS_UNKNOWN_COVERAGE = 0.9  # a sentence this close to the question answers it even in other words
PHRASES = {
    "it": {"lead": "Secondo i documenti:", "lead_other": "Secondo i documenti (citazione in inglese):",
           "not_found": "I documenti disponibili non contengono questa informazione.",
           "part_not_found": "Su “{part}” i documenti disponibili non dicono nulla.",
           "closest": "I documenti più vicini alla domanda sono: {docs}.",
           "out_of_scope": "Posso rispondere solo a domande sul programma dei Cluster Tecnologici Nazionali "
                           "e sui documenti che lo riguardano.",
           "conflict": "Le fonti riportano cifre diverse; sono citate entrambe.",
           "amended": "Attenzione: {act} è stato modificato da {by}.",
           "amended_quote": "L'atto è stato poi modificato:"},
    "en": {"lead": "According to the documents:", "lead_other": "According to the documents (quoted in Italian):",
           "not_found": "The documents available do not contain this information.",
           "part_not_found": "On “{part}” the documents available say nothing.",
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
    reason: str = ""  # why the answer is "not found" (logged, for tuning and support)


def _distinct(a: Evidence, b: Evidence) -> bool:
    ta, tb = set(analyze(a.text, "it")) | set(analyze(a.text, "en")), set(analyze(b.text, "it")) | set(
        analyze(b.text, "en"))
    if not ta or not tb:
        return True
    return len(ta & tb) / len(ta | tb) < 0.6


CONFLICT_QUESTION = re.compile(
    r"\b(?:which one is (?:right|correct)|which (?:figure|number|amount) is (?:right|correct)|different figures"
    r"|figures? (?:differ|do not match|don't match)|two (?:different )?figures|conflicting|qual(?:e)? (?:è|e') "
    r"(?:giust|corrett)\w*|cifre (?:diverse|differenti)|(?:non|che non) coincidono|due cifre|dati discordanti"
    r"|fonti discordanti)\b", re.IGNORECASE)


DISCREPANCY = re.compile(r"\b(?:differ\w*|diverg\w*|discord\w*|non coincid\w*|contrast\w*|un'altra fonte|altre fonti"
                         r"|another source|other sources?|one source|una fonte|one magazine|una rivista)\b", re.IGNORECASE)


FUTURE_QUESTION = re.compile(r"\b(?:prossim[oaie]|next|upcoming|future|futur[oaie]|will|uscir(?:à|a)|sar(?:à|a)nno|sar(?:à|a)"
                             r"|verr(?:à|a)|pubblicher(?:à|a)|aprir(?:à|a)|usciranno)\b", re.IGNORECASE)
FUTURE_STATEMENT = re.compile(r"\b(?:prossim[oaie]|next|upcoming|will|expected|planned|previst[oaie]|programmat[oaie]"
                              r"|in arrivo|future|futur[oaie]|\w+(?:erà|irà|arà|eranno|iranno|aranno))\b", re.IGNORECASE)


def _about(ev: Evidence, numbers: set[str]) -> bool:
    """Is the sentence's document about one of these acts (its own act, or the act it summarises)?"""
    meta = ev.chunk.metadata
    own = {str(meta.get("act_number", "")).split("/")[0], str(meta.get("act_key", "")).split(":")[-1]}
    return bool(own & numbers)


def _clusters(ev: Evidence) -> set[str]:
    return set(filter(None, str(ev.chunk.metadata.get("clusters", "")).lower().split("|")))


class ExtractiveAnswerer:
    def __init__(self, known: Callable[[str], bool] | None = None) -> None:
        self.known = known  # does any chunk contain this index term?

    def select(self, question: str, chunks: list[StoredChunk], weights: dict[str, float],
               idf: dict[str, float], act_keys: list[str] | None = None, language: str | None = None,
               fetch_more: Callable[[list[str]], list[StoredChunk]] | None = None,
               constraints_from: str | None = None, max_quotes: int | None = None,
               cluster_keys: list[str] | None = None, equivalents: dict[str, list[str]] | None = None) -> Draft:
        core = strip_meta(question)  # "What should I tell them?" asks for no type and has no focus
        kind = answer_type(core)
        focus = self.focus_terms(core, language or "en")
        scorer = EvidenceScorer(weights, idf, kind, act_keys, language, focus or set(), equivalents, cluster_keys)
        ranked = scorer.score(chunks)
        if cluster_keys:
            # A question about one cluster is not answered by a sentence about another one.
            wanted = {k.lower() for k in cluster_keys}
            own = [e for e in ranked if not _clusters(e) or _clusters(e) & wanted]
            ranked = own or ranked
        if not ranked:
            return Draft([], "not_found", kind, "no retrieved sentence")
        if focus is None and ranked[0].coverage < FOCUS_UNKNOWN_COVERAGE:
            # What the question asks about ("the PEC address") is in no document, and no sentence states
            # nearly all of the question: the nearest sentences are about something else.
            return Draft([], "not_found", kind, "the asked-about thing is in no document")
        typed_kinds = TYPED_KINDS

        future = bool(FUTURE_QUESTION.search(question))
        # Acts the question names by number ("DM 298/2021"), not by an alias ("l'avviso 2012", whose
        # ranking decree is another act that still answers about it).
        named_acts = {k.split(":")[1] for k in act_keys_in(constraints_from or question)}

        def acceptable(ev: Evidence) -> bool:
            if future and not FUTURE_STATEMENT.search(ev.text):
                return False  # "quando uscirà il prossimo avviso?": only a statement about the future answers
            if named_acts:
                mentioned = {k.split(":")[1] for k in act_keys_in(ev.text)}
                if mentioned and not mentioned & named_acts and not _about(ev, named_acts):
                    return False  # a sentence about another act, in a document about another act
            if kind in typed_kinds:
                return ev.typed and ev.coverage >= MIN_TYPED_COVERAGE
            return ev.coverage >= MIN_COVERAGE

        if CONFLICT_QUESTION.search(question):
            # The user has seen two figures: a sentence that itself says the sources differ answers best.
            ranked = sorted(ranked, key=lambda e: -(e.score + (0.3 if DISCREPANCY.search(e.text) else 0.0)))
        best = ranked[0]
        if best.unknown and not (kind in ("date", "amount", "count") and best.typed):
            # The documents say they do not know; only another good statement can still answer.
            known = next((e for e in ranked[1:10] if not e.unknown and acceptable(e)
                          and e.score >= best.score * RUNNER_UP and e.coverage >= best.coverage - 0.05), None)
            if known is None:
                return Draft([best], "not_found", kind, "the documents say it is not known")
            best = known
        if not acceptable(best):
            # The top sentence fails a requirement of the question; a close runner-up that meets it answers.
            best = next((e for e in ranked[1:10] if not e.unknown and acceptable(e)
                         and e.score >= ranked[0].score * RUNNER_UP), None)
            if best is None:
                return Draft([], "not_found", kind, "no sentence meets the question's requirements")
        says_unknown = max((e for e in ranked[:10] if e.unknown and not (kind in TYPED_KINDS and e.typed)),
                           key=lambda e: e.coverage, default=None)
        closest_answer = max([e.coverage for e in ranked[:10] if not e.unknown and acceptable(e)] + [best.coverage])
        unknown_focus = bool(says_unknown is not None and focus and says_unknown.own_terms & focus
                             and not best.own_terms & focus)
        if says_unknown is not None and (says_unknown.coverage > closest_answer + UNKNOWN_MARGIN or unknown_focus):
            # A document says that what is asked is not known, and says it closer to the question than
            # any candidate answer, or names what is asked ("indicators") where the candidate does not:
            # the candidates answer something else.
            return Draft([says_unknown], "not_found", kind, "a document says it is not known")
        best = self._primary_first(best, ranked, kind, acceptable)
        chosen = [best]
        covered = set(best.terms)
        named = {k.split(":")[1] for k in act_keys or []}
        # "l'avviso 257/Ric" is an act the question names even where no act reference is parsed from it.
        named |= set(re.findall(r"\d+", constraints_from or question)) if named else set()

        def other_act(ev: Evidence) -> bool:
            """A sentence about acts, none of them the one the question names (a 2016 extension is no
            answer about the 2012 notice)."""
            mentioned = {k.split(":")[1] for k in act_keys_in(ev.text)}
            return bool(named and mentioned and not (mentioned & named))

        # "Which one is right?", "le cifre non coincidono": the user has seen two figures; quote both.
        asks_conflict = bool(CONFLICT_QUESTION.search(question))
        for ev in ranked[:15]:
            if ev is best or other_act(ev):
                continue
            if len(chosen) >= (max_quotes or (4 if kind == "list" else 3)):
                break
            if ev.score < best.score * RELATIVE_FLOOR or ev.unknown or not all(_distinct(ev, c) for c in chosen):
                continue
            if kind in typed_kinds and not ev.typed:
                continue  # a further quote for "when?" must also give a date
            gain = scorer.coverage(covered | ev.terms) - scorer.coverage(covered)
            conflict = (kind in ("amount", "count", "date") and ev.typed
                        and (ev.score >= best.score * 0.9 or asks_conflict)
                        and (ev.chunk.document_id != best.chunk.document_id or asks_conflict)
                        and not (typed_values(kind, ev.text) & typed_values(kind, best.text)))
            if gain >= MIN_GAIN or conflict:
                chosen.append(ev)
                covered |= ev.terms
        if fetch_more is not None and len(chosen) < (max_quotes or 3) and scorer.coverage(covered) < 0.85:
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
        cross = any(str(e.chunk.metadata.get("language", language)) != language for e in chosen)
        if scorer.coverage(covered, cross) < MIN_TOTAL_COVERAGE:
            return Draft([], "not_found", kind, "the quotes cover too little of the question")
        if not self._constraints_met(constraints_from or question, chosen):
            return Draft([], "not_found", kind, "a year or act number of the question is in no quote")
        first = chosen[0]
        chosen.sort(key=lambda e: (e is not first, e.rank, e.start))  # the best answer first
        chosen = [self._with_list(e) for e in chosen]
        return Draft(chosen, "answered", kind)

    @staticmethod
    def _primary_first(best: Evidence, ranked: list[Evidence], kind: str,
                       acceptable: Callable[[Evidence], bool]) -> Evidence:
        """A figure quoted from an overview is quoted from the act itself when the act states the same
        figure nearly as well: staff cite acts, not summaries of them."""
        if kind not in TYPED_KINDS or best.chunk.metadata.get("doc_type") in PRIMARY_TYPES:
            return best
        values = typed_values(kind, best.text)
        if not values:
            return best
        for ev in ranked[1:12]:
            if (ev.chunk.metadata.get("doc_type") in PRIMARY_TYPES and ev.score >= best.score * 0.85
                    and not ev.unknown and acceptable(ev) and values & typed_values(kind, ev.text)):
                return ev
        return best

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
