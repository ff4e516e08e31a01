"""Fixtures of the retrieval and answering tests: the real sample corpus, ingested once per session.

``rag_service`` is a real ``AssistantService`` (embedded Chroma in a temporary folder, the session's
embedding model from ``tests/conftest.py``, the real keyword index) over a copy of ``corpus/``. Every
test in ``tests/rag`` only reads it. ``ask`` remembers answers so that several tests can look at the
same answer without paying for the question twice; tests must not modify what it returns.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctn.service import AssistantService
from rag.answer import Answer
from rag.embeddings import Embedder
from tests.conftest import REPO_ROOT, build_service

AskFn = Callable[..., Answer]


def ingest_folder(service: AssistantService, folder: Path) -> None:
    report = service.ingest([folder])
    assert not report.failed, [(r.path, r.reason) for r in report.failed]


@pytest.fixture(scope="session")
def rag_service(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssistantService]:
    """One service over a copy of the real sample corpus, ingested once (the expensive part)."""
    base = tmp_path_factory.mktemp("rag-corpus")
    shutil.copytree(REPO_ROOT / "corpus", base / "corpus")
    service = build_service(embedder, base)
    service.log_questions = False  # answers here are not user traffic
    ingest_folder(service, base / "corpus")
    service.index.load_or_build()
    yield service
    service.close()


@pytest.fixture(scope="session")
def ask(rag_service: AssistantService) -> AskFn:
    """``ask(question, history=(), lang=None, filters=None)``: the service's answer, computed once."""
    cache: dict[tuple, Answer] = {}

    def _ask(question: str, history: tuple[str, ...] = (), lang: str | None = None,
             filters: tuple[tuple[str, object], ...] = ()) -> Answer:
        key = (question, tuple(history), lang, tuple(filters))
        if key not in cache:
            cache[key] = rag_service.ask(question, history=list(history), lang=lang,
                                         filters=dict(filters) or None)
        return cache[key]

    return _ask
