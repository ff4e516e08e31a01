"""The one state object every step of the answer pipeline reads and extends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.answer import Citation
from rag.index import Filters
from rag.models import StoredChunk
from rag.question import Part, QuestionAnalysis
from rag.retrieval import QueryPlan

if TYPE_CHECKING:
    from rag.answering.extractive import Draft

STATUSES = ("answered", "not_found", "out_of_scope")  # every status an answer can have


@dataclass
class PartEvidence:
    """One part of the question with what was retrieved for it."""

    part: Part
    plan: QueryPlan
    chunks: list[StoredChunk]


@dataclass
class AnswerState:
    question: str
    history: list[str] = field(default_factory=list)
    filters: Filters | None = None
    lang_hint: str | None = None
    top_k: int = 8
    rewritten: str | None = None  # a follow-up made whole
    analysis: QuestionAnalysis | None = None
    evidence: list[PartEvidence] = field(default_factory=list)
    chunks: list[StoredChunk] = field(default_factory=list)  # every chunk retrieved or cited
    draft: Draft | None = None
    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: str | None = None
    reason: str = ""  # why the answer is not found or out of scope (logged)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def language(self) -> str:
        """The answer's language."""
        return self.analysis.answer_language if self.analysis else (self.lang_hint or "en")

    @property
    def query_language(self) -> str | None:
        return self.analysis.language if self.analysis else None

    @property
    def query(self) -> str:
        return self.analysis.query if self.analysis else self.question

    def stop(self, status: str, reason: str = "") -> None:
        assert status in STATUSES
        self.status = status
        self.reason = reason

    def cite(self, chunk: StoredChunk, quote: str) -> int:
        """The number of the citation of ``quote`` from ``chunk`` (a new one when not cited yet)."""
        for c in self.citations:
            if c.chunk_id == chunk.chunk_id and c.quote == quote:
                return c.n
        n = len(self.citations) + 1
        self.citations.append(Citation.from_chunk(n, chunk, quote))
        if all(c.chunk_id != chunk.chunk_id for c in self.chunks):
            self.chunks.append(chunk)
        return n
