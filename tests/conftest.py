"""Shared fixtures: one embedding model per session, a fresh data dir per test, real sample files.

Nothing here replaces a component: services use the real Chroma (a temporary PersistentClient per
test, or a real ``chroma run`` server), the real embedding model and real files. The model is loaded
once and handed to every service through its ``embedder`` cached property, so the suite stays fast.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from ctn.service import AssistantService  # noqa: E402
from rag.embeddings import Embedder  # noqa: E402
from rag.settings import Settings  # noqa: E402
from tests.fixtures import make_files  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = REPO_ROOT / ".venv" / "bin"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged embedding model, loaded once for the whole session."""
    shared = Embedder(Settings(data_dir=Path("unused"), chroma_url=None))
    shared.embed_query("warm up")
    return shared


ServiceFactory = Callable[..., AssistantService]


def build_service(embedder, base: Path, **overrides: object) -> AssistantService:
    """A real service whose data lives under ``base/data``, using the given (already loaded) model."""
    values: dict[str, object] = {"data_dir": base / "data", "corpus_dir": base / "corpus", "chroma_url": None}
    values.update(overrides)
    service = AssistantService(Settings(**values))
    service.__dict__["embedder"] = embedder  # the session's model: loaded once
    return service


@pytest.fixture
def make_service(embedder: Embedder) -> Iterator[ServiceFactory]:
    """``make_service(base, **settings)``: a real service whose data lives under ``base/data``.

    Two services made with the same ``base`` share the store (like two processes on one data dir);
    any setting can be overridden, e.g. ``chroma_url`` or ``max_file_mb``.
    """
    made: list[AssistantService] = []

    def make(base: Path, **overrides: object) -> AssistantService:
        service = build_service(embedder, base, **overrides)
        made.append(service)
        return service

    yield make
    for service in made:
        if "index" in service.__dict__:
            service.index.stop()


@pytest.fixture
def files() -> ModuleType:
    """The builders of real test documents (PDF, DOCX, HTML, Markdown, text, broken files)."""
    return make_files


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One good file per format, built once; tests copy it (see ``docs``) before touching it."""
    folder = tmp_path_factory.mktemp("samples") / "docs"
    make_files.good_files(folder)
    return folder


@pytest.fixture
def docs(sample_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the sample folder that a test may edit."""
    target = tmp_path / "docs"
    shutil.copytree(sample_dir, target)
    return target
