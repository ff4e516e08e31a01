"""``ctn bench retrieval-scale``: filtered dense search and BM25 at 10k and 100k chunks.

Synthetic collections of random normalised 384-d vectors with document-level metadata (doc_type, year,
language; ten chunks per document) are written into embedded Chroma stores through the product's own
``Store`` (same HNSW configuration), and kept under ``$CTN_DATA_DIR/bench/retrieval-scale`` for the next
run. Each query then runs every method back to back, so all methods see the same machine load:
HNSW top-20 without a filter, Chroma's ``where`` filter, and the product's way (``Snapshot.mask`` plus
``HybridRetriever._dense``: over-fetch from HNSW, keep the rows the numpy mask selects), for filters
that select about 50%, 10% and 1% of the chunks; and BM25 top-20 over synthetic texts. Each method's
top-20 is also compared with the exact top-20 (brute force), since speed at lower recall is no gain.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ctn.bench.common import err, finish_header, phase, run_header, timed
from ctn.bench.report import fmt, run_block, table
from ctn.bench.stats import ratio, summarize

DIM = 384
K = 20
SEED = 20240601
CHUNKS_PER_DOC = 10
INSERT_BATCH = 5000
BUILDER_VERSION = "1"
DOC_TYPES = ["notice", "decree", "law", "guideline", "roadmap", "faq", "overview", "cluster_profile", "report",
             "minutes"]
YEARS = list(range(2012, 2022))
VOCAB = 30_000
DOC_TOKENS = 120


def _filters() -> dict[str, tuple[Any, dict[str, Any]]]:
    from rag.index import Filters

    return {
        "~50% (language = it)": (Filters(language="it"), {"language": "it"}),
        "~10% (doc_type = notice)": (Filters(doc_type=["notice"]), {"doc_type": "notice"}),
        "~1% (doc_type = notice, year = 2016)": (Filters(doc_type=["notice"], year=2016),
                                                  {"$and": [{"doc_type": "notice"}, {"year": 2016}]}),
    }


class Synthetic:
    """Vectors, metadata and token lists of ``n`` chunks, the same for the same seed."""

    def __init__(self, n: int, seed: int = SEED) -> None:
        rng = np.random.default_rng(seed + n)
        self.n = n
        vectors = rng.standard_normal((n, DIM), dtype=np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        n_docs = -(-n // CHUNKS_PER_DOC)
        doc_type = rng.integers(0, len(DOC_TYPES), n_docs)
        year = rng.integers(0, len(YEARS), n_docs)
        lang = rng.integers(0, 2, n_docs)
        self.ids = [f"syn-{i:07d}" for i in range(n)]
        self.metas = [{"document_id": f"syn-doc-{i // CHUNKS_PER_DOC:06d}", "doc_hash": "synthetic",
                       "index": i % CHUNKS_PER_DOC, "doc_type": DOC_TYPES[doc_type[i // CHUNKS_PER_DOC]],
                       "year": YEARS[year[i // CHUNKS_PER_DOC]], "language": ("it", "en")[lang[i // CHUNKS_PER_DOC]]}
                      for i in range(n)]
        # Zipf-distributed words, like real text: a few very common ones, a long tail of rare ones.
        ranks = (rng.zipf(1.15, size=n * DOC_TOKENS) - 1) % VOCAB
        words = np.array([f"w{r}" for r in range(VOCAB)], dtype=object)
        flat = words[ranks]
        self.tokens = [flat[i * DOC_TOKENS:(i + 1) * DOC_TOKENS].tolist() for i in range(n)]

    def queries(self, count: int, seed: int = SEED) -> tuple[np.ndarray, list[list[str]]]:
        rng = np.random.default_rng(seed - 1)
        q = rng.standard_normal((count, DIM), dtype=np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        terms = [[f"w{r}" for r in rng.integers(20, 3000, rng.integers(2, 6))] for _ in range(count)]
        return q, terms


def _store(data: Synthetic, cache_dir: Path, rebuild: bool) -> tuple[Any, bool, float]:
    """The product's ``Store`` over a synthetic collection, built once and then reused."""
    from rag.settings import Settings
    from rag.store import Store

    directory = cache_dir / f"n{data.n}"
    fingerprint = {"n": data.n, "dim": DIM, "seed": SEED, "chunks_per_doc": CHUNKS_PER_DOC,
                   "builder": BUILDER_VERSION}
    marker = directory / "fingerprint.json"
    settings = Settings(data_dir=directory, collection="synthetic", chroma_url=None)
    if not rebuild and marker.exists() and json.loads(marker.read_text()) == fingerprint:
        store = Store(settings)
        if store.count() == data.n:
            return store, True, 0.0
    shutil.rmtree(directory, ignore_errors=True)
    store = Store(settings)
    started = time.perf_counter()
    with Progress(TextColumn(f"[bold]writing {data.n:,} vectors into Chroma[/]"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task("", total=data.n)
        for i in range(0, data.n, INSERT_BATCH):
            store.chunks.add(ids=data.ids[i:i + INSERT_BATCH], embeddings=data.vectors[i:i + INSERT_BATCH],
                             metadatas=data.metas[i:i + INSERT_BATCH])
            progress.update(task, completed=min(i + INSERT_BATCH, data.n))
    build_s = time.perf_counter() - started
    marker.write_text(json.dumps(fingerprint))
    return store, False, build_s


class _QueryVectors:
    """Stands in for the embedder: the benchmark's queries are vectors already."""

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}

    def embed_query(self, text: str) -> np.ndarray:
        return self.vectors[text]


class _CountingStore:
    """The store as the retriever sees it, counting the ``where`` fall-backs of very selective filters."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.where_calls = 0

    def dense(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        if where is not None:
            self.where_calls += 1
        return self._store.dense(vector, k, where=where)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _recall(found: list[int], exact: np.ndarray) -> float:
    return len(set(found) & set(exact.tolist())) / max(len(exact), 1)


def _exact(vectors: np.ndarray, q: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    sims = vectors @ q
    if mask is not None:
        sims = np.where(mask, sims, -np.inf)
    k = min(K, int(np.isfinite(sims).sum()))
    top = np.argpartition(-sims, k - 1)[:k]
    return top[np.argsort(-sims[top])]


def _masked_top(vectors: np.ndarray, q: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Exact top-20 over the selected rows only: what the product could do if its snapshot held the
    vectors (the corpus's own 487 x 384 floats are 0.7 MB; 100k chunks would be 150 MB)."""
    rows = np.flatnonzero(mask)
    sims = vectors[rows] @ q
    k = min(K, len(rows))
    top = np.argpartition(-sims, k - 1)[:k]
    return rows[top[np.argsort(-sims[top])]]


def run_size(n: int, queries: int, cache_dir: Path, rebuild: bool) -> dict[str, Any]:
    import bm25s

    from rag.index import Snapshot
    from rag.keyword_index import KeywordIndex
    from rag.retrieval import HybridRetriever, RetrievalConfig
    from rag.settings import Settings

    with phase(f"{n:,} chunks: generating synthetic vectors, metadata and texts"):
        data = Synthetic(n)
    store, reused, build_s = _store(data, cache_dir, rebuild)
    err.print(f"{n:,}-vector store {'reused from' if reused else 'built in'} {cache_dir / f'n{n}'}"
              + ("" if reused else f" ({build_s:.0f} s)"))
    with phase(f"{n:,} chunks: BM25 index (bm25s)"):
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        _, bm25_build = timed(lambda: bm25.index(data.tokens, show_progress=False))
        keyword = KeywordIndex(bm25, n)
    with phase(f"{n:,} chunks: the product's in-process metadata arrays (Snapshot)"):
        snap, snap_build = timed(lambda: Snapshot("synthetic", data.ids, [""] * n, data.metas, {}, keyword))
    del data.tokens
    qvecs, qterms = data.queries(queries)
    embedder = _QueryVectors()
    counting = _CountingStore(store)
    config = RetrievalConfig(mode="dense", candidates=K)
    retriever = HybridRetriever(None, counting, embedder, Settings(chroma_url=None), config)  # type: ignore[arg-type]
    filters = _filters()
    masks = {name: snap.mask(f) for name, (f, _) in filters.items()}
    times: dict[str, list[float]] = {}
    recalls: dict[str, list[float]] = {}
    fallbacks: dict[str, int] = {}
    agree: list[float] = []

    def clock(name: str, func: Any) -> Any:
        started = time.perf_counter()
        out = func()
        times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return out

    # One untimed pass of each method first: Chroma loads its index files on first use.
    store.dense(qvecs[0], K)
    store.dense(qvecs[0], K, where=filters["~10% (doc_type = notice)"][1])
    with Progress(TextColumn(f"[bold]{n:,} chunks: timing {queries} queries[/]"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task("", total=queries)
        for i, (q, terms) in enumerate(zip(qvecs, qterms, strict=True)):
            key = f"q{i}"
            embedder.vectors = {key: q}
            hits = clock("hnsw", lambda q=q: store.dense(q, K))
            recalls.setdefault("hnsw", []).append(_recall([snap.row[c] for c, _ in hits], _exact(data.vectors, q, None)))
            for name, (flt, where) in filters.items():
                hits = clock(f"where|{name}", lambda q=q, where=where: store.dense(q, K, where=where))
                exact = _exact(data.vectors, q, masks[name])
                recalls.setdefault(f"where|{name}", []).append(_recall([snap.row[c] for c, _ in hits], exact))
                before = counting.where_calls
                found = clock(f"product|{name}", lambda flt=flt, key=key: retriever._dense(snap, key, snap.mask(flt), config))
                if counting.where_calls > before:
                    fallbacks[name] = fallbacks.get(name, 0) + 1
                top = sorted(found.items(), key=lambda kv: -kv[1])[:K]
                recalls.setdefault(f"product|{name}", []).append(_recall([r for r, _ in top], exact))
                brute = clock(f"numpy|{name}", lambda flt=flt, q=q: _masked_top(data.vectors, q, snap.mask(flt)))
                recalls.setdefault(f"numpy|{name}", []).append(_recall(brute.tolist(), exact))
            weights = dict.fromkeys(terms, 1.0)
            lib = clock("bm25s", lambda terms=terms: bm25.retrieve([terms], k=K, show_progress=False, n_threads=0))
            scores = clock("product_bm25", lambda terms=terms, weights=weights:
                           np.argsort(-keyword.scores(terms, weights))[:K])
            # Ties (and zero scores) may be ordered differently; equal top-20 *scores* mean the same ranking.
            product_scores = np.sort(keyword.scores(terms, weights)[scores])[::-1]
            lib_scores = np.sort(np.asarray(lib[1][0], dtype=np.float32))[::-1]
            agree.append(float(np.allclose(product_scores, lib_scores, rtol=1e-4, atol=1e-5)))
            progress.update(task, completed=i + 1)
    return {"n": n, "store_reused": reused, "store_build_s": build_s, "bm25_build_s": bm25_build.wall_s,
            "snapshot_build_s": snap_build.wall_s,
            "selectivity": {name: float(m.mean()) for name, m in masks.items()},
            "ms": {k: summarize(v) for k, v in times.items()},
            "recall": {k: float(np.mean(v)) for k, v in recalls.items()}, "fallbacks": fallbacks,
            "bm25_agreement": float(np.mean(agree)) if agree else 0.0, "queries": queries}


def run(sizes: list[int], queries: int, cache_dir: Path, rebuild: bool, command: str) -> dict[str, Any]:
    header = run_header(command)
    results = [run_size(n, queries, cache_dir, rebuild) for n in sizes]
    finish_header(header)
    return {"header": header, "sizes": results, "cache_dir": str(cache_dir)}


def render(res: dict[str, Any]) -> str:
    sections = []
    for r in res["sizes"]:
        ms, rec = r["ms"], r["recall"]
        base = ms["hnsw"]["p50"]
        rows = [["HNSW top-20, no filter (`Store.dense`)", "100%", fmt(ms["hnsw"]["p50"], 2),
                 fmt(ms["hnsw"]["p95"], 2), "1.0×", fmt(rec["hnsw"], 2), ""]]
        for name in _filter_names():
            sel = f"{100 * r['selectivity'][name]:.1f}%"
            w, p = ms[f"where|{name}"], ms[f"product|{name}"]
            rows.append([f"Chroma `where` top-20, {name}", sel, fmt(w["p50"], 2), fmt(w["p95"], 2),
                         f"{ratio(w['p50'], base):.1f}×", fmt(rec[f"where|{name}"], 2), ""])
            fb = r["fallbacks"].get(name, 0)
            note = (f"**{ratio(w['p50'], p['p50']):.1f}× faster than `where`**" if p["p50"] < w["p50"]
                    else f"{ratio(p['p50'], w['p50']):.1f}× slower than `where`")
            if fb:
                note += f"; fell back to a `where` on document ids in {fb}/{r['queries']} queries"
            rows.append([f"product: over-fetch + numpy mask, {name}", sel, fmt(p["p50"], 2), fmt(p["p95"], 2),
                         f"{ratio(p['p50'], base):.1f}×", fmt(rec[f"product|{name}"], 2), note])
            b = ms[f"numpy|{name}"]
            rows.append([f"candidate: exact numpy top-20 over the selected rows, {name}", sel, fmt(b["p50"], 2),
                         fmt(b["p95"], 2), f"{ratio(b['p50'], base):.1f}×", fmt(rec[f"numpy|{name}"], 2),
                         f"{ratio(w['p50'], b['p50']):.1f}× faster than `where`" if b["p50"] < w["p50"]
                         else f"{ratio(b['p50'], w['p50']):.1f}× slower than `where`"])
        rows.append(["bm25s top-20 (`BM25.retrieve`)", "", fmt(ms["bm25s"]["p50"], 2), fmt(ms["bm25s"]["p95"], 2),
                     f"{ratio(ms['bm25s']['p50'], base):.2f}×", "", ""])
        rows.append(["product BM25 (`KeywordIndex.scores` per term + full argsort)", "",
                     fmt(ms["product_bm25"]["p50"], 2), fmt(ms["product_bm25"]["p95"], 2),
                     f"{ratio(ms['product_bm25']['p50'], base):.2f}×", "",
                     f"same top-20 scores as bm25s in {100 * r['bm25_agreement']:.0f}% of queries"])
        build = ("reused from the cache" if r["store_reused"] else f"written in {r['store_build_s']:.0f} s "
                 f"(batches of {INSERT_BATCH:,})")
        sections += [
            f"**{r['n']:,} chunks** ({r['queries']} random queries; Chroma store {build}; bm25s index built in "
            f"{r['bm25_build_s']:.1f} s; the product's metadata arrays (`Snapshot.__post_init__`) in "
            f"{r['snapshot_build_s']:.1f} s)",
            "",
            table(["method", "selects", "ms p50", "ms p95", "p50 vs HNSW", "recall@20 vs exact", "note"], rows,
                  "lrrrrrl"),
            "",
        ]
    return "\n".join([
        "## Retrieval at scale (`ctn bench retrieval-scale`)",
        "",
        run_block(res["header"]),
        "",
        "Synthetic collections: random normalised 384-d vectors, ten chunks per document, document metadata "
        f"drawn uniformly (10 doc types, 10 years, 2 languages), written through the product's `Store` (HNSW, "
        f"cosine, ef_search 100) into embedded Chroma stores cached under `{res['cache_dir']}`. Every query runs "
        "every method back to back. The product's way is the real code: `Snapshot.mask` and "
        "`HybridRetriever._dense` with 20 candidates (the product asks for 50, which over-fetches 2.5× more). "
        "Recall is the share of the exact top-20 (brute force within the filter) that a method returns; random "
        "vectors are the hardest case for HNSW (no clusters), so absolute recall is lower than on real "
        "embeddings, but the methods compare on equal terms. The *candidate* rows are not the product: an "
        "exact dot product over the selected rows (mask included), which the product could do if its "
        "in-process snapshot kept the vectors. BM25 texts are 120 Zipf-distributed words per chunk; queries "
        "have 2–5 words.",
        "",
        *sections,
    ])


def _filter_names() -> list[str]:
    return list(_filters())
