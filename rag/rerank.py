"""Rerank step: pluggable. The default runs offline with nothing extra; a cross-encoder is optional.

``CTN_RERANKER_MODEL`` set to a local sentence-transformers cross-encoder path turns on the model-based
reranker. The default ``TermCoverageReranker`` nudges chunks that contain more of the question's distinct
weighted terms (fused scores reward a single very rare term too much).
"""

from __future__ import annotations

import logging
from typing import Protocol

from rag.models import StoredChunk
from rag.settings import Settings
from rag.text_analysis import analyze

log = logging.getLogger(__name__)


class Reranker(Protocol):
    def rerank(self, query: str, chunks: list[StoredChunk], plan) -> list[StoredChunk]: ...  # noqa: ANN001


class TermCoverageReranker:
    def __init__(self, weight: float = 0.15) -> None:
        self.weight = weight

    def rerank(self, query: str, chunks: list[StoredChunk], plan) -> list[StoredChunk]:  # noqa: ANN001
        if not chunks or plan is None:
            return chunks
        total = sum(w for w in plan.weights.values() if w >= 1.0) or 1.0
        for c in chunks:
            lang = str(c.metadata.get("language", "en"))
            terms = set(analyze(f"{c.metadata.get('section', '')} {c.text}", lang))
            cov = min(1.0, sum(w for t, w in plan.weights.items() if t in terms) / total)
            c.scores["coverage"] = cov
            c.score = c.score + self.weight * cov
        return sorted(chunks, key=lambda c: -c.score)


class CrossEncoderReranker:
    def __init__(self, model_path: str) -> None:
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(model_path, device="cpu", local_files_only=True)

    def rerank(self, query: str, chunks: list[StoredChunk], plan) -> list[StoredChunk]:  # noqa: ANN001
        if not chunks:
            return chunks
        scores = self.model.predict([(query, c.text) for c in chunks])
        for c, s in zip(chunks, scores, strict=True):
            c.scores["cross_encoder"] = float(s)
            c.score = float(s)
        return sorted(chunks, key=lambda c: -c.score)


def make_reranker(settings: Settings) -> Reranker:
    if settings.reranker_model:
        log.info("cross-encoder reranker: %s", settings.reranker_model)
        return CrossEncoderReranker(settings.reranker_model)
    return TermCoverageReranker()
