"""Step ``retrieve``: each part of the question retrieved on its own (hybrid BM25 + dense, ``rag.retrieval``);
the parts' questions are embedded in one batch."""

from __future__ import annotations

from dataclasses import replace

from rag.retrieval import HybridRetriever
from rag.state import AnswerState, PartEvidence

CANDIDATES = 12  # chunks per part the answerer reads (the answer is in the top 12 far more often than the top 8)
COGNATE_EXTRA = 2  # of them, the best word-prefix matches fusion left out: passages of the other language that
# neither stems nor the English-centred embedding find (measured on the realistic sets: +1 to +2 points of key
# facts held, none lost)


class Retrieve:
    name = "retrieve"

    def __init__(self, retriever: HybridRetriever, candidates: int = CANDIDATES,
                 cognate_extra: int = COGNATE_EXTRA) -> None:
        self.retriever = retriever
        self.candidates = candidates
        self.cognate_extra = cognate_extra

    def __call__(self, s: AnswerState) -> None:
        assert s.analysis is not None
        parts = s.analysis.parts
        if len(parts) > 1:
            self.retriever.prefetch_vectors([p.query for p in parts])
        k = max(s.top_k, self.candidates)
        config = replace(self.retriever.config, cognate_extra=self.cognate_extra)
        for part in parts:
            plan = self.retriever.plan(part.query, s.analysis.language, context=part.context)
            found = self.retriever.search(part.query, k=k, filters=s.filters, language=s.analysis.language,
                                          config=config, context=part.context)
            s.evidence.append(PartEvidence(part, plan, found))
        seen: dict[str, None] = {}
        s.chunks = [c for ev in s.evidence for c in ev.chunks if not (c.chunk_id in seen or seen.setdefault(c.chunk_id))]
        if not s.chunks:
            s.stop("not_found", "nothing retrieved")
