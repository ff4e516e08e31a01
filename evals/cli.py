"""``ctn eval``: the gold set, the public benchmarks, and the report that puts them side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from evals import GOLD_PATH

app = typer.Typer(help="Evaluate retrieval and answers: the gold set, BEIR SciFact, SQuAD-it.",
                  add_completion=False, invoke_without_command=True)
console = Console()

Subset = Annotated[int | None, typer.Option("--subset", min=1, help="Only the first N queries (a quick run).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print machine-readable results.")]


def make_service():  # noqa: ANN201 - tests replace this to hand in their own service
    from ctn.service import AssistantService

    return AssistantService()


def _emit(results: dict[str, Any], as_json: bool, show: Any) -> None:
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    else:
        show(results)


def _metric_table(title: str, configs: dict, metrics: list[str]) -> Table:
    table = Table(title=title)
    table.add_column("configuration")
    for m in metrics:
        table.add_column(m, justify="right")
    table.add_column("ms p50", justify="right")
    for name, c in configs.items():
        table.add_row(name, *[f"{c['metrics'].get(m, 0.0):.3f}" for m in metrics], f"{c['latency_ms']['p50']:.1f}")
    return table


def _show_gold(gold: dict) -> None:
    console.print(_metric_table(f"Gold retrieval ({gold['retrieval']['questions']} answerable questions)",
                                gold["retrieval"]["configs"],
                                ["recall@1", "recall@5", "recall@10", "recall@20", "mrr@10", "ndcg@10"]))
    ans = gold.get("answers")
    if ans:
        table = Table(title=f"Gold answers ({ans['questions']} questions)")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key in ("key_fact_accuracy", "key_fact_accuracy_answer_text_only", "citation_validity",
                    "refusal_accuracy", "false_refusal_rate", "language_match"):
            s = ans[key]
            table.add_row(key.replace("_", " "), f"{s['rate'] * 100:.1f}% ({s['hits']}/{s['n']})")
        console.print(table)
        steps = Table(title="Pipeline latency (ms)")
        for col in ("step", "p50", "p95"):
            steps.add_column(col, justify="left" if col == "step" else "right")
        for step, p in ans["latency_ms"].items():
            steps.add_row(step, f"{p['p50']:.1f}", f"{p['p95']:.1f}")
        console.print(steps)


def _show_scifact(sf: dict) -> None:
    console.print(_metric_table(f"BEIR SciFact ({sf['queries']} queries)", sf["configs"],
                                ["ndcg@10", "recall@20", "mrr@10"]))
    console.print("published nDCG@10: " + ", ".join(f"{k} {v:.3f}" for k, v in sf["published_ndcg@10"].items()))


def _show_squad(sq: dict) -> None:
    console.print(_metric_table(f"SQuAD-it ({sq['queries']} questions, {sq['passages']} paragraphs)",
                                sq["configs"], ["recall@1", "recall@5", "recall@20", "mrr@10"]))
    if "answers" in sq:
        a = sq["answers"]["contains_gold_span"]
        console.print(f"answers containing a gold span: {a['rate'] * 100:.1f}% ({a['hits']}/{a['n']})")


@app.callback()
def main(ctx: typer.Context) -> None:
    """Without a subcommand: run everything and write the report (as ``ctn eval all``)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run_all)


@app.command()
def gold(subset: Subset = None, as_json: AsJson = False,
         gold_path: Annotated[Path, typer.Option("--gold", help="The gold question file.")] = GOLD_PATH,
         langchain: Annotated[bool, typer.Option(help="Include the LangChain baseline.")] = True) -> None:
    """Retrieval and answers on the gold question set (ingests corpus/ when the store is empty)."""
    from evals.progress import bars
    from evals.suite import run_gold

    with bars(not as_json) as b:
        results = run_gold(make_service(), b, subset=subset, gold_path=gold_path, langchain=langchain)
    _emit(results, as_json, _show_gold)


@app.command()
def scifact(subset: Subset = None, as_json: AsJson = False) -> None:
    """BEIR SciFact retrieval (nDCG@10) against the published rows."""
    from evals.progress import bars
    from evals.suite import run_scifact

    with bars(not as_json) as b:
        results = run_scifact(make_service(), b, subset=subset)
    _emit(results, as_json, _show_scifact)


@app.command()
def squad(subset: Subset = None, as_json: AsJson = False,
          passages: Annotated[int | None, typer.Option(
              "--passages", min=1, help="Index only the first N paragraphs (smoke tests; not comparable).")] = None,
          answers: Annotated[bool, typer.Option(help="Also score the answerer.")] = True,
          answer_sample: Annotated[int, typer.Option(
              "--answer-sample", min=0, help="Score the answerer on N questions spread over the set (0: all).")] = 0,
          ) -> None:
    """SQuAD-it question-to-paragraph retrieval and answer-span containment."""
    from evals.progress import bars
    from evals.suite import run_squad

    with bars(not as_json) as b:
        results = run_squad(make_service(), b, subset=subset, max_passages=passages, answers=answers,
                            answer_limit=answer_sample or None)
    _emit(results, as_json, _show_squad)


Blind = Annotated[bool, typer.Option("--blind", help="Also run the blind sets (once, at the end of a piece of "
                                                   "work; then move them to development in evals/sets.yaml).")]


def _show_sets(sets: list[dict]) -> None:
    table = Table(title="Question sets")
    for col in ("set", "purpose", "n", "key facts", "refusals", "false ref.", "right/answered", "answered",
                "citations", "top-8 holds"):
        table.add_column(col, justify="left" if col in ("set", "purpose") else "right")
    for e in sets:
        if "answers" not in e:
            table.add_row(e["name"], e["purpose"], "–", "not run")
            continue
        a = e["answers"]
        table.add_row(e["name"], e["purpose"], str(e["questions"]),
                      *[f"{a[k]['rate'] * 100:.1f}%" for k in ("key_fact_accuracy", "refusal_accuracy",
                                                              "false_refusal_rate", "right_of_answered",
                                                              "answered_share", "citation_validity",
                                                              "retrieval_top8_key_facts")])
    console.print(table)


@app.command()
def sets(subset: Subset = None, as_json: AsJson = False, blind: Blind = False) -> None:
    """Answers on every question set of evals/sets.yaml, each on its own corpus, with its purpose."""
    from evals.progress import bars
    from evals.suite import run_sets

    with bars(not as_json) as b:
        results = run_sets(make_service(), b, subset=subset, blind=blind)
    _emit(results, as_json, _show_sets)


@app.command("all")
def run_all(subset: Subset = None, as_json: AsJson = False, blind: Blind = False,
            report: Annotated[Path, typer.Option("--report", help="Where to write the Markdown report.")] = Path(
                "docs/evals.md")) -> None:
    """Everything above, side by side, and the report (docs/evals.md + docs/img/retrieval-comparison.png)."""
    from evals.progress import bars
    from evals.suite import run_all as run

    with bars(not as_json) as b:
        results = run(make_service(), b, subset=subset, report=report, blind=blind)

    def show(r: dict) -> None:
        _show_sets(r["sets"])
        _show_gold(r["gold"])
        _show_scifact(r["scifact"])
        _show_squad(r["squad"])
        console.print(f"report: {r['report']['markdown']}, plot: {r['report']['plot']}")

    _emit(results, as_json, show)
