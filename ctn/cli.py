"""The ``ctn`` command line (Typer, Rich). Output here is the CLI's own; everything else logs."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="Question answering over the National Technology Clusters documents.",
                  no_args_is_help=True, add_completion=False)
console = Console()
err = Console(stderr=True)


def _service():  # noqa: ANN202
    from ctn.service import AssistantService

    return AssistantService()


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the corpus folder).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Empty the store and ingest everything again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Ingest documents: unchanged files are skipped, changed ones replaced, removed ones deleted."""
    service = _service()
    targets = paths or [service.settings.corpus_dir]
    with Progress(TextColumn("[bold]ingest[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task("", total=None)

        def on_file(name: str, n: int, total: int) -> None:
            progress.update(task, total=total, completed=n - 1, description=name)

        report = service.ingest(targets, rebuild=rebuild, progress=on_file)
    if as_json:
        console.print_json(json.dumps({"summary": report.summary(), "seconds": report.seconds,
                                       "stamp": report.stamp,
                                       "results": [r.__dict__ for r in report.results]}))
    else:
        table = Table(title=f"Ingest of {', '.join(str(t) for t in targets)}")
        for col in ("status", "document", "chunks", "file / reason"):
            table.add_column(col)
        for r in sorted(report.results, key=lambda r: (r.status != "failed", r.status, r.document_id)):
            if r.status == "unchanged":
                continue
            style = {"failed": "red", "removed": "yellow", "added": "green", "updated": "cyan"}.get(r.status)
            table.add_row(f"[{style}]{r.status}[/]", r.document_id, str(r.chunks), r.reason or r.path)
        console.print(table)
        s = report.summary()
        console.print(f"added {s['added']}, updated {s['updated']}, unchanged {s['unchanged']}, removed "
                      f"{s['removed']}, failed {s['failed']} in {report.seconds:.2f} s")
    if report.failed:
        raise typer.Exit(code=1)


def _parse_filters(values: list[str] | None) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or key not in ("doc_type", "act", "year", "language", "cluster", "document_id"):
            raise typer.BadParameter(f"filters look like doc_type=decree (keys: doc_type, act, year, language, "
                                     f"cluster, document_id), not {item!r}")
        filters[key] = value
    return filters


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Italian or English.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer JSON exactly as the API returns it.")] = False,
    filters: Annotated[list[str] | None, typer.Option("--filter", help="doc_type=decree, year=2016, act='DD 1610', ...")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Answer language: it or en (default: the question's).")] = None,
    history: Annotated[list[str] | None, typer.Option("--history", help="An earlier question (repeatable), for follow-ups.")] = None,
) -> None:
    """Answer a question from the documents, with citations."""
    service = _service()
    service.log_questions = False
    answer = service.ask(question, history=history, filters=_parse_filters(filters), lang=lang)
    if as_json:
        console.print_json(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    style = {"answered": "green", "not_found": "yellow", "out_of_scope": "magenta"}[answer.status]
    console.print(f"[{style}]{answer.status}[/] ({answer.language}, {answer.timings_ms.get('total', 0):.0f} ms)")
    if answer.rewritten_question:
        console.print(f"[dim]understood as: {answer.rewritten_question}[/]")
    console.print(answer.answer, markup=False, highlight=False)
    for w in answer.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    for c in answer.citations:
        where = ", ".join(x for x in (c.act, f"p. {c.page}" if c.page else "", c.section) if x)
        console.print(f"[bold][{c.n}][/] {c.title} ({where}) - {c.source}", highlight=False, markup=True)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", help="How many chunks.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable results.")] = False,
    filters: Annotated[list[str] | None, typer.Option("--filter", help="doc_type=decree, year=2016, ...")] = None,
) -> None:
    """Ranked chunks for a query (hybrid retrieval), with their metadata and scores."""
    service = _service()
    from rag.index import Filters

    chunks = service.retriever.search(query, k=k, filters=Filters.from_dict(_parse_filters(filters)))
    if as_json:
        console.print_json(json.dumps([{"chunk_id": c.chunk_id, "document_id": c.document_id, "score": c.score,
                                        "scores": c.scores, "page": c.page, "section": c.section,
                                        "title": c.metadata.get("title"), "text": c.text} for c in chunks],
                                      ensure_ascii=False))
        return
    table = Table(title=f"search: {query}")
    for col in ("#", "score", "document", "page", "section", "text"):
        table.add_column(col, overflow="fold")
    for i, c in enumerate(chunks, start=1):
        table.add_row(str(i), f"{c.score:.3f}", c.document_id, str(c.page or ""), c.section[:40],
                      c.text[:160].replace("\n", " "))
    console.print(table)


from evals.cli import app as eval_app  # noqa: E402 - the evaluation harness, a sub-app

app.add_typer(eval_app, name="eval")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads the model once).")] = 1,
) -> None:
    """Run the API under /v1 and the UI at /ui; on an empty store, ingest the corpus folder first."""
    import os
    import shutil

    import uvicorn

    from rag.store import StoreUnavailable

    service = _service()
    if workers > 1 and not service.settings.chroma_url:
        err.print("[yellow]The embedded store (CTN_CHROMA_URL unset) is meant for one process: with several "
                  "workers, run a Chroma server and set CTN_CHROMA_URL (docs/deploy.md).[/]")
    try:
        empty = not service.store.documents()
    except StoreUnavailable as exc:
        err.print(f"[yellow]The store is unreachable ({exc}); starting anyway: /readyz says 503 until it is back.[/]")
        empty = False
    if empty:
        target = service.settings.corpus_dir
        err.print(f"The store is empty: ingesting {target} first.")
        with Progress(TextColumn("[bold]ingest[/]"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True) as progress:
            task = progress.add_task("", total=None)

            def on_file(name: str, n: int, total: int) -> None:
                progress.update(task, total=total, completed=n - 1, description=name)

            report = service.ingest([target], progress=on_file)
        s = report.summary()
        err.print(f"added {s['added']}, failed {s['failed']} in {report.seconds:.1f} s")
        for r in report.failed:
            err.print(f"[red]failed[/] {r.path}: {r.reason}")
    if workers > 1:
        # Each worker counts its own requests; Prometheus' multiprocess mode sums them at /metrics.
        metrics_dir = service.settings.data_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    del service
    err.print(f"API on http://{host}:{port}/v1 (docs at /docs, UI at /ui)")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=True)


@app.command()
def train(
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the model (default: the packaged one, "
                                             "rag/data/model/answerer).")] = None,
    squad_questions: Annotated[int, typer.Option("--squad", min=0, help="SQuAD-it training questions (0: none).")
                               ] = 1500,
    cache: Annotated[Path | None, typer.Option("--cache", help="Keep the collected evidence in this file and "
                                               "reuse it (while retrieval and the sets are unchanged).")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="Also compare the unit scorers side by side on the "
                                          "development sets, a fine-tuned cross-encoder included (slow).")] = False,
) -> None:
    """Train the extractive answerer on the tuning sets; choose its threshold on the development sets."""
    from evals.progress import bars
    from evals.train import MODEL_DIR
    from evals.train import train as run_training

    target = out or MODEL_DIR / "answerer"
    with bars(True) as b:
        manifest = run_training(_service(), b, out=target, squad_questions=squad_questions, cache=cache,
                                compare=compare)
    chosen = manifest["metrics"]["chosen"]
    table = Table(title=f"Trained {target} ({manifest['metrics']['seconds']:.0f} s)")
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, value in manifest["metrics"]["unit_scorers_out_of_fold"].items():
        table.add_row(f"unit scorer {name} (out of fold)", json.dumps(value))
    table.add_row("threshold (chosen on the development sets)", f"{chosen['threshold']:.3f}")
    for key in ("key_facts", "refusals", "false_refusals", "right_of_answered", "answered"):
        table.add_row(f"development: {key.replace('_', ' ')}", f"{chosen[key] * 100:.1f}%")
    console.print(table)
    for name, row in (manifest.get("comparison") or {}).items():
        console.print(f"{name}: " + ", ".join(f"{k} {v * 100:.1f}%" for k, v in row["key_facts"].items()))


from ctn.bench import app as bench_app  # noqa: E402 - the benchmarks, a sub-app

app.add_typer(bench_app, name="bench")


if __name__ == "__main__":
    app()
