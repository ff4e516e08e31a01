"""Step ``retrieve``: each part of the question retrieved on its own (hybrid BM25 + dense, ``rag.retrieval``);
the parts' questions are embedded in one batch."""

from __future__ import annotations

from rag.retrieval import HybridRetriever
from rag.state import AnswerState, PartEvidence

CANDIDATES = 12  # chunks per part the answerer reads (the answer is in the top 12 far more often than the top 8)


class Retrieve:
    name = "retrieve"

    def __init__(self, retriever: HybridRetriever, candidates: int = CANDIDATES) -> None:
        self.retriever = retriever
        self.candidates = candidates

    def __call__(self, s: AnswerState) -> None:
        assert s.analysis is not None
        parts = s.analysis.parts
        if len(parts) > 1:
            self.retriever.prefetch_vectors([p.query for p in parts])
        k = max(s.top_k, self.candidates)
        for part in parts:
            plan = self.retriever.plan(part.query, s.analysis.language, context=part.context)
            found = self.retriever.search(part.query, k=k, filters=s.filters, language=s.analysis.language,
                                          context=part.context)
            s.evidence.append(PartEvidence(part, plan, found))
        seen: dict[str, None] = {}
        s.chunks = [c for ev in s.evidence for c in ev.chunks if not (c.chunk_id in seen or seen.setdefault(c.chunk_id))]
        if not s.chunks:
            s.stop("not_found", "nothing retrieved")
