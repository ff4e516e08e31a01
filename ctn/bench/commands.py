"""``ctn bench``: the benchmark commands. Each prints its table and rewrites its section of the report."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markdown import Markdown

from ctn.bench.paths import DEFAULT_REPORT, GOLD_QUESTIONS
from ctn.bench.report import write_section

app = typer.Typer(help="Benchmarks: ingest throughput, answer latency, retrieval at scale, embedding speed-ups.",
                  no_args_is_help=True, add_completion=False)
console = Console()

ReportPath = Annotated[Path, typer.Option("--report", help="Markdown file whose section this run rewrites.")]
AsJson = Annotated[bool, typer.Option("--json", help="Also print the raw results as JSON.")]


def _finish(name: str, results: dict[str, Any], markdown: str, report: Path, as_json: bool) -> None:
    write_section(report, name, markdown)
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    else:
        console.print(Markdown(markdown))
    Console(stderr=True).print(f"[dim]section '{name}' written to {report}[/]", highlight=False)


def _command(*parts: object) -> str:
    return " ".join(shlex.quote(str(p)) for p in ("ctn", "bench", *parts))


def _corpus(corpus: Path | None) -> Path:
    if corpus is not None:
        return corpus
    from rag.settings import get_settings

    return get_settings().corpus_dir


@app.command()
def ingest(
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Folder to ingest (default: the corpus folder).")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds of the three sides, their order rotating.")] = 3,
    report: ReportPath = DEFAULT_REPORT,
    as_json: AsJson = False,
) -> None:
    """Ingest pipeline against the embedding model alone on the same chunks; re-ingest of an unchanged corpus."""
    from ctn.bench import ingest_bench

    folder = _corpus(corpus)
    results = ingest_bench.run(folder, rounds, _command("ingest", "--corpus", folder, "--rounds", rounds))
    _finish("ingest", results, ingest_bench.render(results), report, as_json)


@app.command()
def ask(
    n: Annotated[int, typer.Option("--n", min=1, help="Answers to time (the gold questions, repeated).")] = 200,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data dir (default: CTN_DATA_DIR, ./data).")] = None,
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Folder ingested first (unchanged files skipped).")] = None,
    questions: Annotated[Path, typer.Option("--questions", help="Gold questions YAML.")] = GOLD_QUESTIONS,
    torch_threads: Annotated[list[int] | None, typer.Option("--torch-threads", min=1, help="Also ask each question "
                                                            "with this many torch threads (repeatable).")] = None,
    report: ReportPath = DEFAULT_REPORT,
    as_json: AsJson = False,
) -> None:
    """p50/p95/p99 of service.ask (extractive) on the gold questions, in total and per pipeline step."""
    from ctn.bench import ask_bench

    parts: list[object] = ["ask", "--n", n]
    if data_dir is not None:
        parts += ["--data-dir", data_dir]
    if corpus is not None:
        parts += ["--corpus", corpus]
    if questions != GOLD_QUESTIONS:
        parts += ["--questions", questions]
    parts += [x for t in torch_threads or [] for x in ("--torch-threads", t)]
    results = ask_bench.run(n, data_dir, corpus, questions, torch_threads or [], _command(*parts))
    _finish("ask", results, ask_bench.render(results), report, as_json)


@app.command("retrieval-scale")
def retrieval_scale(
    sizes: Annotated[list[int] | None, typer.Option("--size", help="Collection sizes (repeatable).")] = None,
    queries: Annotated[int, typer.Option(min=1, help="Queries per size.")] = 100,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Where the synthetic stores are kept "
                                                   "(default: DATA_DIR/bench/retrieval-scale).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Write the synthetic stores again.")] = False,
    report: ReportPath = DEFAULT_REPORT,
    as_json: AsJson = False,
) -> None:
    """HNSW, Chroma `where` filters, the product's in-process filtering and BM25 at 10k and 100k chunks."""
    from ctn.bench import scale_bench
    from rag.settings import get_settings

    sizes = sizes or [10_000, 100_000]
    cache = cache_dir or get_settings().data_dir / "bench" / "retrieval-scale"
    parts: list[object] = ["retrieval-scale", *[x for s in sizes for x in ("--size", s)], "--queries", queries]
    if rebuild:
        parts.append("--rebuild")
    results = scale_bench.run(sizes, queries, cache, rebuild, _command(*parts))
    _finish("retrieval-scale", results, scale_bench.render(results), report, as_json)


@app.command()
def embedding(
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Folder whose chunks are embedded.")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds over every variant (order rotates).")] = 2,
    variants: Annotated[list[str] | None, typer.Option("--variant", help="Only these variants (repeatable); "
                                                       "the baseline always runs.")] = None,
    report: ReportPath = DEFAULT_REPORT,
    as_json: AsJson = False,
) -> None:
    """Threads, batch sizes, length sorting, bf16 and int8 against fp32, with retrieval quality checked."""
    from ctn.bench import embedding_bench

    known = {v.key for v in embedding_bench.VARIANTS}
    unknown = sorted(set(variants or []) - known)
    if unknown:
        raise typer.BadParameter(f"unknown variant(s) {unknown}; known: {sorted(known)}")
    folder = _corpus(corpus)
    parts: list[object] = ["embedding", "--corpus", folder, "--rounds", rounds,
                           *[x for v in variants or [] for x in ("--variant", v)]]
    results = embedding_bench.run(folder, rounds, variants, _command(*parts))
    _finish("embedding", results, embedding_bench.render(results), report, as_json)



from ctn.bench.load import command as load_command  # noqa: E402 - kept in its own module

app.command("load")(load_command)
