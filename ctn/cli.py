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


if __name__ == "__main__":
    app()
