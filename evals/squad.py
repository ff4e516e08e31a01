"""SQuAD-it (test split): question-to-paragraph retrieval over all 2,010 paragraphs, and the answerer.

A question's relevant item is its own paragraph (and any paragraph with identical text: the split holds
three duplicated paragraphs). The answerer is the product's ``AnswerPipeline`` over the same store;
it is scored by whether its answer contains one of the gold answer spans, on the evaluation split only
(odd-numbered articles): the even-numbered ones are training data of ``ctn train``.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from evals import BENCHMARKS_DIR
from evals.answers import contains_span
from evals.benchstore import BenchStore, Passage
from evals.metrics import percentiles, share
from evals.progress import Bars
from evals.runs import compare_configs
from rag.embeddings import Embedder
from rag.settings import Settings

log = logging.getLogger(__name__)

PATH = BENCHMARKS_DIR / "squad-it" / "SQuAD_it-test.json.gz"
METRICS = ("recall@1", "recall@5", "recall@20", "mrr@10")
ANSWER_SAMPLE: int | None = None  # all questions; ``--answer-sample N`` spreads a quicker sample over the set


@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    pid: str
    answers: tuple[str, ...]


def load(path: Path = PATH, max_passages: int | None = None) -> tuple[list[Passage], list[Question]]:
    """Paragraphs in file order (ids ``AA-PPP``: article, paragraph) and their questions.

    ``max_passages`` keeps only the first paragraphs and their questions: a smoke-test corpus whose
    figures are not comparable with the full one.
    """
    data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    passages: list[Passage] = []
    questions: list[Question] = []
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article["paragraphs"]):
            if max_passages is not None and len(passages) >= max_passages:
                return passages, questions
            pid = f"{a:02d}-{p:03d}"
            passages.append(Passage(pid=pid, text=paragraph["context"], group=f"squad-{a:02d}"))
            for qa in paragraph["qas"]:
                spans = tuple(dict.fromkeys(ans["text"] for ans in qa["answers"]))
                questions.append(Question(str(qa["id"]), qa["question"].strip(), pid, spans))
    return passages, questions


def relevance(passages: list[Passage], questions: list[Question]) -> dict[str, dict[str, int]]:
    same_text: dict[str, list[str]] = {}
    for p in passages:
        same_text.setdefault(p.text.strip(), []).append(p.pid)
    text_of = {p.pid: p.text.strip() for p in passages}
    return {q.qid: dict.fromkeys(same_text[text_of[q.pid]], 1) for q in questions}


def is_train(question: Question) -> bool:
    """SQuAD-it split by article: the answerer trains on the even-numbered articles' questions (``ctn train``)
    and is scored on the odd-numbered ones, which it never saw."""
    return int(question.pid.split("-")[0]) % 2 == 0


def spread_sample(questions: list[Question], limit: int | None) -> list[Question]:
    """Every k-th question, so a sample of the answerer covers every article, not just the first ones."""
    if not limit or len(questions) <= limit:
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def run(data_dir: Path, embedder: Embedder, settings: Settings, bars: Bars, subset: int | None = None,
        max_passages: int | None = None, answers: bool = True, answer_limit: int | None = ANSWER_SAMPLE
        ) -> dict:
    started = time.perf_counter()
    name = "squad-it" if max_passages is None else f"squad-it-first{max_passages}"
    bench = BenchStore(name, data_dir, embedder, settings)
    passages, questions = load(max_passages=max_passages)
    with bars.task("squad-it: building the store", len(passages)) as advance:
        bench.ensure(passages, "it", progress=lambda done, total: advance(done, total))
    questions = questions[:subset] if subset else questions
    qrels = relevance(passages, questions)
    queries = {q.qid: q.text for q in questions}
    configs = compare_configs(bench, queries, qrels, "it", METRICS, bars, "squad-it")
    out = {
        "benchmark": "SQuAD-it (test)", "passages": len(passages), "queries": len(queries), "subset": subset,
        "max_passages": max_passages,
        "store": {"path": str(bench.directory), "reused": bench.reused, "build_seconds": bench.build_seconds},
        "configs": configs,
    }
    if answers:
        # The first paragraphs alone (a smoke test) are all training articles: their figures mean nothing anyway.
        evaluation = questions if max_passages else [q for q in questions if not is_train(q)]
        out["answers"] = _answers(bench, settings, spread_sample(evaluation, answer_limit), bars)
        out["answers"]["split"] = "odd-numbered articles (the answerer trains on the even-numbered ones)"
    out["seconds"] = time.perf_counter() - started
    return out


def _answers(bench: BenchStore, settings: Settings, questions: list[Question], bars: Bars) -> dict:
    from rag.pipeline import AnswerPipeline

    pipeline = AnswerPipeline(bench.retriever, bench.settings)
    started = time.perf_counter()
    contained, answered, contained_answered, statuses, totals = [], [], [], {}, []
    with bars.task("squad-it: answers", len(questions)) as advance:
        for q in questions:
            answer = pipeline.run(q.text, lang="it").to_dict()
            ok = answer["status"] == "answered" and contains_span(q.answers, answer["answer"])
            contained.append(ok)
            answered.append(answer["status"] == "answered")
            if answer["status"] == "answered":
                contained_answered.append(ok)
            statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1
            totals.append(float(answer.get("timings_ms", {}).get("total", 0.0)))
            advance()
    return {"questions": len(questions), "contains_gold_span": share(contained),
            "answered": share(answered), "contains_gold_span_when_answered": share(contained_answered),
            "statuses": statuses, "latency_ms": percentiles(totals), "seconds": time.perf_counter() - started}
