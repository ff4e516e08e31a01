"""/v1/documents (list, read, file, upload, delete) and /v1/ingest."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN, ClientFactory
from tests.fixtures import make_files

# --- reads, over the real corpus ------------------------------------------------------------------------------


def test_documents_are_listed_a_page_at_a_time(corpus_client: TestClient) -> None:
    first = corpus_client.get("/v1/documents", params={"limit": 7}).json()
    second = corpus_client.get("/v1/documents", params={"limit": 7, "offset": 7}).json()
    everything = corpus_client.get("/v1/documents", params={"limit": 500}).json()
    assert first["total"] == everything["total"] == len(everything["documents"]) >= 30
    assert len(first["documents"]) == len(second["documents"]) == 7
    ids = [d["document_id"] for d in first["documents"] + second["documents"]]
    assert len(set(ids)) == 14 and ids == [d["document_id"] for d in everything["documents"][:14]]
    doc = next(d for d in everything["documents"] if d["document_id"] == "dd-257-ric-2012-avviso")
    assert doc["doc_type"] == "notice" and doc["format"] == "pdf" and doc["year"] == 2012
    assert doc["pages"] and doc["n_chunks"] > 0 and doc["act"] == "DD 257/Ric of 30 May 2012"
    assert doc["status"] in ("current", "amended") and doc["ingested_at"]


@pytest.mark.parametrize(("params", "key", "value"), [
    ({"doc_type": "notice"}, "doc_type", "notice"),
    ({"language": "en"}, "language", "en"),
    ({"year": 2012}, "year", 2012),
])
def test_documents_filter_by_type_language_and_year(corpus_client: TestClient, params: dict, key: str,
                                                     value: object) -> None:
    body = corpus_client.get("/v1/documents", params={**params, "limit": 500}).json()
    assert body["total"] == len(body["documents"]) > 0
    assert all(d[key] == value for d in body["documents"])


def test_amended_documents_say_so(corpus_client: TestClient) -> None:
    docs = corpus_client.get("/v1/documents", params={"limit": 500}).json()["documents"]
    amended = [d for d in docs if d["status"] == "amended"]
    assert amended and all(d["amended_by"] for d in amended)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"year": "soon"},
                                    {"language": "xx"}])
def test_bad_listing_parameters_are_422(corpus_client: TestClient, params: dict) -> None:
    r = corpus_client.get("/v1/documents", params=params)
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_request"


def test_a_document_comes_with_its_chunks_in_order(corpus_client: TestClient) -> None:
    r = corpus_client.get("/v1/documents/dd-257-ric-2012-avviso")
    assert r.status_code == 200
    doc = r.json()
    assert len(doc["chunks"]) == doc["n_chunks"] > 0
    assert [c["index"] for c in doc["chunks"]] == list(range(doc["n_chunks"]))
    assert all(c["text"] and c["chunk_id"].startswith("dd-257-ric-2012-avviso::") for c in doc["chunks"])
    assert {c["page"] for c in doc["chunks"]} >= {1, 2}


def test_unknown_document_is_404(corpus_client: TestClient) -> None:
    for path in ("/v1/documents/no-such-doc", "/v1/documents/no-such-doc/file"):
        r = corpus_client.get(path)
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"


def test_a_cited_pdf_opens_inline_as_a_pdf(corpus_client: TestClient) -> None:
    answer = corpus_client.post("/v1/ask", json={"question": "Qual è la dotazione finanziaria dell'avviso del 2012?"})
    citation = next(c for c in answer.json()["citations"] if c["page"])
    url, fragment = citation["url"].split("#")
    assert fragment == f"page={citation['page']}"
    r = corpus_client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("inline")
    assert r.content.startswith(b"%PDF")


@pytest.mark.parametrize(("fmt", "media_type"), [("md", "text/markdown"), ("html", "text/html"),
                                                  ("docx", "application/vnd.openxmlformats")])
def test_files_of_other_formats_have_their_media_type(corpus_client: TestClient, fmt: str, media_type: str) -> None:
    docs = corpus_client.get("/v1/documents", params={"limit": 500}).json()["documents"]
    doc = next((d for d in docs if d["format"] == fmt), None)
    assert doc is not None, f"the sample corpus has {fmt} documents; none was listed"
    r = corpus_client.get(doc["url"])
    assert r.status_code == 200 and r.headers["content-type"].startswith(media_type)
    if fmt == "html":
        assert r.headers["content-security-policy"] == "sandbox"


# --- writes, each on a small app of its own ---------------------------------------------------------------------

UPLOADS = {  # format -> (builder, a query, a word the found chunk holds)
    "pdf": (make_files.act_pdf, "termine perentorio per le domande", "17 novembre 2031"),
    "docx": (make_files.act_docx, "graduatoria Agrifood Quercitrina contributo", "Quercitrina"),
    "html": (make_files.faq_html, "Quando scade il bando Zefiro?", "28 febbraio 2030"),
    "md": (make_files.faq_markdown, "minimum budget of a Borealis project", "3.2 million"),
    "txt": (make_files.english_utf8_text, "Gondwana review panel projects", "37 projects"),
}


def test_upload_of_each_format_is_searchable_at_once(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client()
    folder = tmp_path / "to-upload"
    folder.mkdir()
    paths = {fmt: build(folder / f"sample-{fmt}.{fmt}") for fmt, (build, _, _) in UPLOADS.items()}
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths.values()]
    r = client.post("/v1/documents", files=files, headers=ADMIN)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["summary"]["added"] == 5 and body["summary"]["failed"] == 0
    assert {Path(x["file"]).name for x in body["results"]} == {p.name for p in paths.values()}
    for fmt, (_, query, word) in UPLOADS.items():
        doc_id = f"sample-{fmt}"
        hits = client.post("/v1/search", json={"query": query, "k": 3}).json()["results"]
        assert any(h["document_id"] == doc_id and word in h["text"] for h in hits), (fmt, hits[:1])
        listed = client.get(f"/v1/documents/{doc_id}").json()
        assert listed["format"] == fmt and listed["chunks"]
        assert client.get(listed["url"]).content == paths[fmt].read_bytes()
    again = client.post("/v1/documents", files=files[:1], headers=ADMIN).json()
    assert again["summary"]["unchanged"] == 1 and again["summary"]["added"] == 0


def test_upload_names_are_sanitised(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client()
    r = client.post("/v1/documents", headers=ADMIN, files=[
        ("files", ("../../../escape me.txt", b"The Okapi fund pays 12 lighthouse keepers.\n", "text/plain"))])
    assert r.status_code == 201, r.text
    assert r.json()["results"][0]["document_id"] == "escape-me"
    assert (tmp_path / "data" / "uploads" / "escape-me.txt").exists()
    assert not list(tmp_path.parent.glob("escape*")) and not list(tmp_path.glob("escape*"))


def upload(client: TestClient, name: str, data: bytes, headers: dict | None = ADMIN):
    return client.post("/v1/documents", files=[("files", (name, data, "application/octet-stream"))],
                       headers=headers or {})


@pytest.mark.parametrize(("name", "data"), [
    ("report.pdf", b"this is plain text pretending to be a PDF\n"),
    ("notes.txt", b"%PDF-1.4 a pdf header under a text name"),
    ("decree.docx", b"PK\x03\x04 not really a zip"),
    ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
    ("data.bin", bytes(range(256)) * 8),
    ("page.html", b"\x00\x01\x02binary"),
])
def test_unsupported_or_mislabelled_files_are_415(make_client: ClientFactory, tmp_path: Path, name: str,
                                                   data: bytes) -> None:
    client = make_client()
    r = upload(client, name, data)
    assert r.status_code == 415, r.text
    assert r.json()["error"]["type"] == "unsupported_media_type"
    assert not list((tmp_path / "data" / "uploads").glob("*"))


def test_too_many_files_and_too_large_files_are_413(make_client: ClientFactory) -> None:
    client = make_client(max_upload_files=2, max_file_mb=0.002)
    three = [("files", (f"n{i}.txt", b"A small note about 3 owls.\n", "text/plain")) for i in range(3)]
    r = client.post("/v1/documents", files=three, headers=ADMIN)
    assert r.status_code == 413 and "at most 2" in r.json()["error"]["message"]
    r = upload(client, "big.txt", b"Padding line for the size limit test.\n" * 100)
    assert r.status_code == 413 and "CTN_MAX_FILE_MB" in r.json()["error"]["message"]


def test_a_batch_with_one_bad_file_saves_nothing(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client()
    r = client.post("/v1/documents", headers=ADMIN, files=[
        ("files", ("good.txt", b"The Numbat plan trains 11 welders.\n", "text/plain")),
        ("files", ("bad.pdf", b"not a pdf", "application/pdf"))])
    assert r.status_code == 415
    assert not (tmp_path / "data" / "uploads" / "good.txt").exists()
    assert client.get("/v1/documents/good").status_code == 404


def test_an_upload_that_cannot_be_read_is_422_and_not_kept(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client()
    pdf = make_files.encrypted_pdf(tmp_path / "secret.pdf")
    r = upload(client, "secret.pdf", pdf.read_bytes())
    assert r.status_code == 422
    assert "encrypted" in r.json()["error"]["message"] and r.json()["results"][0]["status"] == "failed"
    assert not (tmp_path / "data" / "uploads" / "secret.pdf").exists()


def test_upload_clashing_with_a_corpus_document_is_409(make_client: ClientFactory) -> None:
    client = make_client()
    r = upload(client, "tapir.txt", b"Another text about the Tapir programme and 5 owls.\n")
    assert r.status_code == 409 and r.json()["error"]["type"] == "conflict"


def test_write_endpoints_need_the_admin_key(make_client: ClientFactory) -> None:
    client = make_client()
    calls = [lambda h: upload(client, "x.txt", b"Some text about 4 otters.\n", h),
             lambda h: client.delete("/v1/documents/tapir", headers=h),
             lambda h: client.post("/v1/ingest", headers=h),
             lambda h: client.get("/v1/analytics/unanswered", headers=h),
             lambda h: client.get("/v1/feedback", headers=h)]
    for call in calls:
        missing = call({})
        assert missing.status_code == 401 and missing.json()["error"]["type"] == "unauthorized"
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = call({"Authorization": "Bearer not-the-key"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "invalid API key"
        assert call({"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    assert client.get("/v1/documents/tapir").status_code == 200  # nothing was deleted


def test_write_endpoints_are_off_without_an_admin_key(make_client: ClientFactory) -> None:
    client = make_client(admin_api_key=None)
    for r in (upload(client, "x.txt", b"Some text about 4 otters.\n"),
              client.delete("/v1/documents/tapir", headers=ADMIN), client.post("/v1/ingest", headers=ADMIN),
              client.get("/v1/analytics/unanswered", headers=ADMIN)):
        assert r.status_code == 403
        assert "CTN_ADMIN_API_KEY" in r.json()["error"]["message"]


def test_deleted_document_is_no_longer_found(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client()
    assert upload(client, "capybara.txt", b"The Capybara initiative restored 64 wetlands in Umbria.\n").status_code == 201
    query = {"query": "Capybara initiative wetlands", "k": 5}
    assert client.post("/v1/search", json=query).json()["results"][0]["document_id"] == "capybara"
    r = client.delete("/v1/documents/capybara", headers=ADMIN)
    assert r.status_code == 200 and r.json() == {"document_id": "capybara", "deleted": True}
    assert all(h["document_id"] != "capybara" for h in client.post("/v1/search", json=query).json()["results"])
    assert client.get("/v1/documents/capybara").status_code == 404
    assert not (tmp_path / "data" / "uploads" / "capybara.txt").exists()
    assert client.delete("/v1/documents/capybara", headers=ADMIN).status_code == 404
    answer = client.post("/v1/ask", json={"question": "How many wetlands did the Capybara initiative restore?"})
    assert all(c["document_id"] != "capybara" for c in answer.json()["citations"])


def test_ingest_rescans_the_corpus_folder(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client()
    assert client.delete("/v1/documents/tapir", headers=ADMIN).status_code == 200
    (tmp_path / "corpus" / "koala.txt").write_text("The Koala scheme hired 8 rangers.\n", encoding="utf-8")
    r = client.post("/v1/ingest", headers=ADMIN)
    assert r.status_code == 200
    assert r.json()["summary"]["added"] == 2  # the deleted document comes back, and the new file
    assert client.get("/v1/documents/tapir").status_code == 200
    assert client.post("/v1/search", json={"query": "Koala rangers"}).json()["results"][0]["document_id"] == "koala"
