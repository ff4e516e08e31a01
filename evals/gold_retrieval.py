"""Retrieval over the gold set: document-level ranking metrics for every configuration side by side.

A question's relevant items are its supporting documents; a configuration's chunks are turned into a
document ranking by each document's best chunk. Unanswerable questions have no relevant documents and
are left out. A follow-up is searched with the product's own rewrite of it (``rag.followup``), the
same query for every configuration, including the LangChain baseline.
"""

from __future__ import annotations

import time
from dataclasses import replace

from evals.answers import all_key_facts
from evals.gold import GoldItem
from evals.langchain_baseline import LangChainBaseline
from evals.metrics import RETRIEVAL_METRICS, dedupe, evaluate_rankings, share
from evals.progress import Bars
from evals.runs import product_configs, run_queries
from rag.followup import rewrite
from rag.retrieval import RetrievalConfig

METRICS = (*RETRIEVAL_METRICS, "hit_rate@5")
CHUNKS_PER_QUERY = 100  # enough chunks for 20 distinct documents in practice
CONTEXT_K = 4  # what a LangChain user passes to the model: similarity_search's default k
BREAKDOWN = ("lang:it", "lang:en", "factual", "cross_lingual", "amendment", "multi_doc", "follow_up",
             "conflict")


def configs(default: RetrievalConfig) -> dict[str, RetrievalConfig]:
    """The three modes plus two ablations of the hybrid default (cheap on a set this size)."""
    out = product_configs(default)
    out["hybrid, no glossary"] = replace(default, use_glossary=False)
    out["hybrid, no act boost"] = replace(default, use_acts=False)
    return out


def retrieval_query(item: GoldItem) -> str:
    return rewrite(item.question, list(item.history)) or item.question


def groups(items: list[GoldItem]) -> dict[str, list[GoldItem]]:
    out: dict[str, list[GoldItem]] = {}
    for key in BREAKDOWN:
        if key.startswith("lang:"):
            out[key] = [i for i in items if i.lang == key[5:]]
        else:
            out[key] = [i for i in items if key in i.tags]
    return {k: v for k, v in out.items() if v}


def _score(items: list[GoldItem], rankings: dict[str, list[str]], contexts: dict[str, str]) -> dict:
    qrels = {i.id: dict.fromkeys(i.supporting_docs, 1) for i in items}
    return {
        "metrics": evaluate_rankings(qrels, rankings, METRICS),
        "context_key_facts": share(all_key_facts(i.key_facts, contexts.get(i.id, "")) for i in items),
        "by_group": {g: evaluate_rankings({i.id: qrels[i.id] for i in members}, rankings, ("recall@5", "ndcg@10"))
                     for g, members in groups(items).items()},
    }


def evaluate(svc, items: list[GoldItem], bars: Bars, langchain: bool = True) -> dict:  # noqa: ANN001
    started = time.perf_counter()
    answerable = [i for i in items if i.answerable]
    queries = {i.id: retrieval_query(i) for i in answerable}
    out: dict = {"questions": len(answerable), "excluded_unanswerable": len(items) - len(answerable),
                 "chunks_per_query": CHUNKS_PER_QUERY, "context_k": CONTEXT_K, "configs": {}}
    for name, config in configs(svc.retriever.config).items():
        with bars.task(f"gold retrieval: {name}", len(queries)) as advance:
            result = run_queries(svc.retriever, queries, config, k=CHUNKS_PER_QUERY, tick=advance)
        rankings = {q: dedupe(c.document_id for c in chunks) for q, chunks in result.chunks.items()}
        contexts = {q: "\n".join(c.text for c in chunks[:CONTEXT_K]) for q, chunks in result.chunks.items()}
        out["configs"][name] = {**_score(answerable, rankings, contexts), "latency_ms": result.latency(),
                                "config": config.__dict__}
    if langchain:
        baseline = LangChainBaseline(svc.store)
        with bars.task("gold retrieval: LangChain baseline (building)", None):
            baseline.build()
        for k in (CONTEXT_K, 20):
            name = f"LangChain (Chroma, k={k})"
            with bars.task(f"gold retrieval: {name}", len(queries)) as advance:
                found, latency = baseline.search(queries, k=k, tick=advance)
            rankings = {q: dedupe(str(d.metadata.get("document_id", "")) for d in docs) for q, docs in found.items()}
            contexts = {q: "\n".join(d.page_content for d in docs[:CONTEXT_K]) for q, docs in found.items()}
            out["configs"][name] = {**_score(answerable, rankings, contexts), "latency_ms": latency,
                                    "config": {"k": k, "chunk_size": 1000, "chunk_overlap": 200,
                                               "chunks": baseline.chunks}}
        out["langchain_build_seconds"] = baseline.build_seconds
        baseline.close()
    out["seconds"] = time.perf_counter() - started
    return out
