"""Run a retriever configuration over a query set and keep what the metrics need."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from evals.metrics import percentiles
from rag.models import StoredChunk
from rag.retrieval import HybridRetriever, RetrievalConfig


def product_configs(default: RetrievalConfig) -> dict[str, RetrievalConfig]:
    """BM25 alone, dense alone and the product's default hybrid, all other knobs left at the default."""
    return {"BM25": replace(default, mode="bm25"), "dense": replace(default, mode="dense"),
            "hybrid (default)": default}


@dataclass
class RunResult:
    chunks: dict[str, list[StoredChunk]] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def latency(self) -> dict[str, float]:
        return percentiles(self.latency_ms)


def forget_query_vectors(retriever: HybridRetriever) -> None:
    """Empty the retriever's small cache of question vectors, so each configuration run pays for its own
    query embedding instead of reusing the previous run's (the latency would otherwise flatter it)."""
    cache = getattr(retriever, "_vectors", None)
    if isinstance(cache, dict):
        cache.clear()


def run_queries(retriever: HybridRetriever, queries: Mapping[str, str], config: RetrievalConfig, k: int,
                language: str | Mapping[str, str | None] | None = None,
                tick: Callable[[], None] | None = None) -> RunResult:
    forget_query_vectors(retriever)
    result = RunResult()
    started = time.perf_counter()
    for qid, text in queries.items():
        lang = language.get(qid) if isinstance(language, Mapping) else language
        t0 = time.perf_counter()
        result.chunks[qid] = retriever.search(text, k=k, language=lang, config=config)
        result.latency_ms.append((time.perf_counter() - t0) * 1000)
        if tick:
            tick()
    result.seconds = time.perf_counter() - started
    return result


def compare_configs(bench, queries: Mapping[str, str], qrels: Mapping[str, Mapping[str, int]],  # noqa: ANN001
                    language: str, metrics: list[str], bars, label: str) -> dict[str, dict]:  # noqa: ANN001
    """Every product configuration over a benchmark store (``evals.benchstore.BenchStore``): the metrics of
    its passage rankings, its latency and its time, by configuration name."""
    from evals.metrics import evaluate_rankings

    bench.embedder.prefill(list(queries.values()))
    configs = {}
    for name, config in product_configs(bench.retriever.config).items():
        with bars.task(f"{label}: {name}", len(queries)) as advance:
            result = run_queries(bench.retriever, queries, config, k=20, language=language, tick=advance)
        rankings = {q: bench.passage_ids(chunks) for q, chunks in result.chunks.items()}
        configs[name] = {"metrics": evaluate_rankings(qrels, rankings, metrics),
                         "latency_ms": result.latency(), "seconds": result.seconds}
    return configs
