"""The parts of ``ctn eval``: each returns a JSON-ready dictionary; ``run_all`` adds the report."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from evals import GOLD_PATH, ROOT, gold_answers, gold_retrieval, scifact, squad
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


def run_sets(svc, bars: Bars, subset: int | None = None, blind: bool = False) -> list[dict]:  # noqa: ANN001
    """Every question set of ``evals/sets.yaml`` on its corpus, in the registry's order; the blind sets only
    when asked for (they are run once, at the end of a piece of work, and reported as blind)."""
    from evals.sets import Services, load_sets

    services = Services(svc)
    out = []
    for qset in load_sets()[1]:
        if qset.purpose == "blind" and not blind:
            out.append({"name": qset.name, "corpus": qset.corpus, "purpose": qset.purpose, "note": qset.note,
                        "file": _display(qset.path), "skipped": "blind: run only with --blind"})
            continue
        items = qset.items()
        items = items[:subset] if subset else items
        target = services.get(qset.corpus)
        snapshot = target.index.snapshot
        out.append({"name": qset.name, "corpus": qset.corpus, "purpose": qset.purpose, "note": qset.note,
                    "file": _display(qset.path), "questions": len(items),
                    "corpus_size": {"documents": len(snapshot.docs), "chunks": len(snapshot)},
                    "answers": gold_answers.evaluate(target, items, bars)})
    return out


def model_summary() -> dict:
    """What the packaged answerer was trained on and how it was chosen (its manifest)."""
    from rag.answering.model import default_model

    manifest = default_model().manifest
    return {k: manifest.get(k) for k in ("trained_at", "code_version", "libraries", "data", "squad_it_train",
                                         "params", "metrics", "comparison")}


def rule_counts() -> dict:
    """Regular expressions, numeric constants and word lists in the answering core (evals.rulecount)."""
    from evals.rulecount import CORE_AFTER, count_files

    return {"files": [p.relative_to(ROOT).as_posix() for p in CORE_AFTER],
            "now": count_files(CORE_AFTER).as_dict()}


def run_all(svc, bars: Bars, subset: int | None = None, report: Path | None = None,  # noqa: ANN001
            blind: bool = False) -> dict:
    started = time.perf_counter()
    results: dict = {"meta": describe(svc.settings, svc.retriever.config), "subset": subset}
    timings: dict[str, float] = {}
    results["gold"] = run_gold(svc, bars, subset=subset, answers=False)
    timings["gold: corpus check/ingest"] = results["gold"]["corpus"]["seconds"]
    timings["gold: retrieval (5 configurations + LangChain)"] = results["gold"]["retrieval"]["seconds"]
    results["sets"] = run_sets(svc, bars, subset=subset, blind=blind)
    for entry in results["sets"]:
        if "answers" in entry:
            timings[f"{entry['name']}: answers"] = entry["answers"]["seconds"]
    results["model"] = model_summary()
    results["rules"] = rule_counts()
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
