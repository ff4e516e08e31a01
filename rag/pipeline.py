"""The answer pipeline: an ordered list of named steps over one state object (``rag.state.AnswerState``).

Each step is a module of ``rag/steps/``; it reads and extends the state, may stop the pipeline with a status
(``not_found``, ``out_of_scope``), and has its time recorded in ``timings_ms``:

  rewrite_followup → analyse → retrieve → route → rerank → answer → add_amendments → verify_citations →
  add_warnings

The ``answer`` step calls the configured answerer (``rag.answering.base.Answerer``): the extractive one by
default, an LLM with ``CTN_LLM=openai``. Both read the same ranked evidence and pass the same checks.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator

from rag.answer import Answer
from rag.answering.base import Answerer
from rag.index import Filters
from rag.phrases import phrases
from rag.rerank import Reranker, make_reranker
from rag.retrieval import HybridRetriever
from rag.settings import Settings
from rag.state import AnswerState
from rag.steps.amendments import AddAmendments
from rag.steps.analyse import AnalyseQuestion
from rag.steps.rerank import Rerank
from rag.steps.retrieve import Retrieve
from rag.steps.rewrite import RewriteFollowUp
from rag.steps.route import Route
from rag.steps.verify import VerifyCitations
from rag.steps.warnings import AddWarnings

log = logging.getLogger(__name__)

Step = Callable[[AnswerState], None]


class AnswerStep:
    name = "answer"

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer

    def __call__(self, s: AnswerState) -> None:
        self.answerer.answer(s)


class AnswerPipeline:
    def __init__(self, retriever: HybridRetriever, settings: Settings, reranker: Reranker | None = None,
                 model=None, load_model: bool = True) -> None:  # noqa: ANN001 - rag.answering.model.AnswererModel
        """``model``: the trained answerer (default: the packaged one). ``load_model=False`` builds a pipeline
        that can only run the steps before ``answer`` (``ctn train`` uses it to collect evidence)."""
        from rag.answering.extractive import ExtractiveAnswerer
        from rag.answering.model import default_model

        self.retriever = retriever
        self.settings = settings
        self.model = model or (default_model() if load_model else None)
        self.extractive = (ExtractiveAnswerer(self.model, retriever.index, retriever.query_vector)
                           if self.model is not None else None)
        self.llm = None
        answerer: Answerer = self.extractive  # type: ignore[assignment]
        if settings.llm == "openai":
            from rag.answering.llm import LLMAnswerer

            self.llm = answerer = LLMAnswerer(settings)
        self.answerer = answerer
        scope = self.model.scope if self.model is not None else None
        threshold = self.model.params.get("scope_threshold", 0.5) if self.model is not None else 0.5
        self.steps: list[tuple[str, Step]] = [(step.name, step) for step in (
            RewriteFollowUp(self.llm),
            AnalyseQuestion(),
            Retrieve(retriever),
            Route(retriever.index, scope, threshold, retriever.query_vector),
            Rerank(reranker or make_reranker(settings)),
            AnswerStep(answerer),
            AddAmendments(retriever, self.extractive),
            VerifyCitations(retriever.index),
            AddWarnings(),
        )]

    def state(self, question: str, history: list[str] | None = None, filters: Filters | None = None,
              lang: str | None = None, top_k: int | None = None, until: str | None = None) -> AnswerState:
        """Run the steps (up to and including ``until``) and return the state: what the evaluation and the
        training read, besides the answer."""
        s = AnswerState(question=question.strip(), history=[h for h in (history or []) if h.strip()],
                        filters=filters, lang_hint=lang, top_k=top_k or 8)
        started = time.perf_counter()
        for name, step in self.steps:
            t0 = time.perf_counter()
            step(s)
            s.timings[name] = round((time.perf_counter() - t0) * 1000, 2)
            if (s.status is not None and s.status != "answered") or name == until:
                break
        s.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
        if s.status in ("not_found", "out_of_scope"):
            log.info("%s: %s", s.status, s.reason)
        return s

    def run(self, question: str, history: list[str] | None = None, filters: Filters | None = None,
            lang: str | None = None, top_k: int | None = None) -> Answer:
        return to_answer(self.state(question, history, filters, lang, top_k))

    def stream(self, question: str, history: list[str] | None = None, filters: Filters | None = None,
               lang: str | None = None, top_k: int | None = None,
               on_answer: Callable[[Answer], None] | None = None) -> Iterator[dict]:
        """The pipeline as events: ``status`` as each step starts, ``delta`` text, then ``answer``.

        With an LLM the deltas are its tokens, live; the checks that follow may still remove a marker or
        add an amendment, so the final ``answer`` event is the one to keep. The extractive answer is
        complete before its text is sent, so its deltas (quote by quote) are exactly the final text.
        """
        s = AnswerState(question=question.strip(), history=[h for h in (history or []) if h.strip()],
                        filters=filters, lang_hint=lang, top_k=top_k or 8)
        started = time.perf_counter()
        streamed = False
        for name, step in self.steps:
            t0 = time.perf_counter()
            yield {"type": "status", "status": name}
            if name == "answer" and self.answerer.streams:
                for token in self.answerer.stream(s):
                    streamed = True
                    yield {"type": "delta", "text": token}
            else:
                step(s)
            s.timings[name] = round((time.perf_counter() - t0) * 1000, 2)
            if s.status is not None and s.status != "answered":
                break
        s.timings["total"] = round((time.perf_counter() - started) * 1000, 2)
        answer = to_answer(s)
        if on_answer is not None:
            on_answer(answer)
        if not streamed:
            for piece in re.findall(r"[^»]*»\s*(?:\[\d+\])?\s*|[^»]+$", answer.answer) or [answer.answer]:
                if piece:
                    yield {"type": "delta", "text": piece}
        yield {"type": "answer", "answer": answer.to_dict()}


def to_answer(s: AnswerState) -> Answer:
    ph = phrases(s.language)
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
        text, citations, closest = ph["out_of_scope"], [], []
    elif status == "not_found":
        text = ph["not_found"]
        if closest:
            text += " " + ph["closest"].format(docs="; ".join(f"«{d['title']}»" for d in closest))
        citations = []
    else:
        text, citations = s.text, s.citations
    return Answer(answer=text, status=status, language=s.language, citations=citations,
                  warnings=s.warnings if status == "answered" else [], timings_ms=s.timings,
                  question=s.question, rewritten_question=s.rewritten, closest_documents=closest)
