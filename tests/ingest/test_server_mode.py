"""Server mode: the store is a real ``chroma run`` server shared by services with different data dirs."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.store import StoreUnavailable
from tests.conftest import VENV_BIN, ServiceFactory
from tests.fixtures import make_files as mf
from tests.fixtures.store_checks import keyword_hits, stored_ids

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    def __init__(self, path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = path.parent / "chroma-server.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(VENV_BIN / "chroma"),
                    "run",
                    "--path",
                    str(path),
                    "--port",
                    str(self.port),
                    "--host",
                    "127.0.0.1",
                ],
                stdout=log,
                stderr=log,
            )
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chroma run exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("chroma run did not answer its heartbeat")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    running = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    docs = tmp_path_factory.mktemp("server-docs") / "docs"
    docs.mkdir()
    mf.simple_pdf(
        docs / "relazione.pdf",
        "Relazione Zanzibar",
        [
            "Sintesi non ufficiale redatta per i test del progetto.",
            "Il comitato Zanzibar ha approvato 14 progetti nella prima seduta.",
            "Nella seconda seduta il comitato Zanzibar ha approvato altri 29 progetti a Trieste.",
        ],
        pages=2,
    )
    mf.faq_markdown(docs / "faq-borealis.md")
    mf.english_utf8_text(docs / "gondwana-notes.txt")
    return docs


def test_ingest_into_a_chroma_server_stores_every_chunk(
    server: ChromaServer, folder: Path, make_service: ServiceFactory, tmp_path: Path
) -> None:
    service = make_service(tmp_path / "writer", chroma_url=server.url, collection="server_ingest")
    assert service.store.server_mode
    report = service.ingest([folder])
    assert report.summary()["added"] == 3 and not report.failed
    assert service.store.count() == sum(r.chunks for r in report.results)
    assert not (tmp_path / "writer" / "data" / "chroma").exists()  # nothing embedded on disk
    top = keyword_hits(service, "Zanzibar Trieste", "it")[0]
    assert top.document_id == "relazione" and "29 progetti a Trieste" in top.text
    assert top.metadata["page_end"] == 2


def test_second_service_on_the_same_server_sees_the_same_documents(
    server: ChromaServer, folder: Path, make_service: ServiceFactory, tmp_path: Path
) -> None:
    writer = make_service(tmp_path / "writer", chroma_url=server.url, collection="server_shared")
    writer.ingest([folder])
    reader = make_service(tmp_path / "reader", chroma_url=server.url, collection="server_shared")

    assert set(reader.store.documents()) == {"relazione", "faq-borealis", "gondwana-notes"}
    assert reader.store.stamp() == writer.store.stamp()
    assert (
        sorted(reader.index.snapshot.ids) == sorted(writer.index.snapshot.ids) == sorted(stored_ids(writer))
    )
    assert (tmp_path / "reader" / "data" / "keyword").is_dir()  # each process keeps its own snapshot copy
    again = reader.ingest([folder])
    assert again.summary()["unchanged"] == 3 and not again.changed  # the registry lives in the server


def test_reader_sees_a_document_added_through_another_service(
    server: ChromaServer, folder: Path, make_service: ServiceFactory, tmp_path: Path
) -> None:
    writer = make_service(tmp_path / "writer", chroma_url=server.url, collection="server_refresh")
    writer.ingest([folder])
    reader = make_service(tmp_path / "reader", chroma_url=server.url, collection="server_refresh")
    assert reader.index.check() is True  # first check: nothing was loaded yet
    assert "Quokka" not in " ".join(reader.index.snapshot.texts)

    extra = tmp_path / "extra"
    extra.mkdir()
    mf.small_text(extra / "quokka.txt", "The Quokka committee approved 91 projects in Perth.")
    writer.ingest([extra])

    assert reader.index.check() is True
    assert keyword_hits(reader, "Quokka Perth", "en")[0].document_id == "quokka"


def test_store_reports_an_unreachable_server_as_unavailable(
    make_service: ServiceFactory, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens here
    with pytest.raises(StoreUnavailable):
        make_service(tmp_path, chroma_url=f"http://127.0.0.1:{port}").store.count()
