"""The ingest pipeline against a real Chroma store: incremental, scoped, reporting every failure, and
keeping the keyword snapshot equal to the collection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from ctn.service import AssistantService
from ingest.pipeline import IngestReport, file_hash
from rag.embeddings import Embedder
from rag.index import Filters, IndexManager
from rag.settings import get_settings
from tests.conftest import ServiceFactory, build_service
from tests.fixtures import make_files as mf
from tests.fixtures.store_checks import (
    active_ids,
    duplicates,
    keyword_hits,
    snapshot_file,
    stored_chunks,
    stored_ids,
)

Mixed = tuple[AssistantService, IngestReport, Path]

GOOD = {"avviso-prova", "decreto-prova", "faq-zefiro", "faq-borealis", "nota-ermellino", "gondwana-notes"}
FAILS = {  # file name -> words of the reason shown to the user
    "rotto.pdf": "does not start with a PDF header",
    "troncato.pdf": "corrupt or unreadable PDF",
    "cifrato.pdf": "encrypted PDF",
    "vuoto.txt": "empty file",
    "dati.xyz": "unsupported format",
    "enorme.txt": "over the 1 MB limit",
}


def by_status(report: IngestReport) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in report.results:
        out.setdefault(r.status, set()).add(r.document_id)
    return out


def fact_folder(folder: Path, facts: dict[str, str]) -> Path:
    """A folder of one-chunk English notes, one distinctive fact each: {file stem: sentence}."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, sentence in facts.items():
        mf.small_text(folder / f"{stem}.txt", sentence)
    return folder


FACTS = {
    "alpha": "The Alpaca committee approved 11 projects in Turin.",
    "beta": "The Beluga committee approved 22 projects in Bari.",
    "gamma": "The Caracal committee approved 33 projects in Genoa.",
}


# --- one mixed folder of good and bad files, ingested once for the read-only checks ------------------


@pytest.fixture(scope="module")
def mixed(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> tuple[AssistantService, IngestReport, Path]:
    base = tmp_path_factory.mktemp("mixed")
    folder = base / "docs"
    mf.good_files(folder)
    mf.bad_files(folder / "bad")
    mf.sized_text(folder / "bad" / "enorme.txt", int(1.2 * 1024 * 1024))
    service = build_service(embedder, base, corpus_dir=folder, max_file_mb=1)
    report = service.ingest([folder])
    return service, report, folder


def test_ingest_of_a_mixed_folder_adds_every_good_file(mixed: Mixed) -> None:
    service, report, _folder = mixed
    assert by_status(report)["added"] == GOOD
    assert set(service.store.documents()) == GOOD
    added_chunks = sum(r.chunks for r in report.results if r.status == "added")
    assert (
        service.store.count() == added_chunks == sum(d.n_chunks for d in service.store.documents().values())
    )
    assert report.stamp == service.store.stamp() != "empty"


def test_each_bad_file_is_reported_with_its_reason(mixed: Mixed) -> None:
    _service, report, _folder = mixed
    failed = {Path(r.path).name: r.reason for r in report.failed}
    assert set(failed) == set(FAILS)
    for name, words in FAILS.items():
        assert words in failed[name], (name, failed[name])
    assert report.summary() == {"added": 6, "updated": 0, "unchanged": 0, "removed": 0, "failed": 6}


def test_bad_files_leave_nothing_in_the_store(mixed: Mixed) -> None:
    service, _report, _folder = mixed
    sources = {str(c.metadata.get("source", "")) for c in stored_chunks(service)}
    assert not any("/bad/" in s for s in sources)
    assert not any("Documento riservato" in c.text for c in stored_chunks(service))


def test_stored_chunks_carry_document_metadata(mixed: Mixed) -> None:
    service, _report, folder = mixed
    docs = service.store.documents()
    assert docs["avviso-prova"].meta["pages"] == 3 and docs["avviso-prova"].meta["format"] == "pdf"
    assert docs["avviso-prova"].title == mf.PDF_TITLE and docs["avviso-prova"].language == "it"
    assert docs["faq-borealis"].language == "en"
    assert all(d.root == str(folder.resolve()) for d in docs.values())
    for chunk in stored_chunks(service):
        meta = chunk.metadata
        assert meta["title"] == docs[meta["document_id"]].title
        assert meta["doc_type"] == docs[meta["document_id"]].doc_type
        assert meta["source"].endswith(Path(docs[meta["document_id"]].meta["path"]).name)
        assert chunk.chunk_id.startswith(f"{meta['document_id']}::{meta['doc_hash'][:12]}::")


def test_keyword_search_finds_the_page_three_fact_on_page_three(mixed: Mixed) -> None:
    service, _report, _folder = mixed
    top = keyword_hits(service, "termine perentorio 17 novembre 2031", "it")[0]
    assert mf.PDF_FACT_PAGE3 in top.text
    assert top.document_id == "avviso-prova" and top.page == 3
    assert top.section == "Art. 4 - Termini di presentazione > comma 1"


def test_keyword_snapshot_holds_exactly_the_chunk_ids_in_chroma(mixed: Mixed) -> None:
    service, _report, _folder = mixed
    ids = stored_ids(service)
    assert duplicates(ids) == [] and duplicates(service.index.snapshot.ids) == []
    assert set(service.index.snapshot.ids) == set(ids) == active_ids(service)
    assert service.index.snapshot.stamp == service.store.stamp()


def test_cli_ingest_prints_failures_and_exits_non_zero(tmp_path: Path) -> None:
    folder = fact_folder(tmp_path / "docs", {"alpha": FACTS["alpha"]})
    mf.random_pdf(folder / "rotto.pdf")
    from ctn.cli import app

    env = {"CTN_DATA_DIR": str(tmp_path / "data"), "CTN_CORPUS_DIR": str(folder), "CTN_CHROMA_URL": None}
    get_settings.cache_clear()  # the CLI reads its settings from this environment
    try:
        result = CliRunner().invoke(app, ["ingest", str(folder), "--json"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["summary"]["added"] == 1 and payload["summary"]["failed"] == 1
    failed = [r for r in payload["results"] if r["status"] == "failed"]
    assert Path(failed[0]["path"]).name == "rotto.pdf" and "PDF header" in failed[0]["reason"]
    assert (tmp_path / "data" / "chroma").is_dir()  # it wrote where CTN_DATA_DIR said


# --- incremental behaviour ---------------------------------------------------------------------------


def test_reingest_of_unchanged_files_writes_nothing(
    make_service: ServiceFactory, tmp_path: Path, files: ModuleType
) -> None:
    folder = fact_folder(tmp_path / "docs", FACTS)
    files.act_pdf(folder / "avviso-prova.pdf")
    service = make_service(tmp_path)
    first = service.ingest([folder])
    before_ids, before_stamp = sorted(stored_ids(service)), service.store.stamp()
    before_docs = service.store.documents()

    again = service.ingest([folder])

    assert by_status(again) == {"unchanged": {"alpha", "beta", "gamma", "avviso-prova"}}
    assert again.stamp == before_stamp == first.stamp == service.store.stamp()
    assert sorted(stored_ids(service)) == before_ids
    assert {k: v.ingested_at for k, v in service.store.documents().items()} == {
        k: v.ingested_at for k, v in before_docs.items()
    }


def test_ingest_with_nothing_changed_keeps_the_persisted_keyword_index(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    """A second `ctn ingest` process that finds nothing to do must not rebuild the BM25 snapshot."""
    folder = fact_folder(tmp_path / "docs", FACTS)
    make_service(tmp_path).ingest([folder])
    persisted = snapshot_file(make_service(tmp_path))
    inode, mtime = persisted.stat().st_ino, persisted.stat().st_mtime_ns

    report = make_service(tmp_path).ingest([folder])  # a new process: nothing loaded yet

    assert report.summary()["unchanged"] == 3 and not report.changed
    assert (persisted.stat().st_ino, persisted.stat().st_mtime_ns) == (inode, mtime), "snapshot was rebuilt"


def test_edited_file_replaces_its_chunks(make_service: ServiceFactory, tmp_path: Path) -> None:
    folder = fact_folder(tmp_path / "docs", FACTS)
    service = make_service(tmp_path)
    service.ingest([folder])
    old = service.store.document("beta")
    assert old is not None and old.n_chunks == 1

    extra = " ".join(
        f"Reviewer {i} of the Beluga committee wrote a report on the proposal of partner {i}."
        for i in range(40)
    )
    (folder / "beta.txt").write_text(
        "The Beluga committee approved 57 projects in Lecce.\n\n" + extra + "\n", encoding="utf-8"
    )
    report = service.ingest([folder])

    assert by_status(report) == {"updated": {"beta"}, "unchanged": {"alpha", "gamma"}}
    new = service.store.document("beta")
    assert new is not None and new.doc_hash != old.doc_hash and new.n_chunks >= 2
    beta_chunks = [c for c in stored_chunks(service) if c.document_id == "beta"]
    assert len(beta_chunks) == new.n_chunks
    assert {c.metadata["doc_hash"] for c in beta_chunks} == {new.doc_hash}
    assert not any(c.chunk_id.startswith(f"beta::{old.doc_hash[:12]}") for c in stored_chunks(service))
    assert not any("22 projects in Bari" in c.text for c in stored_chunks(service))
    assert service.store.count() == 2 + new.n_chunks
    assert report.stamp != "" and service.index.snapshot.stamp == report.stamp
    assert not any("Bari" in c.text for c in keyword_hits(service, "Beluga projects Bari", "en", k=50))
    assert "57 projects in Lecce" in keyword_hits(service, "Beluga Lecce", "en")[0].text


def test_deleted_file_disappears_from_the_store_and_the_keyword_snapshot(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    folder = fact_folder(tmp_path / "docs", FACTS)
    service = make_service(tmp_path)
    service.ingest([folder])
    assert keyword_hits(service, "Caracal Genoa", "en")[0].document_id == "gamma"

    (folder / "gamma.txt").unlink()
    report = service.ingest([folder])

    assert by_status(report) == {"removed": {"gamma"}, "unchanged": {"alpha", "beta"}}
    assert service.store.document("gamma") is None
    assert not any(c.document_id == "gamma" for c in stored_chunks(service))
    snapshot = service.index.snapshot
    assert snapshot.stamp == report.stamp
    assert "gamma" not in snapshot.docs and len(snapshot.doc_rows("gamma")) == 0
    assert not any(cid.startswith("gamma::") for cid in snapshot.ids)
    assert all(hit.document_id != "gamma" for hit in keyword_hits(service, "Caracal Genoa", "en"))


def test_removal_only_touches_documents_from_the_scanned_folder(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    first = fact_folder(tmp_path / "first", {"alpha": FACTS["alpha"], "beta": FACTS["beta"]})
    second = fact_folder(tmp_path / "second", {"gamma": FACTS["gamma"]})
    single = fact_folder(tmp_path / "loose", {"delta": "The Dingo committee approved 44 projects in Pisa."})
    service = make_service(tmp_path)
    service.ingest([first])
    service.ingest([second])
    service.ingest([single / "delta.txt"])  # a file given by itself, not by its folder

    (first / "beta.txt").unlink()
    report = service.ingest([first])

    assert by_status(report) == {"removed": {"beta"}, "unchanged": {"alpha"}}
    assert set(service.store.documents()) == {"alpha", "gamma", "delta"}
    assert {c.document_id for c in stored_chunks(service)} == {"alpha", "gamma", "delta"}
    assert by_status(service.ingest([second])) == {"unchanged": {"gamma"}}
    assert set(service.store.documents()) == {"alpha", "gamma", "delta"}


def test_rebuild_starts_over_from_an_empty_store(make_service: ServiceFactory, tmp_path: Path) -> None:
    first = fact_folder(tmp_path / "first", {"alpha": FACTS["alpha"], "beta": FACTS["beta"]})
    second = fact_folder(tmp_path / "second", {"gamma": FACTS["gamma"]})
    service = make_service(tmp_path)
    service.ingest([first])
    service.ingest([second])
    ids_of_first = {cid for cid in stored_ids(service) if not cid.startswith("gamma::")}
    stamp = service.store.stamp()

    report = service.ingest([first], rebuild=True)

    assert by_status(report) == {"added": {"alpha", "beta"}}  # not "unchanged": everything was redone
    assert set(service.store.documents()) == {"alpha", "beta"}
    assert set(stored_ids(service)) == ids_of_first
    assert report.stamp != stamp and service.index.snapshot.stamp == report.stamp
    assert set(service.index.snapshot.ids) == ids_of_first


def test_two_files_with_the_same_document_id_are_reported_not_merged(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    folder = fact_folder(tmp_path / "docs", {"alpha": FACTS["alpha"]})
    (folder / "alpha.md").write_text(
        "# Alpha\n\nAnother file whose id would also be alpha.\n", encoding="utf-8"
    )
    service = make_service(tmp_path)
    report = service.ingest([folder])
    assert report.summary()["added"] == 1 and report.summary()["failed"] == 1
    assert "duplicate document id" in report.failed[0].reason
    assert len([c for c in stored_chunks(service) if c.document_id == "alpha"]) == 1


# --- catalog --------------------------------------------------------------------------------------------

CATALOG = """
exclude: ["drafts/*"]
documents:
  - id: dd-9999-2031-avviso
    file: avviso.txt
    title: "Avviso Quercia per i cluster"
    doc_type: notice
    language: it
    act_type: DD
    act_number: "9999/Ric"
    act_date: 2031-01-15
    act: "DD 9999/Ric of 15 January 2031"
    issuer: "Ministero di prova"
    year: 2031
    amends: []
    amended_by: [dd-10000-2031-modifica]
    clusters: [CFI, SPRING]
  - id: dd-10000-2031-modifica
    file: sub/modifica.txt
    title: "Modifica all'avviso Quercia"
    doc_type: decree
    language: it
    act_type: DD
    act_number: "10000"
    act_date: 2031-03-01
    amends: [dd-9999-2031-avviso]
"""


@pytest.fixture
def catalog_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cat"
    (folder / "sub").mkdir(parents=True)
    (folder / "drafts").mkdir()
    (folder / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (folder / "avviso.txt").write_text(
        "Avviso Quercia\n\nIl contributo massimo per progetto è di 750.000 euro. "
        "Possono partecipare le imprese associate a un cluster.\n",
        encoding="utf-8",
    )
    (folder / "sub" / "modifica.txt").write_text(
        "Modifica\n\nIl contributo massimo è elevato a 900.000 euro.\n", encoding="utf-8"
    )
    (folder / "drafts" / "bozza.txt").write_text("Bozza da non pubblicare.\n", encoding="utf-8")
    (folder / "extra.md").write_text(
        "# Extra note\n\nA note that the catalog does not list.\n", encoding="utf-8"
    )
    return folder


def test_catalog_metadata_is_merged_into_the_registry_and_the_chunks(
    make_service: ServiceFactory, tmp_path: Path, catalog_folder: Path
) -> None:
    service = make_service(tmp_path)
    report = service.ingest([catalog_folder])
    assert by_status(report) == {"added": {"dd-9999-2031-avviso", "dd-10000-2031-modifica", "extra"}}
    record = service.store.document("dd-9999-2031-avviso")
    assert record is not None
    assert (record.title, record.doc_type, record.language) == (
        "Avviso Quercia per i cluster",
        "notice",
        "it",
    )
    assert (
        record.meta["amended_by"] == ["dd-10000-2031-modifica"]
        and record.meta["issuer"] == "Ministero di prova"
    )
    chunk = next(c for c in stored_chunks(service) if c.document_id == "dd-9999-2031-avviso")
    meta = chunk.metadata
    assert meta["act"] == "DD 9999/Ric of 15 January 2031" and meta["act_key"] == "DD:9999"
    assert (meta["act_date"], meta["year"]) == ("2031-01-15", 2031)
    assert meta["amended_by"] == "dd-10000-2031-modifica" and meta["clusters"] == "CFI|SPRING"
    amending = next(c for c in stored_chunks(service) if c.document_id == "dd-10000-2031-modifica")
    assert amending.metadata["amends"] == "dd-9999-2031-avviso" and amending.metadata["act_key"] == "DD:10000"
    snapshot = service.index.snapshot
    rows = snapshot.mask(Filters(act="DD 9999/Ric"))
    assert {snapshot.metas[i]["document_id"] for i in rows.nonzero()[0]} == {"dd-9999-2031-avviso"}
    rows = snapshot.mask(Filters(cluster="spring"))
    assert {snapshot.metas[i]["document_id"] for i in rows.nonzero()[0]} == {"dd-9999-2031-avviso"}


def test_catalog_exclusions_are_not_ingested(
    make_service: ServiceFactory, tmp_path: Path, catalog_folder: Path
) -> None:
    service = make_service(tmp_path)
    service.ingest([catalog_folder])
    assert not any("Bozza" in c.text for c in stored_chunks(service))
    assert not any("catalog" in d for d in service.store.documents())


def test_a_catalog_change_alone_updates_the_document(
    make_service: ServiceFactory, tmp_path: Path, catalog_folder: Path
) -> None:
    service = make_service(tmp_path)
    service.ingest([catalog_folder])
    catalog = catalog_folder / "catalog.yaml"
    catalog.write_text(
        catalog.read_text(encoding="utf-8").replace(
            "Avviso Quercia per i cluster", "Avviso Quercia (testo coordinato)"
        ),
        encoding="utf-8",
    )
    report = service.ingest([catalog_folder])
    assert by_status(report) == {
        "updated": {"dd-9999-2031-avviso"},
        "unchanged": {"dd-10000-2031-modifica", "extra"},
    }
    titles = {c.metadata["title"] for c in stored_chunks(service) if c.document_id == "dd-9999-2031-avviso"}
    assert titles == {"Avviso Quercia (testo coordinato)"}


# --- keyword snapshot persistence and freshness -------------------------------------------------------


def test_snapshot_has_exactly_the_active_chunk_ids_after_edits_and_deletions(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    folder = fact_folder(tmp_path / "docs", FACTS)
    service = make_service(tmp_path)
    service.ingest([folder])
    (folder / "alpha.txt").write_text(
        "The Alpaca committee approved 12 projects in Turin.\n", encoding="utf-8"
    )
    (folder / "gamma.txt").unlink()
    fact_folder(folder, {"delta": "The Dingo committee approved 44 projects in Pisa."})
    service.ingest([folder])

    ids = stored_ids(service)
    snapshot = service.index.snapshot
    assert duplicates(snapshot.ids) == []
    assert set(snapshot.ids) == active_ids(service) == set(ids)
    assert {m["document_id"] for m in snapshot.metas} == {"alpha", "beta", "delta"}
    assert [snapshot.texts[snapshot.row[cid]] for cid in snapshot.ids] == snapshot.texts


def test_persisted_keyword_index_is_loaded_when_the_stamp_matches(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    folder = fact_folder(tmp_path / "docs", FACTS)
    writer = make_service(tmp_path)
    writer.ingest([folder])
    persisted = snapshot_file(writer)
    # Mark the persisted copy: only a load (not a rebuild from Chroma) can return the mark.
    payload = json.loads(persisted.read_text())
    payload["texts"] = [t + " [persisted]" for t in payload["texts"]]
    persisted.write_text(json.dumps(payload))
    inode = persisted.stat().st_ino

    reader = make_service(tmp_path)
    manager = IndexManager(reader.store, reader.settings)
    snapshot = manager.load_or_build()

    assert snapshot.stamp == writer.store.stamp()
    assert all(t.endswith(" [persisted]") for t in snapshot.texts)
    assert persisted.stat().st_ino == inode
    assert sorted(snapshot.ids) == sorted(writer.index.snapshot.ids)


def test_persisted_keyword_index_is_rebuilt_when_the_stamp_differs(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    folder = fact_folder(tmp_path / "docs", FACTS)
    writer = make_service(tmp_path)
    writer.ingest([folder])
    old_stamp = json.loads(snapshot_file(writer).read_text())["stamp"]
    fact_folder(folder, {"delta": "The Dingo committee approved 44 projects in Pisa."})
    report = writer.ingestor.run([folder])  # another process's ingest: Chroma moved, this snapshot did not
    assert report.stamp != old_stamp

    reader = make_service(tmp_path)
    manager = IndexManager(reader.store, reader.settings)
    snapshot = manager.load_or_build()

    assert snapshot.stamp == report.stamp
    assert "delta" in {m["document_id"] for m in snapshot.metas}
    assert set(snapshot.ids) == set(stored_ids(reader))
    assert json.loads(snapshot_file(reader).read_text())["stamp"] == report.stamp  # persisted again


def test_running_reader_picks_up_another_services_ingest_on_check(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    folder = fact_folder(tmp_path / "docs", {"alpha": FACTS["alpha"]})
    reader = make_service(tmp_path)
    reader.ingest([folder])
    assert reader.index.check() is False  # nothing moved

    fact_folder(folder, {"beta": FACTS["beta"]})
    make_service(tmp_path).ingest([folder])

    assert reader.index.check() is True
    assert keyword_hits(reader, "Beluga Bari", "en")[0].document_id == "beta"


def test_document_written_by_a_run_killed_before_its_stamp_bump_reaches_running_readers(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    """A run killed after ``write_document`` but before ``bump``: the next ingest finds the document
    "unchanged", so unless the stamp moves, processes holding the old snapshot never see it."""
    folder = fact_folder(tmp_path / "docs", {"alpha": FACTS["alpha"]})
    reader = make_service(tmp_path)
    reader.ingest([folder])
    assert reader.index.snapshot.stamp == reader.store.stamp()

    # The killed run: exactly the writes the pipeline makes for a new file, then death (no bump).
    fact_folder(folder, {"beta": FACTS["beta"]})
    killed = make_service(tmp_path)
    path = folder / "beta.txt"
    record, chunks = killed.ingestor.prepare(path, folder, None, "beta", file_hash(path, None))
    killed.store.write_document(record, chunks, killed.embedder.embed([c.embed_text for c in chunks]))

    make_service(tmp_path).ingest([folder])  # the next run, which should finish the job
    reader.index.check()

    assert "beta" in {m["document_id"] for m in reader.index.snapshot.metas}, (
        "a reader that was running keeps a snapshot without the document"
    )


def test_ingest_of_a_missing_path_is_reported(make_service: ServiceFactory, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    report = service.ingest([tmp_path / "nowhere"])
    assert report.summary()["failed"] == 1 and "no such file or folder" in report.failed[0].reason
    assert service.store.count() == 0


def test_copying_a_folder_elsewhere_keeps_the_same_chunk_ids(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    folder = fact_folder(tmp_path / "docs", FACTS)
    copy = tmp_path / "elsewhere" / "docs"
    shutil.copytree(folder, copy)
    one, two = make_service(tmp_path / "one"), make_service(tmp_path / "two")
    one.ingest([folder])
    two.ingest([copy])
    assert sorted(stored_ids(one)) == sorted(stored_ids(two))
