"""What the figures were measured on: the machine, the software versions, the product configuration."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from rag.retrieval import RetrievalConfig
from rag.settings import Settings


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe(settings: Settings, retrieval: RetrievalConfig | None = None) -> dict:
    from rag.embeddings import default_model_path

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "ram_gib": ram_gib(),
                    "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "versions": {p: version(p) for p in ("torch", "sentence-transformers", "chromadb", "bm25s", "ranx",
                                              "langchain-chroma", "langchain-huggingface")},
        "settings": {"embedding_model": settings.embedding_model or f"packaged all-MiniLM-L6-v2 ({default_model_path()})",
                     "llm": settings.llm, "reranker_model": settings.reranker_model or "none (term-coverage reranker)",
                     "chunk_max_tokens": settings.chunk_max_tokens, "data_dir": str(settings.data_dir),
                     "chroma": settings.chroma_url or "embedded PersistentClient"},
        "retrieval_default": asdict(retrieval or RetrievalConfig()),
    }
