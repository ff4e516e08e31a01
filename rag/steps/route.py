"""Step ``route``: every decision on whether a question is for this assistant, in one place.

Out of scope are requests to follow new instructions, tasks of another kind (a poem, a recipe, code, a
translation: patterns in ``rag/data/routing.yaml``), and questions the ingested documents have nothing to do
with, as judged by the scope model trained by ``ctn train`` on the question sets' in-domain and out-of-domain
questions, from how strongly retrieval matched (``scope_features``). Text inside documents is only ever
quoted, never followed, so injection matters for the question only.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from rag.state import AnswerState
from rag.text_analysis import fold

ROUTING_PATH = Path(__file__).resolve().parents[1] / "data" / "routing.yaml"
SCOPE_FEATURES = ("dense_top", "bm25_top", "known_share", "known_weight", "terms", "rarest_known")


@lru_cache(maxsize=1)
def _patterns() -> dict[str, list[re.Pattern[str]]]:
    data = yaml.safe_load(ROUTING_PATH.read_text(encoding="utf-8"))
    return {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in data.items()}


def is_injection(question: str) -> bool:
    return any(p.search(fold(question)) for p in _patterns()["injection"])


def is_off_topic_task(question: str) -> bool:
    return any(p.search(fold(question)) for p in _patterns()["off_topic_tasks"])


def scope_features(s: AnswerState, df: dict[str, int], n_chunks: int) -> np.ndarray:
    """How much of the question the collection knows and how closely retrieval matched it."""
    own = [t for ev in s.evidence for t, w in ev.plan.weights.items() if w >= 1.0]
    own = list(dict.fromkeys(own))
    idf = {t: math.log(1 + (n_chunks - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in own}
    known = [t for t in own if df.get(t, 0) > 0]
    total = sum(idf.values()) or 1.0
    dense = max((c.scores.get("dense", 0.0) for c in s.chunks), default=0.0)
    bm25 = max((c.scores.get("bm25", 0.0) for c in s.chunks), default=0.0)
    rarest = max((idf[t] for t in known), default=0.0) / math.log(1 + (n_chunks + 0.5) / 0.5)
    return np.array([dense, math.log1p(bm25), len(known) / max(len(own), 1),
                     sum(idf[t] for t in known) / total, math.log1p(len(own)), rarest], dtype=np.float32)


class Route:
    name = "route"

    def __init__(self, index, scope=None, threshold: float = 0.5, vectors=None) -> None:  # noqa: ANN001
        self.index = index  # rag.index.IndexManager: the collection's vocabulary
        self.scope = scope  # rag.answering.model.LinearModel: P(out of domain)
        self.threshold = threshold
        self.vectors = vectors  # query text -> its embedding (rag.retrieval.HybridRetriever.query_vector)

    def __call__(self, s: AnswerState) -> None:
        question = s.analysis.core if s.analysis else s.question
        if is_injection(s.question) or is_off_topic_task(question):
            s.stop("out_of_scope", "a request of another kind")
            return
        if self.scope is None or not s.chunks:
            return
        snapshot = self.index.snapshot
        terms = list(dict.fromkeys(t for ev in s.evidence for t in ev.plan.weights))
        x = scope_features(s, snapshot.keyword.document_frequencies(terms), len(snapshot))
        if self.vectors is not None and len(self.scope.coef) > len(x):
            x = np.concatenate([x, np.asarray(self.vectors(s.evidence[0].part.query), dtype=np.float32)])
        if float(self.scope.predict(x[None, :])[0]) >= self.threshold:
            s.stop("out_of_scope", "the documents have nothing to do with the question")
