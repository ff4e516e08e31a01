"""What every benchmark shares: the machine description, the CPU load, timers, the corpus's chunks.

Benchmarks build the product's own objects (``AssistantService``, ``Store``, ``Ingestor``) so that the
figures measure the product and not a re-implementation of it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from rich.console import Console

from ctn.bench.paths import GOLD_QUESTIONS
from ctn.service import AssistantService
from evals.machine import cpu_model, ram_gib, version  # noqa: F401 - re-exported for the benches
from rag.settings import Settings

err = Console(stderr=True)
T = TypeVar("T")



def make_service(settings: Settings) -> AssistantService:
    """The service a benchmark measures; tests replace this to hand in the session's loaded model."""
    service = AssistantService(settings)
    service.log_questions = False  # benchmark questions are not user traffic
    return service


# --- the machine and its load -------------------------------------------------------------------------
# cpu_model, ram_gib and version live in evals/machine.py: the evaluation report describes the machine too.
@dataclass
class Load:
    """The load average when a benchmark started or ended, as ``uptime`` printed it."""

    uptime: str
    one: float
    five: float
    fifteen: float

    @property
    def high(self) -> bool:
        """More runnable work than cores: the figures are slower than on an idle machine."""
        return self.one > (os.cpu_count() or 1)

    def describe(self) -> str:
        note = f" (HIGH: more than {os.cpu_count()} cores' worth of other work)" if self.high else ""
        return f"{self.one:.2f}, {self.five:.2f}, {self.fifteen:.2f}{note}"


def current_load() -> Load:
    try:
        text = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        text = ""
    one, five, fifteen = os.getloadavg()
    return Load(text, one, five, fifteen)


def run_header(command: str) -> dict[str, Any]:
    """The facts a reader needs to trust or reproduce a figure (the end load is added at the end)."""
    load = current_load()
    err.print(f"[dim]uptime: {load.uptime}[/]")
    if load.high:
        err.print(f"[yellow]The load average is {load.one:.1f} on {os.cpu_count()} cores: other processes "
                  "compete for the CPU; the figures will say so.[/]")
    return {
        "command": command,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "ram_gib": ram_gib(),
                    "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()},
        "software": {p: version(p) for p in ("torch", "sentence-transformers", "transformers", "chromadb",
                                             "bm25s", "numpy")},
        "load_start": load.__dict__ | {"high": load.high, "text": load.describe()},
    }


def finish_header(header: dict[str, Any]) -> None:
    load = current_load()
    header["load_end"] = load.__dict__ | {"high": load.high, "text": load.describe()}
    header["high_load"] = bool(header["load_start"]["high"] or load.high)


# --- timing -------------------------------------------------------------------------------------------
@dataclass
class Timed:
    wall_s: float
    cpu_s: float


def timed(func: Callable[[], T]) -> tuple[T, Timed]:
    """Run ``func`` once; wall time and this process's CPU time (all threads), which contention from
    other processes inflates much less than wall time."""
    w0, c0 = time.perf_counter(), time.process_time()
    result = func()
    return result, Timed(time.perf_counter() - w0, time.process_time() - c0)


@contextmanager
def phase(message: str) -> Iterator[None]:
    """A spinner while a long step runs, then one line with its duration (on stderr)."""
    started = time.perf_counter()
    with err.status(message):
        yield
    err.print(f"[green]done[/] {message} [dim]({time.perf_counter() - started:.1f} s)[/]")


class Stopwatch:
    """Accumulates the time spent in wrapped callables: where a pipeline's time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, func: Callable[..., T]) -> Callable[..., T]:
        def wrapper(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
                self.calls[name] = self.calls.get(name, 0) + 1

        return wrapper


# --- inputs -------------------------------------------------------------------------------------------
@dataclass
class GoldQuestion:
    id: str
    question: str
    history: list[str]


def load_questions(path: Path = GOLD_QUESTIONS) -> list[GoldQuestion]:
    """The gold questions with their conversation history (fields ``question`` and ``history``)."""
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, dict) and str(item.get("question") or "").strip():
            out.append(GoldQuestion(str(item.get("id", f"q{n:03d}")), str(item["question"]),
                                    [str(h) for h in item.get("history") or []]))
    if not out:
        raise ValueError(f"no questions in {path}")
    return out


@dataclass
class PreparedDocument:
    record: Any  # rag.store.DocRecord
    chunks: list[Any]  # rag.models.Chunk


def prepare_corpus(service: AssistantService, corpus: Path) -> tuple[list[PreparedDocument], list[str]]:
    """Every document of ``corpus`` split into chunks exactly as ``ctn ingest`` plans and splits it,
    through the service's own ``Ingestor.prepare`` (no writes). Returns the documents and the files
    that ``prepare`` refused (unsupported or unreadable)."""
    from ingest.blocks import LoadError
    from ingest.catalog import Catalog
    from ingest.loaders import SUPPORTED_SUFFIXES
    from ingest.metadata import document_id_for
    from ingest.pipeline import Ingestor, file_hash

    catalog = Catalog.load(corpus)
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and not Ingestor._hidden(p, corpus)
                   and not catalog.excluded(p))
    docs: list[PreparedDocument] = []
    refused: list[str] = []
    for file in files:
        entry = catalog.entry_for(file)
        if file.suffix.lower() not in SUPPORTED_SUFFIXES:
            refused.append(str(file))
            continue
        try:
            record, chunks = service.ingestor.prepare(file, corpus, entry, document_id_for(file, corpus, entry),
                                                      file_hash(file, entry))
        except (LoadError, OSError):
            refused.append(str(file))
            continue
        docs.append(PreparedDocument(record, chunks))
    return docs, refused
