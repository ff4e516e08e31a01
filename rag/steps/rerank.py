"""Step ``rerank``: each part's chunks reordered by the configured reranker (``rag.rerank``)."""

from __future__ import annotations

from rag.rerank import Reranker
from rag.state import AnswerState


class Rerank:
    name = "rerank"

    def __init__(self, reranker: Reranker) -> None:
        self.reranker = reranker

    def __call__(self, s: AnswerState) -> None:
        for ev in s.evidence:
            ev.chunks = self.reranker.rerank(ev.part.query, ev.chunks, ev.plan)
