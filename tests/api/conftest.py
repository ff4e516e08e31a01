"""Fixtures of the API tests: the real app over a real store, through TestClient or a real uvicorn server.

* ``corpus_client``: one app over a copy of the real ``corpus/`` for the whole session (ingesting it is
  the expensive part, ~30 s of embedding), used by every read-only test.
* ``make_client``: a fresh app over a tiny corpus in the test's own folder, for tests that write.
* ``serve``: the same app behind a real uvicorn server on a free port (for the OpenAI client and
  schemathesis, which speak real HTTP).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ctn.service import AssistantService
from rag.embeddings import Embedder
from rag.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "test-admin-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
SMALL_FACTS = {
    "tapir.txt": "The Tapir programme funded exactly 73 quokka laboratories in the year 2031.",
    "gufo.txt": "Il programma Gufo finanzia 19 laboratori di robotica marina con sede in Sardegna.",
}


def wait_ready(get: Callable[[str], httpx.Response], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = get("/readyz")
        if last.status_code == 200:
            return
        time.sleep(0.1)
    raise AssertionError(f"the app never became ready: {last.status_code if last else '?'} "
                         f"{last.text if last else ''}")


def service_for(base: Path, embedder: Embedder, **overrides: object) -> AssistantService:
    values: dict[str, object] = {"data_dir": base / "data", "corpus_dir": base / "corpus", "chroma_url": None,
                                 "admin_api_key": ADMIN_KEY}
    values.update(overrides)
    service = AssistantService(Settings(**values))
    service.__dict__["embedder"] = embedder  # the session's model: loaded once
    return service


def small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, fact in SMALL_FACTS.items():
        (folder / name).write_text(f"{fact}\n\nThis short note exists only for the project's tests.\n",
                                   encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def corpus_service(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssistantService]:
    base = tmp_path_factory.mktemp("api-corpus")
    shutil.copytree(REPO_ROOT / "corpus", base / "corpus")
    service = service_for(base, embedder)
    report = service.ingest([base / "corpus"])
    assert not report.failed, [(r.path, r.reason) for r in report.failed]
    yield service
    service.close()


@pytest.fixture(scope="session")
def corpus_client(corpus_service: AssistantService) -> Iterator[TestClient]:
    with TestClient(create_app(service=corpus_service, ui=False)) as client:
        wait_ready(client.get)
        yield client


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(embedder: Embedder, tmp_path: Path) -> Iterator[ClientFactory]:
    """``make_client(base=None, ingest=True, ui=False, **settings)``: a started app over a tiny corpus.

    Two clients made with the same ``base`` share the data dir, like a restarted server.
    """
    opened: list[tuple[TestClient, AssistantService]] = []

    def make(base: Path | None = None, ingest: bool = True, ui: bool | None = False,
             **overrides: object) -> TestClient:
        base = base or tmp_path
        if not (base / "corpus").exists():
            small_corpus(base / "corpus")
        service = service_for(base, embedder, **overrides)
        if ingest:
            service.ingest([base / "corpus"])
        client = TestClient(create_app(service=service, ui=ui))
        client.__enter__()
        opened.append((client, service))
        wait_ready(client.get)
        return client

    yield make
    for client, service in reversed(opened):
        client.__exit__(None, None, None)
        service.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, service: AssistantService) -> None:
        import uvicorn

        self.service = service
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(service=service, ui=False), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with httpx.Client(base_url=self.url, timeout=30) as http:
            wait_ready(http.get)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def live_server(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn server (in a thread) over a tiny corpus of its own, with the admin key set."""
    base = tmp_path_factory.mktemp("api-live")
    small_corpus(base / "corpus")
    service = service_for(base, embedder)
    service.ingest([base / "corpus"])
    with LiveServer(service) as server:
        yield server
    service.close()
