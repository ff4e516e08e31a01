"""The checks an upload passes before it is saved: names and content types (no app needed)."""

from __future__ import annotations

import pytest

from ctn.documents import UnsupportedFileType, UploadError, check_upload, sanitize_filename, sniff
from tests.fixtures import make_files


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\system.ini.TXT", "system.ini.txt"),
    (".hidden.md", "hidden.md"),
    ("Relazione finale (v2) — è.PDF", "Relazione-finale-v2-è.pdf"),
    ("a/b/", "upload"),
    ("", "upload"),
    ("...", "upload"),
    ("nul\x00byte.txt", "nulbyte.txt"),
    ("x" * 300 + ".md", "x" * 100 + ".md"),
])
def test_file_names_are_sanitised(name: str, safe: str) -> None:
    assert sanitize_filename(name) == safe


def test_content_is_recognised_whatever_the_name(tmp_path) -> None:
    assert sniff(make_files.act_pdf(tmp_path / "a.pdf").read_bytes()) == "pdf"
    assert sniff(make_files.act_docx(tmp_path / "a.docx").read_bytes()) == "docx"
    assert sniff(make_files.faq_html(tmp_path / "a.html").read_bytes()) == "html"
    assert sniff(make_files.faq_markdown(tmp_path / "a.md").read_bytes()) == "text"
    assert sniff(make_files.italian_cp1252_text(tmp_path / "a.txt").read_bytes()) == "text"
    assert sniff(bytes(range(256))) is None
    assert sniff(b"PK\x03\x04" + b"\x00" * 40) is None


def test_a_name_without_a_suffix_gets_one_from_the_content(tmp_path) -> None:
    pdf = make_files.act_pdf(tmp_path / "a.pdf").read_bytes()
    assert check_upload("scan", pdf) == "scan.pdf"
    assert check_upload("notes", b"Some plain notes.\n") == "notes.txt"


def test_refusals_say_why() -> None:
    with pytest.raises(UnsupportedFileType, match="the content is a PDF"):
        check_upload("x.txt", b"%PDF-1.7 ...")
    with pytest.raises(UnsupportedFileType, match="unsupported file type '.exe'"):
        check_upload("x.exe", b"MZ")
    with pytest.raises(UploadError, match="empty"):
        check_upload("x.txt", b"")
