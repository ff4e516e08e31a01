"""The sample corpus and its catalog agree, and every document says it is an unofficial summary."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from ingest.blocks import LoadedDocument
from ingest.catalog import DOC_TYPES, Catalog
from ingest.loaders import SUPPORTED_SUFFIXES, load_file
from tests.conftest import REPO_ROOT

CORPUS = REPO_ROOT / "corpus"
RAW = yaml.safe_load((CORPUS / "catalog.yaml").read_text(encoding="utf-8"))
ENTRIES: list[dict] = RAW["documents"]
IDS = {e["id"] for e in ENTRIES}
UNOFFICIAL = re.compile(r"\bunofficial\b|\bnon ufficiale\b", re.IGNORECASE)


@cache
def loaded(rel: str) -> LoadedDocument:
    return load_file(CORPUS / rel)


def test_every_catalog_entry_names_an_existing_file() -> None:
    missing = [e["file"] for e in ENTRIES if not (CORPUS / e["file"]).is_file()]
    assert missing == []


def test_every_supported_file_of_the_corpus_has_an_entry() -> None:
    catalog = Catalog.load(CORPUS)
    files = {
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not catalog.excluded(p)
        and not any(part.startswith(".") for part in p.relative_to(CORPUS).parts)
    }
    assert files - set(catalog.entries) == set()
    assert len(files) == len(ENTRIES)


def test_ids_are_unique_and_equal_the_file_stems() -> None:
    ids = [e["id"] for e in ENTRIES]
    assert len(ids) == len(set(ids))
    assert [e["id"] for e in ENTRIES if e["id"] != Path(e["file"]).stem] == []


def test_doc_types_are_in_the_allowed_set() -> None:
    assert {e["id"]: e.get("doc_type") for e in ENTRIES if e.get("doc_type") not in DOC_TYPES} == {}


def test_languages_are_italian_or_english() -> None:
    assert {e["id"]: e.get("language") for e in ENTRIES if e.get("language") not in ("it", "en")} == {}


def test_amends_and_amended_by_point_to_existing_ids_and_are_symmetric() -> None:
    by_id = {e["id"]: e for e in ENTRIES}
    for entry in ENTRIES:
        for key in ("amends", "amended_by"):
            assert set(entry.get(key) or []) <= IDS, (entry["id"], key, entry.get(key))
    for entry in ENTRIES:
        for target in entry.get("amends") or []:
            assert entry["id"] in (by_id[target].get("amended_by") or []), (entry["id"], "amends", target)
        for source in entry.get("amended_by") or []:
            assert entry["id"] in (by_id[source].get("amends") or []), (entry["id"], "amended_by", source)
    assert any(e.get("amends") for e in ENTRIES)  # the relation is really exercised


def test_about_and_source_fields_point_to_existing_documents_and_files() -> None:
    for entry in ENTRIES:
        if entry.get("about"):
            assert entry["about"] in IDS, entry["id"]
        if entry.get("source"):
            assert (CORPUS / entry["source"]).is_file(), entry["id"]


def test_catalog_language_is_the_language_of_the_text() -> None:
    from rag.language import detect_language

    wrong = {e["id"]: (e["language"], detect_language(loaded(e["file"]).layout()[0])) for e in ENTRIES}
    assert {k: v for k, v in wrong.items() if v[0] != v[1]} == {}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_document_opens_by_saying_it_is_an_unofficial_summary(entry: dict) -> None:
    doc = loaded(entry["file"])
    first_body = next(b.text for b in doc.blocks if b.kind != "heading")
    position = doc.blocks.index(next(b for b in doc.blocks if b.kind != "heading"))
    assert position <= 1, "the notice must come before the document's content"
    assert UNOFFICIAL.search(first_body), first_body[:120]


def test_corpus_has_enough_multi_page_pdfs_docx_and_html() -> None:
    by_suffix: dict[str, list[str]] = {}
    for entry in ENTRIES:
        by_suffix.setdefault(Path(entry["file"]).suffix.lower(), []).append(entry["file"])
    multi_page_pdfs = [f for f in by_suffix.get(".pdf", []) if (loaded(f).pages or 0) >= 2]
    assert len(multi_page_pdfs) >= 5, multi_page_pdfs
    assert len(by_suffix.get(".docx", [])) >= 3
    assert len(by_suffix.get(".html", []) + by_suffix.get(".htm", [])) >= 3
