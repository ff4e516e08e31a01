"""Answers over a question set: key facts, citation validity, refusals, language, selective QA, retrieval,
per-step latency.

Every item goes through ``AnswerPipeline`` exactly as a user's question would (a follow-up with its
``history``, no language hint). A key fact counts only in an answered response: a refusal that names the
closest documents must not score by accident. Beside the answer, the run keeps the answerer's calibrated
confidence (for the risk-coverage curve) and whether the top 8 retrieved chunks of each part held every key
fact (what retrieval gave the answerer to work with).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from evals.answers import all_key_facts, check_citations
from evals.gold import GoldItem
from evals.gold_retrieval import groups
from evals.metrics import percentiles, share
from evals.progress import Bars
from evals.runs import forget_query_vectors
from rag.pipeline import to_answer

RETRIEVAL_K = 8


def _chunk_reader(store):  # noqa: ANN001, ANN202 - rag.store.Store
    def read(ids: list[str]) -> Mapping[str, str]:
        return {c.chunk_id: c.text for c in store.get_chunks(ids)} if ids else {}

    return read


def evaluate(svc, items: list[GoldItem], bars: Bars) -> dict:  # noqa: ANN001
    started = time.perf_counter()
    read = _chunk_reader(svc.store)
    rows = []
    forget_query_vectors(svc.retriever)
    with bars.task("gold answers", len(items)) as advance:
        for item in items:
            t0 = time.perf_counter()
            state = svc.pipeline.state(item.question, history=list(item.history) or None)
            answer = to_answer(state).to_dict()
            top = " ".join(c.text for ev in state.evidence for c in ev.chunks[:RETRIEVAL_K])
            wall_ms = (time.perf_counter() - t0) * 1000
            answered = answer["status"] == "answered"
            quotes = " ".join(str(c.get("quote", "")) for c in answer.get("citations") or [])
            check = check_citations(answer, read) if answered else None
            rows.append({
                "id": item.id, "lang": item.lang, "tags": list(item.tags), "answerable": item.answerable,
                "status": answer["status"], "language": answer.get("language"), "wall_ms": wall_ms,
                "timings_ms": answer.get("timings_ms") or {},
                "key_facts_text": answered and all_key_facts(item.key_facts, answer["answer"]),
                "key_facts": answered and all_key_facts(item.key_facts, answer["answer"] + "\n" + quotes),
                "citations_ok": None if check is None else check.ok,
                "citation_check": None if check is None else {
                    "markers_ok": check.markers_ok, "quotes_ok": check.quotes_ok, "numbers_ok": check.numbers_ok,
                    "problems": check.describe()},
                "n_citations": len(answer.get("citations") or []),
                "confidence": state.draft.confidence if state.draft is not None else 0.0,
                "retrieval_holds": item.answerable and all_key_facts(item.key_facts, top),
                "reason": state.reason,
                "answer": answer["answer"],
            })
            advance()
    return {**summarise(items, rows), "seconds": time.perf_counter() - started}


def summarise(items: list[GoldItem], rows: list[dict]) -> dict:
    by_id = {r["id"]: r for r in rows}
    answerable = [by_id[i.id] for i in items if i.answerable]
    unanswerable = [by_id[i.id] for i in items if not i.answerable]
    answered = [r for r in rows if r["status"] == "answered"]
    steps: dict[str, list[float]] = {}
    for r in rows:
        for step, ms in r["timings_ms"].items():
            steps.setdefault(step, []).append(float(ms))
    checks = [r["citation_check"] for r in answered]
    statuses: dict[str, dict[str, int]] = {}
    for r in rows:
        kind = "answerable" if r["answerable"] else "unanswerable"
        statuses.setdefault(kind, {}).setdefault(r["status"], 0)
        statuses[kind][r["status"]] += 1
    answerable_items = [i for i in items if i.answerable]
    return {
        "questions": len(items), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "key_fact_accuracy": share(r["key_facts"] for r in answerable),
        "key_fact_accuracy_answer_text_only": share(r["key_facts_text"] for r in answerable),
        "citation_validity": share(r["citations_ok"] for r in answered),
        "citation_markers_resolve": share(c["markers_ok"] for c in checks),
        "citation_quotes_verbatim": share(c["quotes_ok"] for c in checks),
        "citation_numbers_supported": share(c["numbers_ok"] for c in checks),
        "refusal_accuracy": share(r["status"] != "answered" for r in unanswerable),
        "refusal_accuracy_out_of_domain": share(r["status"] != "answered" for r in unanswerable
                                                if "out_of_domain" in r["tags"]),
        "refusal_accuracy_in_domain": share(r["status"] != "answered" for r in unanswerable
                                            if "out_of_domain" not in r["tags"]),
        "false_refusal_rate": share(r["status"] != "answered" for r in answerable),
        "language_match": share(r["language"] == r["lang"] for r in rows),
        "answered_share": share(r["status"] == "answered" for r in rows),
        "right_of_answered": share(r["answerable"] and r["key_facts"] for r in answered),
        "retrieval_top8_key_facts": share(r["retrieval_holds"] for r in answerable),
        "statuses": statuses,
        "key_facts_by_group": {g: share(by_id[i.id]["key_facts"] for i in members)
                               for g, members in groups(answerable_items).items()},
        "latency_ms": {step: percentiles(v) for step, v in steps.items()},
        "wall_ms": percentiles([r["wall_ms"] for r in rows]),
        "failures": {
            "missed_key_facts": [r["id"] for r in answerable if r["status"] == "answered" and not r["key_facts"]],
            "false_refusals": [r["id"] for r in answerable if r["status"] != "answered"],
            "answered_unanswerable": [r["id"] for r in unanswerable if r["status"] == "answered"],
            "invalid_citations": [{"id": r["id"], "problems": r["citation_check"]["problems"]}
                                  for r in answered if not r["citations_ok"]],
            "language_mismatch": [r["id"] for r in rows if r["language"] != r["lang"]],
        },
        "rows": rows,
    }
