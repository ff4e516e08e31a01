"""BEIR SciFact: 5,183 abstracts, 300 test claims; nDCG@10 against the published rows.

One passage per abstract (title and text), relevance from ``qrels/test.tsv``; the product's retriever
configurations are run through a store built like the product's (see ``evals.benchstore``).
"""

from __future__ import annotations

import csv
import json
import logging
import time
from pathlib import Path

from evals import BENCHMARKS_DIR
from evals.benchstore import BenchStore, Passage
from evals.metrics import RETRIEVAL_METRICS
from evals.progress import Bars
from evals.runs import compare_configs
from rag.embeddings import Embedder
from rag.settings import Settings

log = logging.getLogger(__name__)

DIR = BENCHMARKS_DIR / "scifact"
GROUP_SIZE = 100
PUBLISHED_NDCG10 = {  # BEIR README of this folder: Thakur et al. 2021; MTEB; BEIR leaderboard
    "BM25 (BEIR paper)": 0.665,
    "all-MiniLM-L6-v2 (MTEB)": 0.645,
    "BM25 + cross-encoder rerank": 0.688,
    "ColBERT": 0.671,
}


def load_passages(directory: Path = DIR) -> list[Passage]:
    passages = []
    with (directory / "corpus.jsonl").open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            row = json.loads(line)
            text = f"{row.get('title', '').strip()}\n{row.get('text', '').strip()}".strip()
            passages.append(Passage(pid=str(row["_id"]), text=text, group=f"scifact-{n // GROUP_SIZE:03d}"))
    return passages


def load_queries(directory: Path = DIR, subset: int | None = None) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """The test claims (in the order of ``qrels/test.tsv``) and their relevant abstracts."""
    qrels: dict[str, dict[str, int]] = {}
    with (directory / "qrels" / "test.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(str(row["query-id"]), {})[str(row["corpus-id"])] = int(row["score"])
    texts = {}
    with (directory / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            texts[str(row["_id"])] = row["text"]
    ids = list(qrels)[:subset] if subset else list(qrels)
    return {q: texts[q] for q in ids}, {q: qrels[q] for q in ids}


def run(data_dir: Path, embedder: Embedder, settings: Settings, bars: Bars, subset: int | None = None
        ) -> dict:
    started = time.perf_counter()
    bench = BenchStore("scifact", data_dir, embedder, settings)
    passages = load_passages()
    with bars.task("scifact: building the store", len(passages)) as advance:
        bench.ensure(passages, "en", progress=lambda done, total: advance(done, total))
    queries, qrels = load_queries(subset=subset)
    configs = compare_configs(bench, queries, qrels, "en", RETRIEVAL_METRICS, bars, "scifact")
    return {
        "benchmark": "BEIR SciFact (test)", "passages": len(passages), "queries": len(queries),
        "relevance_pairs": sum(len(r) for r in qrels.values()), "subset": subset,
        "store": {"path": str(bench.directory), "reused": bench.reused, "build_seconds": bench.build_seconds},
        "configs": configs, "published_ndcg@10": PUBLISHED_NDCG10,
        "seconds": time.perf_counter() - started,
    }
