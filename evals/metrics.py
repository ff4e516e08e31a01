"""Ranking metrics through ranx, plus the small helpers that turn retrieval output into ranx input.

ranx sorts a run by score; the harness hands it scores derived from rank positions (n, n-1, ...) so
the order ranx evaluates is exactly the order the retriever returned, with no ties to break.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "recall@20", "mrr@10", "ndcg@10")


def dedupe(items: Iterable[str]) -> list[str]:
    """Keep the first occurrence of each id: chunks arrive best first, so a document is ranked by its
    best chunk."""
    seen: dict[str, None] = {}
    for item in items:
        if item not in seen:
            seen[item] = None
    return list(seen)


def evaluate_rankings(qrels: Mapping[str, Mapping[str, int]], rankings: Mapping[str, Sequence[str]],
                      metrics: Sequence[str] = RETRIEVAL_METRICS) -> dict[str, float]:
    """Mean of each metric over the queries of ``qrels`` (a query absent from ``rankings``, or with an
    empty ranking, scores 0)."""
    from ranx import Qrels, Run, evaluate

    qrels = {str(q): {str(d): int(r) for d, r in rel.items()} for q, rel in qrels.items() if rel}
    if not qrels:
        return dict.fromkeys(metrics, 0.0)
    run = {}
    for q, docs in rankings.items():
        docs = dedupe(str(d) for d in docs)
        if str(q) in qrels and docs:
            run[str(q)] = {d: float(len(docs) - i) for i, d in enumerate(docs)}
    if not run:
        return dict.fromkeys(metrics, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety chatter inside ranx
        scores = evaluate(Qrels(qrels), Run(run), list(metrics), make_comparable=True)
    if isinstance(scores, float | np.floating):
        scores = {metrics[0]: scores}
    return {m: float(scores[m]) for m in metrics}


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50 and p95 (linear interpolation, as numpy computes them) plus the mean and the count."""
    if not values:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0, "n": 0}
    arr = np.asarray(values, dtype=float)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)),
            "mean": float(arr.mean()), "n": int(arr.size)}


def share(flags: Iterable[bool]) -> dict[str, float]:
    """The share of true flags with its numerator and denominator (a rate over nothing is 0 of 0)."""
    flags = list(flags)
    hits = sum(bool(f) for f in flags)
    return {"rate": hits / len(flags) if flags else 0.0, "hits": hits, "n": len(flags)}
