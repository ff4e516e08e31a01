"""Scanned acts (OCR with the real Tesseract) and signed files (CAdES envelopes made with openssl)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.blocks import LoadError
from ingest.loaders import load_file
from tests.fixtures import make_files as mf

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="make installs tesseract-ocr")

ITALIAN = [
    "Art. 1 - Finalità. Il presente avviso sostiene lo sviluppo dei Cluster tecnologici nazionali, "
    "aggregazioni organizzate di imprese, università e altre istituzioni pubbliche o private di ricerca.",
    "Le domande di agevolazione sono presentate entro le ore 12:00 del giorno indicato, esclusivamente "
    "mediante la procedura telematica; la documentazione è redatta in lingua italiana.",
    "Il soggetto proponente descrive nel progetto le attività di ricerca industriale e di sviluppo "
    "sperimentale, indicando per ciascuna i costi, i tempi e le responsabilità dei partecipanti.",
]


def _cer(got: str, want: str) -> float:
    """Character error rate: edit distance over the length of the source text (whitespace normalised)."""
    a, b = " ".join(got.split()), " ".join(want.split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(b), 1)


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scans")
    text = mf.simple_pdf(folder / "testo.pdf", "Avviso per i Cluster tecnologici nazionali", ITALIAN, pages=2)
    scan = mf.scanned_pdf(text, folder / "scansione.pdf")
    return {"text": text, "scan": scan, "mixed": mf.text_then_scan_pdf(text, scan, folder / "misto.pdf")}


def test_scanned_italian_pdf_is_read_by_ocr_under_three_percent_character_errors(scans: dict[str, Path]) -> None:
    pages: list[tuple[int, int]] = []
    loaded = load_file(scans["scan"], on_ocr_page=lambda done, total: pages.append((done, total)))
    assert loaded.extra["ocr_pages"] == "1,2"
    assert pages == [(1, 2), (2, 2)]  # progress, page by page
    got = " ".join(b.text for b in loaded.blocks)
    want = " ".join(["Avviso per i Cluster tecnologici nazionali", *ITALIAN])
    assert _cer(got, want) < 0.03, got
    assert {b.page for b in loaded.blocks} == {1, 2}


def test_a_text_pdf_is_never_sent_through_ocr(scans: dict[str, Path]) -> None:
    called: list[tuple[int, int]] = []
    loaded = load_file(scans["text"], on_ocr_page=lambda done, total: called.append((done, total)))
    assert called == [] and "ocr_pages" not in loaded.extra


def test_only_the_scanned_page_of_a_mixed_pdf_is_read_by_ocr(scans: dict[str, Path]) -> None:
    loaded = load_file(scans["mixed"])
    assert loaded.extra["ocr_pages"] == "2"
    assert any(b.page == 1 and "Cluster tecnologici" in b.text for b in loaded.blocks)
    assert any(b.page == 2 and "ricerca industriale" in b.text for b in loaded.blocks)


def test_chunks_of_a_scanned_page_record_that_their_text_came_from_ocr(scans: dict[str, Path], tmp_path: Path,
                                                                       make_service) -> None:  # noqa: ANN001
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(scans["mixed"], folder / "misto.pdf")
    notes: list[str] = []
    service = make_service(tmp_path, corpus_dir=folder)
    report = service.ingest([folder], progress=lambda name, n, total: notes.append(name))
    assert report.results[0].status == "added", report.results[0].reason
    assert any("OCR page 1/1" in note for note in notes)
    chunks = [c for c in service.store.iter_chunks() if c.document_id == report.results[0].document_id]
    by_page = {c.page: bool(c.metadata.get("ocr")) for c in chunks}
    assert by_page.get(2) is True and by_page.get(1) is False


# --- signed files ---------------------------------------------------------------------------------------


def test_a_signed_pdf_is_opened_and_its_signer_and_signing_time_kept(scans: dict[str, Path], tmp_path: Path) -> None:
    signed = mf.signed_p7m(scans["text"], tmp_path / "decreto.pdf.p7m", signer="Mario Rossi")
    loaded = load_file(signed)
    assert loaded.extra["signed_by"] == "Mario Rossi"
    assert loaded.extra["signed_at"][:4].isdigit() and "T" in loaded.extra["signed_at"]
    assert any("ricerca industriale" in b.text for b in loaded.blocks)


def test_a_signed_text_file_in_base64_is_opened_too(tmp_path: Path) -> None:
    import base64

    inner = mf.small_text(tmp_path / "nota.txt", "La nota firmata riguarda il piano di azione triennale.")
    der = mf.signed_p7m(inner, tmp_path / "der.txt.p7m").read_bytes()
    b64 = tmp_path / "nota.txt.p7m"
    b64.write_bytes(base64.encodebytes(der))
    loaded = load_file(b64)
    assert any("piano di azione triennale" in b.text for b in loaded.blocks)
    assert loaded.extra["signed_by"] == "Mario Rossi"


def test_a_truncated_envelope_is_a_clear_error_and_the_rest_of_the_batch_lands(
        scans: dict[str, Path], tmp_path: Path, make_service) -> None:  # noqa: ANN001
    folder = tmp_path / "docs"
    folder.mkdir()
    signed = mf.signed_p7m(scans["text"], tmp_path / "full.pdf.p7m").read_bytes()
    (folder / "rotto.pdf.p7m").write_bytes(signed[: len(signed) // 2])
    mf.signed_p7m(scans["text"], folder / "buono.pdf.p7m", signer="Anna Bianchi")
    mf.small_text(folder / "nota.txt", "La nota riguarda il programma dei Cluster tecnologici nazionali.")
    with pytest.raises(LoadError, match="broken signed envelope"):
        load_file(folder / "rotto.pdf.p7m")
    report = make_service(tmp_path, corpus_dir=folder).ingest([folder])
    status = {Path(r.path).name: r for r in report.results}
    assert status["rotto.pdf.p7m"].status == "failed" and "broken signed envelope" in status["rotto.pdf.p7m"].reason
    assert status["buono.pdf.p7m"].status == "added" and status["nota.txt"].status == "added"


def test_an_envelope_of_an_unsupported_format_says_so(tmp_path: Path) -> None:
    inner = mf.small_text(tmp_path / "foglio.xls", "dati")
    signed = mf.signed_p7m(inner, tmp_path / "foglio.xls.p7m")
    with pytest.raises(LoadError, match="unsupported format '.xls'"):
        load_file(signed)


def test_an_upload_named_like_a_signed_act_is_accepted(scans: dict[str, Path], tmp_path: Path) -> None:
    from ctn.documents import check_upload

    signed = mf.signed_p7m(scans["text"], tmp_path / "decreto.pdf.p7m").read_bytes()
    assert check_upload("decreto.pdf.p7m", signed) == "decreto.pdf.p7m"
