"""The answer pipeline: an ordered list of named steps over one state object.

Read this file to see every step. Each step reads and extends ``AnswerState``, may stop the pipeline with
a status (``not_found``, ``out_of_scope``), and has its time recorded in ``timings_ms``:

  rewrite_followup → detect_language → route → retrieve → rerank → answer → add_amendments →
  verify_citations → add_warnings
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rag.answer import Answer, Citation
from rag.decompose import Part, decompose, strip_meta
from rag.evidence import EvidenceScorer, answer_type, idf_table
from rag.extractive import PHRASES, Draft, ExtractiveAnswerer
from rag.followup import rewrite
from rag.index import Filters
from rag.models import StoredChunk
from rag.rerank import Reranker, make_reranker
from rag.retrieval import HybridRetriever, QueryPlan
from rag.routing import has_domain_words, is_injection, is_off_topic_task
from rag.settings import Settings

log = logging.getLogger(__name__)

MARKER = re.compile(r"\[(\d+)\]")
LLM_SOURCES = 6
DENSE_IN_SCOPE = {"en": 0.45, "it": 0.55}  # cosine to the closest passage that puts a question in scope


def restated_removed(text: str, question: str) -> str:
    """The answer without the figures of “...” segments that restate the user's own question (they are
    the user's figures, not claims from the sources); a figure the question does not contain stays."""
    asked = set(re.findall(r"\d[\d.,/-]*\d|\d", question))

    def keep_new(m: re.Match[str]) -> str:
        return re.sub(r"\d[\d.,/-]*\d|\d", lambda n: "" if n.group(0) in asked else n.group(0), m.group(0))

    return re.sub(r"“[^”]*”", keep_new, text)


@dataclass
class AnswerState:
    question: str
    history: list[str] = field(default_factory=list)
    filters: Filters | None = None
    lang_hint: str | None = None
    top_k: int = 8
    query: str = ""
    rewritten: str | None = None
    language: str = "en"  # of the answer (the question's unless the caller asked for another)
    query_language: str | None = None  # of the question, for stemming and retrieval
    plan: QueryPlan | None = None
    chunks: list[StoredChunk] = field(default_factory=list)
    draft: Draft | None = None
    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


Step = Callable[[AnswerState], None]


class AnswerPipeline:
    def __init__(self, retriever: HybridRetriever, settings: Settings, reranker: Reranker | None = None) -> None:
        self.retriever = retriever
        self.settings = settings
        self.reranker = reranker or make_reranker(settings)
        self.answerer = ExtractiveAnswerer(
            known=lambda term: bool(retriever.index.snapshot.keyword.document_frequencies([term])[term]))
        self.llm = None
        if settings.llm == "openai":
            from rag.llm import LLMAnswerer

            self.llm = LLMAnswerer(settings)
        self.steps: list[tuple[str, Step]] = [
            ("rewrite_followup", self.rewrite_followup),
            ("detect_language", self.detect_language),
            ("route", self.route),
            ("retrieve", self.retrieve),
            ("rerank", self.rerank),
            ("answer", self.answer),
            ("add_amendments", self.add_amendments),
            ("verify_citations", self.verify_citations),
            ("add_warnings", self.add_warnings),
        ]

    # --- runner -------------------------------------------------------------------------------------
    def run(self, question: str, history: list[str] | None = None, filters: Filters | None = None,
            lang: str | None = None, top_k: int | None = None) -> Answer:
        state = AnswerState(question=question.strip(), history=[h for h in (history or []) if h.strip()],
                            filters=filters, lang_hint=lang, top_k=top_k or 8)
        started = time.perf_counter()
        for name, step in self.steps:
            t0 = time.perf_counter()
            step(state)
            state.timings[name] = round((time.perf_counter() - t0) * 1000, 2)
            if state.status is not None and state.status != "answered":
                break
        state.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
        return self._to_answer(state)

    # --- steps --------------------------------------------------------------------------------------
    def rewrite_followup(self, s: AnswerState) -> None:
        from rag.followup import needs_context

        if self.llm is not None and s.history and needs_context(s.question):
            s.rewritten = self.llm.rewrite(s.question, s.history) or rewrite(s.question, s.history)
        else:
            s.rewritten = rewrite(s.question, s.history)
        s.query = strip_meta(s.rewritten or s.question)

    def detect_language(self, s: AnswerState) -> None:
        from ingest.metadata import detect_language_with_confidence

        lang, prob = detect_language_with_confidence(s.question)
        if lang not in ("it", "en") or prob < 0.7:
            for earlier in reversed(s.history):
                lang2, prob2 = detect_language_with_confidence(earlier)
                if lang2 in ("it", "en") and prob2 >= 0.7:
                    lang, prob = lang2, prob2
                    break
        s.query_language = lang if lang in ("it", "en") and prob >= 0.5 else None
        s.language = s.lang_hint if s.lang_hint in ("it", "en") else (lang if lang in ("it", "en") else "en")

    def route(self, s: AnswerState) -> None:
        if is_injection(s.question) or is_off_topic_task(s.question):
            s.status = "out_of_scope"

    def retrieve(self, s: AnswerState) -> None:
        s.plan = self.retriever.plan(s.query, s.query_language)
        s.chunks = self.retriever.search(s.query, k=max(s.top_k, 8), filters=s.filters, language=s.query_language)
        if not s.chunks:
            s.status = "not_found"
            return
        snapshot = self.retriever.index.snapshot
        names = {c for cl in snapshot.clusters for c in cl}
        words = {w for n in names for w in re.findall(r"[a-z0-9]+", n) if len(w) > 2}
        best_dense = max((c.scores.get("dense", 0.0) for c in s.chunks), default=0.0)
        # The packaged model is English-centred: any two Italian texts look alike to it, so an Italian question
        # needs a closer passage to count as in scope by meaning alone.
        dense_floor = DENSE_IN_SCOPE.get(s.query_language or "en", 0.45)
        if not has_domain_words(s.query, words) and best_dense < dense_floor and self._term_overlap(s) < 0.6:
            s.status = "out_of_scope"

    def rerank(self, s: AnswerState) -> None:
        s.chunks = self.reranker.rerank(s.query, s.chunks, s.plan)

    def answer(self, s: AnswerState) -> None:
        if self.llm is not None:
            self.order_llm_sources(s)
            self.apply_llm_text(s, self.llm.answer(s.query, s.chunks[:LLM_SOURCES], s.language))
            return
        assert s.plan is not None
        parts = self._parts(s)
        if len(parts) > 1:
            self._answer_parts(s, parts)
            return
        idf = idf_table(self.retriever.index.snapshot, list(s.plan.weights))

        def fetch_more(missing: list[str]) -> list[StoredChunk]:
            from rag.followup import subject_of

            extra_query = " ".join(subject_of(s.query) + missing) or s.query
            return self.retriever.search(extra_query, k=6, filters=s.filters, language=s.query_language)

        # The answer type comes from the user's own words ("E la scadenza?" asks for a date).
        s.draft = self.answerer.select(s.question, s.chunks, s.plan.weights, idf,
                                       s.plan.act_keys, s.plan.language, fetch_more=fetch_more, constraints_from=s.query,
                                       cluster_keys=s.plan.cluster_keys, equivalents=s.plan.equivalents)
        if s.draft.status != "answered":
            log.info("not found: %s", s.draft.reason)
            s.status = "not_found"
            return
        phrases = PHRASES[s.language]
        parts_text = [self._lead(s, s.draft.evidence)]
        for ev in s.draft.evidence:
            parts_text.append(self._quote(s, ev))
        s.text = " ".join(parts_text)
        if self.answerer.conflicting(s.draft):
            s.warnings.append(phrases["conflict"])
        s.status = "answered"

    def _answer_parts(self, s: AnswerState, parts: list[Part]) -> None:
        """A question that asks several things: each part is retrieved and answered on its own, and a part
        the documents do not answer is named as such (the others are still answered)."""
        phrases = PHRASES[s.language]
        snapshot = self.retriever.index.snapshot
        drafts: list[tuple[Part, Draft]] = []
        for part, plan, chunks in self._retrieve_parts(s, parts, k=max(s.top_k, 8)):
            idf = idf_table(snapshot, list(plan.weights))
            draft = self.answerer.select(part.text, chunks, plan.weights, idf, plan.act_keys, plan.language,
                                         constraints_from=part.query, max_quotes=2, cluster_keys=plan.cluster_keys,
                                         equivalents=plan.equivalents)
            drafts.append((part, draft))
        answered = [(p, d) for p, d in drafts if d.status == "answered"]
        if not answered:
            s.status = "not_found"
            return
        texts = [self._lead(s, [e for _, d in answered for e in d.evidence])]
        quoted: set[str] = set()
        for part, draft in drafts:
            if draft.status != "answered":
                texts.append(phrases["part_not_found"].format(part=part.text.rstrip("?")))
                continue
            for ev in draft.evidence:
                if ev.text in quoted:
                    continue
                quoted.add(ev.text)
                texts.append(self._quote(s, ev))
            if self.answerer.conflicting(draft):
                s.warnings.append(phrases["conflict"])
        s.draft = Draft([e for _, d in answered for e in d.evidence], "answered", answered[0][1].kind)
        s.text = " ".join(texts)
        s.status = "answered"

    def _quote(self, s: AnswerState, ev) -> str:  # noqa: ANN001 - rag.evidence.Evidence
        """«quote» [n], followed by the act when the quote is from the act itself and does not name it:
        "«È approvata la graduatoria ...» [1] (DD 18 del 14 dicembre 2012)"."""
        n = self._cite(s, ev.chunk, ev.text)
        label = self._act_label(ev.chunk, s.language)
        number = str(ev.chunk.metadata.get("act_number") or "").split("/")[0]
        if label and number and not re.search(rf"(?<!\d){re.escape(number)}(?!\d)", ev.text):
            return f"«{ev.text}» [{n}] ({label})"
        return f"«{ev.text}» [{n}]"

    @staticmethod
    def _act_label(chunk: StoredChunk, language: str) -> str:
        from rag.acts import format_act
        from rag.evidence import PRIMARY_TYPES

        meta = chunk.metadata
        if meta.get("doc_type") not in PRIMARY_TYPES or not meta.get("act_number"):
            return ""
        return format_act(str(meta.get("act_type") or ""), str(meta.get("act_number") or ""),
                          str(meta.get("act_date") or ""), language, fallback=str(meta.get("act") or ""))

    @staticmethod
    def _lead(s: AnswerState, evidence: list) -> str:  # noqa: ANN001 - rag.evidence.Evidence
        quote_langs = {str(e.chunk.metadata.get("language", s.language)) for e in evidence}
        phrases = PHRASES[s.language]
        return phrases["lead"] if quote_langs <= {s.language} else phrases["lead_other"]

    def _parts(self, s: AnswerState) -> list[Part]:
        parts = decompose(s.question, s.query_language)
        if s.rewritten and s.rewritten.startswith(s.question.rstrip()):
            context = s.rewritten[len(s.question.rstrip()):]  # the follow-up's subject, for every part
            parts = [Part(p.text, p.query + context) for p in parts]
        return parts

    def _retrieve_parts(self, s: AnswerState, parts: list[Part], k: int
                        ) -> list[tuple[Part, QueryPlan, list[StoredChunk]]]:
        """Each part retrieved and reranked on its own; the parts' questions embedded in one batch."""
        self.retriever.prefetch_vectors([p.query for p in parts])
        out = []
        for part in parts:
            plan = self.retriever.plan(part.query, s.query_language)
            found = self.retriever.search(part.query, k=k, filters=s.filters, language=s.query_language)
            out.append((part, plan, self.reranker.rerank(part.query, found, plan)))
        return out

    def order_llm_sources(self, s: AnswerState) -> None:
        """The model sees LLM_SOURCES passages: for a multi-part question, the best passages of each part in
        turn, so that no part is left without a source."""
        parts = self._parts(s)
        if len(parts) < 2:
            return
        per_part = [chunks for _part, _plan, chunks in self._retrieve_parts(s, parts, k=LLM_SOURCES)]
        ordered: dict[str, StoredChunk] = {}
        for rank in range(LLM_SOURCES):
            for found in per_part:
                if rank < len(found):
                    ordered.setdefault(found[rank].chunk_id, found[rank])
        for c in s.chunks:
            ordered.setdefault(c.chunk_id, c)
        s.chunks = list(ordered.values())

    def apply_llm_text(self, s: AnswerState, text: str) -> None:
        """Turn the model's text into the answer: its [n] markers become citations of source n, each
        quoting the sentence of that source closest to the claim that cites it."""
        from rag.llm import NOT_FOUND, quote_for

        text = text.strip()
        if not text or NOT_FOUND in text:
            s.status = "not_found"
            return
        sources = s.chunks[:LLM_SOURCES]
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            for marker in MARKER.findall(sentence):
                n = int(marker)
                if 1 <= n <= len(sources) and all(c.n != n for c in s.citations):
                    claim = MARKER.sub("", sentence)
                    s.citations.append(Citation.from_chunk(n, sources[n - 1], quote_for(sources[n - 1], claim,
                                                                                        s.language)))
        s.citations.sort(key=lambda c: c.n)
        s.text = text
        s.status = "answered" if s.citations else "not_found"

    def stream(self, question: str, history: list[str] | None = None, filters: Filters | None = None,
               lang: str | None = None, top_k: int | None = None,
               on_answer: Callable[[Answer], None] | None = None) -> Iterator[dict]:
        """The pipeline as events: ``status`` as each step starts, ``delta`` text, then ``answer``.

        With an LLM the deltas are its tokens, live; the checks that follow may still remove a marker or
        add an amendment, so the final ``answer`` event is the one to keep. The extractive answer is
        complete before its text is sent, so its deltas (quote by quote) are exactly the final text.
        """
        state = AnswerState(question=question.strip(), history=[h for h in (history or []) if h.strip()],
                            filters=filters, lang_hint=lang, top_k=top_k or 8)
        started = time.perf_counter()
        streamed = False
        for name, step in self.steps:
            t0 = time.perf_counter()
            yield {"type": "status", "status": name}
            if name == "answer" and self.llm is not None:
                parts: list[str] = []
                self.order_llm_sources(state)
                for token in self.llm.stream(state.query, state.chunks[:LLM_SOURCES], state.language):
                    parts.append(token)
                    streamed = True
                    yield {"type": "delta", "text": token}
                self.apply_llm_text(state, "".join(parts))
            else:
                step(state)
            state.timings[name] = round((time.perf_counter() - t0) * 1000, 2)
            if state.status is not None and state.status != "answered":
                break
        state.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
        answer = self._to_answer(state)
        if on_answer is not None:
            on_answer(answer)
        if not streamed:
            for piece in re.findall(r"[^»]*»\s*(?:\[\d+\])?\s*|[^»]+$", answer.answer) or [answer.answer]:
                if piece:
                    yield {"type": "delta", "text": piece}
        yield {"type": "answer", "answer": answer.to_dict()}

    def add_amendments(self, s: AnswerState) -> None:
        """A cited act later amended: say so and quote the amending act on the same question."""
        snapshot = self.retriever.index.snapshot
        phrases = PHRASES[s.language]
        amended: dict[str, list[str]] = {}
        for cit in list(s.citations):
            doc = snapshot.docs.get(cit.document_id)
            target = doc.meta.get("about") if doc and doc.meta.get("about") else cit.document_id
            target_doc = snapshot.docs.get(target) or doc
            if target_doc is None:
                continue
            for by in target_doc.meta.get("amended_by") or []:
                if by in snapshot.docs and by not in amended.get(target, []):
                    amended.setdefault(target, []).append(by)
        cited_docs = {c.document_id for c in s.citations}
        cited_docs |= {str(snapshot.docs[d].meta.get("about")) for d in cited_docs
                       if d in snapshot.docs and snapshot.docs[d].meta.get("about")}
        for target, by_list in amended.items():
            act = self._act_name(snapshot.docs[target], s.language)
            labels = ", ".join(self._act_name(snapshot.docs[b], s.language) for b in by_list)
            s.warnings.append(phrases["amended"].format(act=act, by=labels))
            by_numbers = {str(snapshot.docs[b].meta.get("act_number") or "").split("/")[0] for b in by_list}
            if any(b in cited_docs for b in by_list) or any(n and n in s.text for n in by_numbers):
                continue  # the answer already quotes the amending act
            rows = [r for b in by_list for r in snapshot.doc_rows(b).tolist()]
            overviews = [d for d, rec in snapshot.docs.items() if rec.meta.get("about") in by_list]
            rows += [r for d in overviews for r in snapshot.doc_rows(d).tolist()]
            if not rows or s.plan is None:
                continue
            found = self.retriever.search(s.query, k=6, language=s.query_language,
                                          filters=Filters(document_id=by_list + overviews))
            idf = idf_table(snapshot, list(s.plan.weights))
            kind = answer_type(s.question)
            ranked = EvidenceScorer(s.plan.weights, idf, kind, None, s.plan.language,
                                    equivalents=s.plan.equivalents).score(found, limit=6)
            if ranked and ranked[0].coverage >= 0.3 and (ranked[0].typed or kind not in ("date", "amount", "count")):
                ev = ranked[0]
                if ev.text in s.text:
                    continue
                n = self._cite(s, ev.chunk, ev.text)
                s.text += f" {phrases['amended_quote']} «{ev.text}» [{n}]"

    def verify_citations(self, s: AnswerState) -> None:
        """Every marker resolves, every quote is verbatim, every number in the text is inside a quote."""
        by_n = {c.n: c for c in s.citations}
        chunks = {c.chunk_id: c for c in s.chunks}
        for marker in set(MARKER.findall(s.text)):
            if int(marker) not in by_n:
                s.text = s.text.replace(f"[{marker}]", "")
                log.warning("removed a marker [%s] that pointed to no source", marker)
        valid = []
        for c in s.citations:
            chunk = chunks.get(c.chunk_id)
            text = chunk.text if chunk else self._chunk_text(c.chunk_id)
            if text is not None and c.quote in text:
                valid.append(c)
            else:
                log.warning("dropped citation %s: quote not verbatim in its chunk", c.n)
        s.citations = valid
        # «...» quotes the documents; “...” restates a part of the user's own question (a part not found).
        outside = MARKER.sub("", re.sub(r"«[^»]*»", "", restated_removed(s.text, s.question)))
        cited = {c.chunk_id for c in s.citations}
        quotes = " ".join([c.quote for c in s.citations] + [c.text for c in s.chunks if c.chunk_id in cited]
                          + [self._act_label(c, s.language) for c in s.chunks if c.chunk_id in cited])
        stray = [n for n in re.findall(r"\d[\d.,]*\d|\d", outside) if n not in quotes]
        if stray:
            s.warnings.append(("Numeri non verificati nelle fonti: " if s.language == "it"
                               else "Figures not found in the cited sources: ") + ", ".join(sorted(set(stray))))
        if not s.citations and s.status == "answered":
            s.status = "not_found"

    def add_warnings(self, s: AnswerState) -> None:
        seen: dict[str, None] = {}
        for w in s.warnings:
            seen.setdefault(w, None)
        s.warnings = list(seen)

    # --- helpers ------------------------------------------------------------------------------------
    @staticmethod
    def _act_name(doc, language: str) -> str:  # noqa: ANN001 - a rag.store.DocRecord
        from rag.acts import format_act

        meta = doc.meta
        return format_act(str(meta.get("act_type") or ""), str(meta.get("act_number") or ""),
                          str(meta.get("act_date") or ""), language, fallback=str(meta.get("act") or doc.title))

    @staticmethod
    def _term_overlap(s: AnswerState) -> float:
        """Share of the question's own terms that the top passages contain (the corpus's own vocabulary
        says a question is in scope even where no built-in domain word does)."""
        from rag.text_analysis import analyze

        if s.plan is None:
            return 0.0
        own = [t for t, w in s.plan.weights.items() if w >= 1.0]
        if not own:
            return 0.0
        found: set[str] = set()
        for c in s.chunks[:3]:
            found |= set(analyze(c.text, str(c.metadata.get("language", "en"))))
        return sum(1 for t in own if t in found) / len(own)
    def _chunk_text(self, chunk_id: str) -> str | None:
        snapshot = self.retriever.index.snapshot
        row = snapshot.row.get(chunk_id)
        return snapshot.texts[row] if row is not None else None

    @staticmethod
    def _cite(s: AnswerState, chunk: StoredChunk, quote: str) -> int:
        for c in s.citations:
            if c.chunk_id == chunk.chunk_id and c.quote == quote:
                return c.n
        n = len(s.citations) + 1
        s.citations.append(Citation.from_chunk(n, chunk, quote))
        if all(c.chunk_id != chunk.chunk_id for c in s.chunks):
            s.chunks.append(chunk)
        return n

    def _to_answer(self, s: AnswerState) -> Answer:
        phrases = PHRASES[s.language]
        status = s.status or "not_found"
        closest: list[dict] = []
        seen_docs: set[str] = set()
        for c in s.chunks:
            if c.document_id not in seen_docs and len(closest) < 3:
                seen_docs.add(c.document_id)
                closest.append({"document_id": c.document_id, "title": c.metadata.get("title", ""),
                                "act": c.metadata.get("act", ""), "page": c.page, "section": c.section,
                                "url": f"/v1/documents/{c.document_id}/file" + (f"#page={c.page}" if c.page else "")})
        if status == "out_of_scope":
            text, citations, closest = phrases["out_of_scope"], [], []
        elif status == "not_found":
            text = phrases["not_found"]
            if closest:
                text += " " + phrases["closest"].format(docs="; ".join(f"«{d['title']}»" for d in closest))
            citations = []
        else:
            text, citations = s.text, s.citations
        return Answer(answer=text, status=status, language=s.language, citations=citations,
                      warnings=s.warnings if status == "answered" else [], timings_ms=s.timings,
                      question=s.question, rewritten_question=s.rewritten, closest_documents=closest)
