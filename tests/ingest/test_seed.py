"""A real-world page nobody on the project wrote (Invitalia's story, ``../shared/seed/``) is ingested
and its facts are found by the keyword side."""

from __future__ import annotations

import pytest

from ctn.service import AssistantService
from rag.embeddings import Embedder
from tests.conftest import REPO_ROOT, build_service
from tests.fixtures.store_checks import keyword_hits

SEED = REPO_ROOT.parent / "shared" / "seed" / "000_1394e8593e27a1dc.txt"


@pytest.fixture(scope="module")
def seeded(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    assert SEED.is_file(), f"the seed page is expected beside the clone, at {SEED}"
    service = build_service(embedder, tmp_path_factory.mktemp("seed"))
    report = service.ingest([SEED])
    assert report.summary()["added"] == 1 and not report.failed
    return service


def test_seed_page_is_ingested_as_one_english_document(seeded: AssistantService) -> None:
    docs = seeded.store.documents()
    assert list(docs) == ["000_1394e8593e27a1dc"]
    record = docs["000_1394e8593e27a1dc"]
    assert record.language == "en" and record.n_chunks == seeded.store.count() >= 2
    assert record.root == ""  # a file given by itself: never removed by a folder scan


@pytest.mark.parametrize(
    ("query", "fact"),
    [
        ("How many participants are there in the clusters?", "456 participants"),
        ("What investment demand did the selected projects generate?", "310 million euro"),
    ],
)
def test_fact_only_the_seed_contains_is_the_top_keyword_hit(
    seeded: AssistantService, query: str, fact: str
) -> None:
    hits = keyword_hits(seeded, query, "en")
    assert hits, "the keyword index found nothing"
    assert fact in hits[0].text
    assert hits[0].document_id == "000_1394e8593e27a1dc"
