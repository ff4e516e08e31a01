"""The parts of ``ctn eval``: each returns a JSON-ready dictionary; ``run_all`` adds the report."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from evals import GOLD_PATH, HELDOUT2_PATH, HELDOUT_PATH, ROOT, gold_answers, gold_retrieval, scifact, squad
from evals.gold import load_gold
from evals.machine import describe
from evals.progress import Bars

log = logging.getLogger(__name__)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def ensure_corpus(svc) -> dict:  # noqa: ANN001 - ctn.service.AssistantService
    """Ingest the corpus when the store is empty; otherwise use the store as it is."""
    ingested = False
    started = time.perf_counter()
    if svc.store.count() == 0:
        log.info("the store under %s is empty: ingesting %s", svc.settings.data_dir, svc.settings.corpus_dir)
        report = svc.ingest([svc.settings.corpus_dir])
        if report.failed:
            log.warning("ingest failures: %s", [(r.path, r.reason) for r in report.failed])
        ingested = True
    snapshot = svc.index.load_or_build()
    return {"documents": len(snapshot.docs), "chunks": len(snapshot), "ingested": ingested,
            "seconds": time.perf_counter() - started}


def _display(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def run_gold(svc, bars: Bars, subset: int | None = None, gold_path: Path = GOLD_PATH,  # noqa: ANN001
             langchain: bool = True, answers: bool = True) -> dict:
    started = time.perf_counter()
    items = load_gold(gold_path)
    items = items[:subset] if subset else items
    corpus = ensure_corpus(svc)
    out = {"gold_file": _display(gold_path), "questions": len(items), "subset": subset, "corpus": corpus,
           "retrieval": gold_retrieval.evaluate(svc, items, bars, langchain=langchain)}
    if answers:
        out["answers"] = gold_answers.evaluate(svc, items, bars)
    out["seconds"] = time.perf_counter() - started
    return out


def run_scifact(svc, bars: Bars, subset: int | None = None) -> dict:  # noqa: ANN001
    return scifact.run(svc.settings.data_dir, svc.embedder, svc.settings, bars, subset=subset)


def run_squad(svc, bars: Bars, subset: int | None = None, max_passages: int | None = None,  # noqa: ANN001
              answers: bool = True, answer_limit: int | None = squad.ANSWER_SAMPLE) -> dict:
    return squad.run(svc.settings.data_dir, svc.embedder, svc.settings, bars, subset=subset,
                     max_passages=max_passages, answers=answers, answer_limit=answer_limit)


def run_all(svc, bars: Bars, subset: int | None = None, report: Path | None = None) -> dict:  # noqa: ANN001
    started = time.perf_counter()
    results: dict = {"meta": describe(svc.settings, svc.retriever.config), "subset": subset}
    timings: dict[str, float] = {}
    results["gold"] = run_gold(svc, bars, subset=subset)
    timings["gold: corpus check/ingest"] = results["gold"]["corpus"]["seconds"]
    timings["gold: retrieval (5 configurations + LangChain)"] = results["gold"]["retrieval"]["seconds"]
    timings["gold: answers"] = results["gold"]["answers"]["seconds"]
    results["heldout"] = []
    for path in (HELDOUT_PATH, HELDOUT2_PATH):
        if path.exists():
            held = load_gold(path)
            results["heldout"].append({"gold_file": _display(path), "questions": len(held),
                                       "answers": gold_answers.evaluate(svc, held[:subset] if subset else held, bars)})
            timings[f"held-out {path.name}: answers"] = results["heldout"][-1]["answers"]["seconds"]
    results["scifact"] = run_scifact(svc, bars, subset=subset)
    timings["scifact (store " + ("reused" if results["scifact"]["store"]["reused"] else "built") + ")"] = \
        results["scifact"]["seconds"]
    results["squad"] = run_squad(svc, bars, subset=subset)
    timings["squad-it (store " + ("reused" if results["squad"]["store"]["reused"] else "built") + ")"] = \
        results["squad"]["seconds"]
    timings["total"] = time.perf_counter() - started
    results["timings_s"] = timings
    if report is not None:
        from evals.report import write_report

        path, image = write_report(results, report)
        results["report"] = {"markdown": str(path), "plot": str(image)}
    return results
