"""Uploaded originals live in the database; a process's uploads folder is only a mirror of them."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from ctn.documents import UploadError
from tests.conftest import ServiceFactory


def test_the_download_of_an_upload_comes_from_the_database_when_the_local_copy_is_gone(
        make_service: ServiceFactory, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    data = b"The Wombat fund paid for 12 solar kilns in Bari.\n"
    service.upload_documents([("wombat.txt", data)])
    assert service.database.file_index()["wombat.txt"][0] == "wombat"

    (service.settings.uploads_dir / "wombat.txt").unlink()  # as on a process that never received it
    path = service.document_file("wombat")
    assert path is not None and path.read_bytes() == data


def test_a_failed_replacement_keeps_the_stored_original(make_service: ServiceFactory, tmp_path: Path,
                                                        files: ModuleType) -> None:
    service = make_service(tmp_path)
    (tmp_path / "src").mkdir()
    good = files.simple_pdf(tmp_path / "src" / "memo.pdf", "Memo Okapi", ["The Okapi board met 4 times."]).read_bytes()
    service.upload_documents([("memo.pdf", good)])
    locked = files.encrypted_pdf(tmp_path / "src" / "locked.pdf").read_bytes()

    report = service.upload_documents([("memo.pdf", locked)])
    assert [r.status for r in report.results] == ["failed"]
    assert service.database.get_file("memo.pdf") == good
    assert service.document_file("memo").read_bytes() == good


def test_a_refused_batch_stores_nothing_and_a_delete_removes_the_stored_original(
        make_service: ServiceFactory, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    with pytest.raises(UploadError):
        service.upload_documents([("ok.txt", b"The Dingo plan.\n"), ("bad.pdf", b"not a pdf")])
    assert service.database.file_index() == {}

    service.upload_documents([("dingo.txt", b"The Dingo plan trains 8 rangers.\n")])
    assert service.delete_document("dingo")
    assert service.database.file_index() == {}
    assert not (service.settings.uploads_dir / "dingo.txt").exists()
