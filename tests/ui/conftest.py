"""Fixtures of the UI tests: one small real corpus ingested once per session into a real service.

The corpus is four of the shared sample files (a three-page PDF notice, an HTML FAQ, a Markdown FAQ, an
English note) plus, where a test needs it, a note whose title and text hold HTML that would run if the
UI ever placed document text in the page unescaped.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctn.service import AssistantService
from rag.embeddings import Embedder
from rag.settings import Settings

ADMIN_KEY = "ui-test-admin-key"
SAMPLES = ("avviso-prova.pdf", "faq-zefiro.html", "faq-borealis.md", "gondwana-notes.txt")

# Untrusted document text: a script and an image whose error handler would both set window.__pwned.
HOSTILE_NAME = "nota-quokka.txt"
HOSTILE_TITLE = "Nota sul programma Quokka <script>window.__pwned = 1</script>"
HOSTILE_FACT = ("Il programma Quokka <script>window.__pwned = 1</script> assegna 77.700 euro a ciascun progetto "
                "ammesso <img src=x onerror=\"window.__pwned = 2\">.")
HOSTILE_QUESTION = "Quanto assegna il programma Quokka a ciascun progetto?"

ANSWERED_QUESTION = "Qual è la dotazione finanziaria complessiva dell'avviso di prova?"
ANSWERED_FACT = "41.700.000 euro"
NOT_FOUND_QUESTION = "Quante stelle ha la bandiera del cluster Zefiro?"


def hostile_text() -> str:
    return (f"{HOSTILE_TITLE}\n\n{HOSTILE_FACT}\n\n"
            "Le domande del programma Quokka si presentano entro il 3 marzo 2033.\n")


def write_corpus(sample_dir: Path, target: Path, hostile: bool) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in SAMPLES:
        shutil.copy2(sample_dir / name, target / name)
    if hostile:
        (target / HOSTILE_NAME).write_text(hostile_text(), encoding="utf-8")
    return target


UiServiceFactory = Callable[[bool], AssistantService]


@pytest.fixture(scope="session")
def ui_service_factory(embedder: Embedder, sample_dir: Path,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServiceFactory]:
    """``make(hostile)``: a real service over the small corpus, ingested once, with an admin key.

    Like ``make_service`` in tests/conftest.py, but session-wide: ingesting costs seconds, and the UI
    tests only read the corpus (the ones that upload or delete use their own uploaded file).
    """
    made: list[AssistantService] = []

    def make(hostile: bool) -> AssistantService:
        base = tmp_path_factory.mktemp("ui-hostile" if hostile else "ui")
        corpus = write_corpus(sample_dir, base / "corpus", hostile)
        service = AssistantService(Settings(data_dir=base / "data", corpus_dir=corpus, chroma_url=None,
                                            admin_api_key=ADMIN_KEY))
        service.__dict__["embedder"] = embedder
        report = service.ingest([corpus])
        assert not report.failed, report.failed
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


@pytest.fixture(scope="session")
def ui_service(ui_service_factory: UiServiceFactory) -> AssistantService:
    """The small corpus with the hostile note in it."""
    return ui_service_factory(True)
