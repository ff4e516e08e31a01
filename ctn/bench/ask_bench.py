"""``ctn bench ask``: latency of ``service.ask`` (extractive answers) on the gold questions.

The model is loaded, the corpus ingested and a few warm-up questions asked before anything is timed;
then the gold questions (with their conversation history) are asked in order, repeated up to N. The
retriever keeps the embeddings of recent questions; it is emptied before each question so that every
timed answer pays for embedding its question, as a new user's question does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ctn.bench import common
from ctn.bench.common import (
    GoldQuestion,
    finish_header,
    load_questions,
        phase,
    run_header,
    timed,
)
from ctn.bench.report import fmt, run_block, table
from ctn.bench.stats import ratio, summarize
from rag.settings import Settings

WARMUP = 3
MEDIAN_BAR_MS = 50.0
P95_BAR_MS = 100.0


def _forget_query_vectors(service: Any) -> None:
    vectors = getattr(service.retriever, "_vectors", None)
    if isinstance(vectors, dict):
        vectors.clear()


def _ask_all(service: Any, questions: list[GoldQuestion], n: int, threads: list[int | None]) -> list[dict[str, Any]]:
    """Ask N questions; with several thread counts, each question is asked under each in turn, so that
    every setting sees the same questions under the same machine load."""
    import torch

    default = torch.get_num_threads()
    samples = [{"threads": t or default, "default": t is None, "totals": [], "walls": [], "steps": {},
                "statuses": {}, "embed": []} for t in threads]
    embedder = service.embedder
    original = embedder.embed_query
    spent = [0.0]

    def embed_query(text: str) -> Any:
        started = time.perf_counter()
        try:
            return original(text)
        finally:
            spent[0] += (time.perf_counter() - started) * 1000

    embedder.embed_query = embed_query  # timed: the share of the question's embedding in each answer
    try:
        for i in range(n):
            q = questions[i % len(questions)]
            pairs = list(zip(threads, samples, strict=True))
            for t, sample in pairs if i % 2 == 0 else pairs[::-1]:  # alternate which setting goes first
                torch.set_num_threads(t or default)
                _forget_query_vectors(service)
                spent[0] = 0.0
                started = time.perf_counter()
                answer = service.ask(q.question, history=q.history)
                sample["walls"].append((time.perf_counter() - started) * 1000)
                sample["embed"].append(spent[0])
                sample["totals"].append(float(answer.timings_ms.get("total", 0.0)))
                for step, ms in answer.timings_ms.items():
                    if step != "total":
                        sample["steps"].setdefault(step, []).append(float(ms))
                sample["statuses"][answer.status] = sample["statuses"].get(answer.status, 0) + 1
    finally:
        torch.set_num_threads(default)
        del embedder.embed_query
    return [{"threads": s["threads"], "default": s["default"], "total_ms": summarize(s["totals"]),
             "embed_query_ms": summarize(s["embed"]),
             "wall_ms": summarize(s["walls"]), "steps_ms": {k: summarize(v) for k, v in s["steps"].items()},
             "statuses": s["statuses"]} for s in samples]


def run(n: int, data_dir: Path | None, corpus: Path | None, questions_path: Path, compare_threads: list[int],
        command: str) -> dict[str, Any]:
    header = run_header(command)
    overrides: dict[str, Any] = {"llm": "extractive"}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if corpus is not None:
        overrides["corpus_dir"] = corpus
    service = common.make_service(Settings(**overrides))
    settings = service.settings
    questions: list[GoldQuestion] = load_questions(questions_path)
    with phase("loading the embedding model"):
        service.embedder.embed_query("warm up")
    with phase(f"ingesting {settings.corpus_dir} into {settings.data_dir} (unchanged files are skipped)"):
        report, ingest_t = timed(lambda: service.ingest([settings.corpus_dir]))
    with phase("loading the keyword index and warming up"):
        service.index.load_or_build()
        for q in questions[:WARMUP]:
            service.ask(q.question, history=q.history)
    threads: list[int | None] = [None, *compare_threads]
    with phase(f"asking {n} questions ({len(questions)} gold questions in order, repeated)"
               + (f" under {len(threads)} torch thread settings" if compare_threads else "")):
        samples = _ask_all(service, questions, n, threads)
    finish_header(header)
    service.close()
    main = samples[0]
    return {"header": header, "n": n, "questions": len(questions), "data_dir": str(settings.data_dir),
            "corpus": str(settings.corpus_dir), "chunks": service.store.count(),
            "ingest": {"summary": report.summary(), "seconds": ingest_t.wall_s}, "torch_threads": main["threads"],
            "total_ms": main["total_ms"], "wall_ms": main["wall_ms"], "embed_query_ms": main["embed_query_ms"], "steps_ms": main["steps_ms"],
            "statuses": main["statuses"], "compared": samples[1:]}


def render(res: dict[str, Any]) -> str:
    total, wall = res["total_ms"], res["wall_ms"]
    rows = [["**total** (`timings_ms.total`)", total["n"], f"**{fmt(total['p50'])}**", f"**{fmt(total['p95'])}**",
             fmt(total["p99"]), fmt(total["mean"]), fmt(total["max"])],
            ["wall time of `service.ask` (adds logging hooks)", wall["n"], fmt(wall["p50"]), fmt(wall["p95"]),
             fmt(wall["p99"]), fmt(wall["mean"]), fmt(wall["max"])]]
    for step, s in res["steps_ms"].items():
        rows.append([f"step `{step}`", s["n"], fmt(s["p50"], 2), fmt(s["p95"], 2), fmt(s["p99"], 2),
                     fmt(s["mean"], 2), fmt(s["max"], 2)])
    e = res["embed_query_ms"]
    rows.append(["across steps: question embeddings (`Embedder.embed_query`, all calls of one answer)", e["n"],
                 fmt(e["p50"], 2), fmt(e["p95"], 2), fmt(e["p99"], 2), fmt(e["mean"], 2), fmt(e["max"], 2)])
    median_ok = "meets" if total["p50"] < MEDIAN_BAR_MS else "misses"
    p95_ok = "meets" if total["p95"] < P95_BAR_MS else "misses"
    slowest = max(res["steps_ms"].items(), key=lambda kv: kv[1]["mean"])[0] if res["steps_ms"] else "n/a"
    status_text = ", ".join(f"{k} {v}" for k, v in sorted(res["statuses"].items()))
    return "\n".join([
        "## Answer latency (`ctn bench ask`)",
        "",
        run_block(res["header"]),
        "",
        f"{res['n']} answers from `service.ask` in extractive mode (torch threads {res['torch_threads']}): the {res['questions']} gold questions "
        f"(`evals/gold/questions.yaml`, with their `history`) in order, repeated; data dir `{res['data_dir']}` "
        f"({res['chunks']} chunks; ingest before timing: {res['ingest']['summary']}). The model was loaded, the "
        f"keyword index loaded and {WARMUP} questions asked before timing; the retriever's cache of question "
        "embeddings is emptied before each question, so every answer pays for its query embedding. A step "
        "that did not run (the pipeline stopped early) is not counted for that answer, hence its smaller n.",
        "",
        table(["ms", "n", "p50", "p95", "p99", "mean", "max"], rows),
        "",
        f"Statuses: {status_text}. Bars: median under {MEDIAN_BAR_MS:.0f} ms ({median_ok}: "
        f"{total['p50']:.1f} ms) and p95 under {P95_BAR_MS:.0f} ms ({p95_ok}: {total['p95']:.1f} ms). "
        f"The step with the largest mean is `{slowest}`.",
        *_comparison(res),
    ])


def _comparison(res: dict[str, Any]) -> list[str]:
    if not res["compared"]:
        return []
    base = res["total_ms"]["p50"]
    rows = [[f"{res['torch_threads']} (product default)", fmt(res["total_ms"]["p50"]), fmt(res["total_ms"]["p95"]),
             fmt(res["total_ms"]["p99"]), fmt(res["embed_query_ms"]["p50"]), fmt(res["embed_query_ms"]["p95"]),
             "1.00", "1.00"]]
    for c in res["compared"]:
        rows.append([f"{c['threads']} (`torch.set_num_threads`)", fmt(c["total_ms"]["p50"]), fmt(c["total_ms"]["p95"]),
                     fmt(c["total_ms"]["p99"]), fmt(c["embed_query_ms"]["p50"]), fmt(c["embed_query_ms"]["p95"]),
                     f"{ratio(c['total_ms']['p50'], base):.2f}",
                     f"{ratio(c['total_ms']['p95'], res['total_ms']['p95']):.2f}"])
    return ["", "Each question was also asked with other torch thread counts, right before or after (alternating), so "
            "every setting answers the same questions under the same machine load:", "",
            table(["torch threads", "total p50", "total p95", "total p99", "embedding p50", "embedding p95",
                   "p50 vs default", "p95 vs default"], rows)]
