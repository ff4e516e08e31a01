"""Hybrid retrieval: BM25 (Italian/English stemming, glossary expansion) fused with dense cosine.

Fusion is a weighted score sum, chosen by measurement (docs/evals.md, ADR 0003): the max-normalised BM25
score times a weight that depends on the question's language, plus the cosine similarity. Plain
reciprocal-rank fusion was measured worse than BM25 alone on Italian text, because the packaged
embedding model is English-centred; Italian questions therefore lean more on BM25.
Filters are applied on the in-process metadata arrays, never through a Chroma ``where`` on the hot path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from rag.embeddings import Embedder
from rag.glossary import Glossary
from rag.index import Filters, IndexManager, Snapshot
from rag.models import StoredChunk
from rag.settings import Settings
from rag.store import Store
from rag.text_analysis import analyze_query, prefixes

log = logging.getLogger(__name__)


@dataclass
class RetrievalConfig:
    """Knobs of the hybrid retriever; the evaluation harness compares configurations side by side."""

    mode: str = "hybrid"  # hybrid | bm25 | dense
    bm25_weight: dict[str, float] = field(default_factory=lambda: {"it": 0.5, "en": 0.3})
    candidates: int = 50
    expansion_weight: float = 0.6
    context_weight: float = 0.5  # the words of a question's other parts, when one part is retrieved
    cognate_weight: float = 0.0  # the word-prefix index in the fused score (measured: no better than 0)
    cognate_extra: int = 0  # the last places of a result given to the best word-prefix matches not yet in it
    # (the answer pipeline's retrieve step asks for 2 of its 12, rag.steps.retrieve; a search keeps fusion's)
    act_boost: float = 0.25
    use_glossary: bool = True
    use_acts: bool = True


@dataclass
class QueryPlan:
    text: str
    language: str
    terms: list[str]
    weights: dict[str, float]
    act_keys: list[str]
    cluster_keys: list[str] = field(default_factory=list)
    equivalents: dict[str, list[str]] = field(default_factory=dict)  # question stem → glossary equivalents


class HybridRetriever:
    def __init__(self, index: IndexManager, store: Store, embedder: Embedder, settings: Settings,
                 config: RetrievalConfig | None = None) -> None:
        self.index = index
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.config = config or RetrievalConfig()
        self.glossary = Glossary.load()
        self._vectors: dict[str, np.ndarray] = {}

    def plan(self, query: str, language: str | None, config: RetrievalConfig | None = None,
             context: str = "") -> QueryPlan:
        """The query's weighted terms: its own (1.0), the glossary's equivalents, and the words of ``context``
        (the rest of a question asked in parts, which a later part often leaves implicit) at a lower weight."""
        from rag.language import detect_language_with_confidence

        cfg = config or self.config
        lang = language
        if lang not in ("it", "en"):
            detected, prob = detect_language_with_confidence(query)
            lang = detected if detected in ("it", "en") and prob > 0.6 else None
        terms = analyze_query(query, lang)
        weights = dict.fromkeys(terms, 1.0)
        if cfg.use_glossary:
            for stem in self.glossary.expansions(query, lang or "en") + (
                    self.glossary.expansions(query, "it") if lang is None else []):
                weights.setdefault(stem, cfg.expansion_weight)
        if context:
            for term in analyze_query(context, lang):
                weights.setdefault(term, cfg.context_weight)
        acts = self.glossary.act_keys(query) if cfg.use_acts else []
        clusters = self.glossary.cluster_keys(query) if cfg.use_acts else []
        equivalents: dict[str, list[str]] = {}
        if cfg.use_glossary:
            for lg in [lang] if lang else ["en", "it"]:
                for stem, alts in self.glossary.equivalents(query, lg).items():
                    equivalents.setdefault(stem, [])
                    equivalents[stem] += [a for a in alts if a not in equivalents[stem]]
        return QueryPlan(query, lang or "en", list(weights), weights, acts, clusters, equivalents)

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               language: str | None = None, config: RetrievalConfig | None = None, context: str = ""
               ) -> list[StoredChunk]:
        cfg = config or self.config
        snap = self.index.snapshot
        if not len(snap):
            return []
        plan = self.plan(query, language, cfg, context)
        mask = snap.mask(filters)
        n = len(snap)
        bm25 = np.zeros(n, dtype=np.float32)
        if cfg.mode in ("hybrid", "bm25"):
            bm25 = snap.keyword.scores(plan.terms, plan.weights)
            if mask is not None:
                bm25 = np.where(mask, bm25, 0.0)
        dense = self._dense(snap, query, mask, cfg) if cfg.mode in ("hybrid", "dense") else {}
        cognate = np.zeros(n, dtype=np.float32)
        if cfg.mode == "hybrid" and (cfg.cognate_weight or cfg.cognate_extra) and snap.cognates is not None:
            cognate = snap.cognates.scores(prefixes(query))
            if mask is not None:
                cognate = np.where(mask, cognate, 0.0)
        if cfg.mode == "bm25":
            score = bm25.copy()
        else:
            bmax = float(bm25.max()) if bm25.size else 0.0
            w = cfg.bm25_weight.get(plan.language, 0.4) if cfg.mode == "hybrid" else 0.0
            candidates = set(np.argsort(-bm25)[: cfg.candidates].tolist()) if bmax > 0 else set()
            candidates |= set(dense)
            cmax = float(cognate.max()) if cognate.size else 0.0
            if cmax > 0:
                candidates |= set(np.argsort(-cognate)[: cfg.candidates // 2].tolist())
            cos_floor = min(dense.values()) if dense else 0.0
            score = np.full(n, -np.inf, dtype=np.float32)
            for row in candidates:
                if mask is not None and not mask[row]:
                    continue
                cos = dense.get(row, cos_floor)
                score[row] = ((w * bm25[row] / bmax if bmax > 0 else 0.0) + (cos if cfg.mode != "bm25" else 0.0)
                              + (cfg.cognate_weight * cognate[row] / cmax if cmax > 0 else 0.0))
        if cfg.use_acts and (plan.act_keys or plan.cluster_keys) and cfg.act_boost:
            boost = self._act_boost(snap, plan.act_keys, cfg.act_boost) if plan.act_keys else 0.0
            if plan.cluster_keys:
                boost = boost + self._cluster_boost(snap, plan.cluster_keys, cfg.act_boost)
            finite = np.isfinite(score)
            score = np.where(finite, score + boost, score)
        if mask is not None:
            score = np.where(mask, score, -np.inf)
        order = np.argsort(-score)[:k]
        if cfg.mode == "hybrid" and cfg.cognate_extra and k > cfg.cognate_extra and cognate.max() > 0:
            # Cognates reach the passages of the other language that neither stems nor the English-centred
            # embedding find (measured on the realistic sets: +1 to +2 points of key facts held, none lost).
            keep = [int(r) for r in order[: k - cfg.cognate_extra] if np.isfinite(score[r])]
            extra = [int(r) for r in np.argsort(-cognate)[: 4 * cfg.cognate_extra]
                     if int(r) not in keep and cognate[r] > 0 and (mask is None or mask[r])][: cfg.cognate_extra]
            rest = [int(r) for r in order[k - cfg.cognate_extra:] if int(r) not in extra]
            order = np.array((keep + extra + rest)[:k], dtype=np.int64)
            score = score.copy()
            floor = float(min(score[keep])) if keep else 0.0
            for i, r in enumerate(extra):  # they rank just after what fusion ranked, in their own order
                score[r] = floor - 1e-4 * (i + 1)
            order = np.array(sorted(order.tolist(), key=lambda r: -score[r]), dtype=np.int64)
        out = []
        for row in order:
            if not np.isfinite(score[row]) or (cfg.mode == "bm25" and score[row] <= 0):
                continue
            chunk = snap.chunk(int(row), float(score[row]))
            chunk.scores = {"bm25": float(bm25[row]), "dense": float(dense.get(int(row), 0.0)),
                            "cognate": float(cognate[row] / cognate.max()) if cognate.max() > 0 else 0.0}
            out.append(chunk)
        return out

    def prefetch_vectors(self, queries: list[str]) -> None:
        """Embed several questions in one model call (the parts of a multi-part question), so that their
        searches find their vectors ready: one forward pass instead of one per part."""
        missing = list(dict.fromkeys(q for q in queries if q not in self._vectors))
        if len(missing) < 2:
            return
        for query, vec in zip(missing, self.embedder.embed(missing), strict=True):
            self._vectors[query] = vec
        while len(self._vectors) > 64:
            self._vectors.pop(next(iter(self._vectors)))

    def query_vector(self, query: str) -> np.ndarray:
        """The question's embedding, kept for the last few questions (the answer step reuses it)."""
        vec = self._vectors.get(query)
        if vec is None:
            vec = self.embedder.embed_query(query)
            self._vectors[query] = vec
            while len(self._vectors) > 64:
                self._vectors.pop(next(iter(self._vectors)))
        return vec

    def _dense(self, snap: Snapshot, query: str, mask: np.ndarray | None, cfg: RetrievalConfig) -> dict[int, float]:
        vector = self.query_vector(query)
        want = cfg.candidates
        if mask is not None:
            selected = int(mask.sum())
            if selected == 0:
                return {}
            # Over-fetch from HNSW and filter in process: a Chroma `where` costs ~200 ms at 100k chunks.
            want = min(len(snap), int(cfg.candidates * max(1.0, len(snap) / max(selected, 1))) + cfg.candidates)
            want = min(want, 2000)
        hits = self.store.dense(vector, min(want, len(snap)))
        out: dict[int, float] = {}
        for cid, sim in hits:
            row = snap.row.get(cid)
            if row is None or (mask is not None and not mask[row]):
                continue
            out[row] = sim
        if mask is not None and len(out) < min(cfg.candidates, int(mask.sum())):
            # A very selective filter: ask Chroma for the selected documents only (rare, small sets).
            doc_ids = sorted(set(snap.document_id[mask].tolist()))
            where = {"document_id": {"$in": doc_ids}} if len(doc_ids) > 1 else {"document_id": doc_ids[0]}
            for cid, sim in self.store.dense(vector, min(cfg.candidates, int(mask.sum())), where=where):
                row = snap.row.get(cid)
                if row is not None and mask[row]:
                    out[row] = sim
        return out

    @staticmethod
    def _cluster_boost(snap: Snapshot, keys: list[str], amount: float) -> np.ndarray:
        """Documents about the named cluster: most for a profile of that cluster alone."""
        wanted = {k.lower() for k in keys}
        boost = np.zeros(len(snap), dtype=np.float32)
        for i, clusters in enumerate(snap.clusters):
            hit = clusters & wanted
            if hit:
                boost[i] = amount * (1.0 if len(clusters) <= len(wanted) else 0.3)
        return boost

    @staticmethod
    def _act_boost(snap: Snapshot, keys: list[str], amount: float) -> np.ndarray:
        numbers = {k.split(":")[1]: k.split(":")[0] for k in keys}
        boost = np.zeros(len(snap), dtype=np.float32)
        for i, key in enumerate(snap.act_key):
            if key and key.split(":")[-1] in numbers:
                kind = numbers[key.split(":")[-1]]
                if kind in ("DECREE", key.split(":")[0]) or {kind, key.split(":")[0]} <= {"DD", "DM", "DECREE"}:
                    boost[i] = amount
        return boost
