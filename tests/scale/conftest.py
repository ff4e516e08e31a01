"""The scale-out set-up, for real: one ``chroma run`` server, one PostgreSQL, two API processes.

Each API process is ``uvicorn --factory api.app:create_app`` with its own ``CTN_DATA_DIR`` (nothing on
disk is shared between them) and the same ``CTN_CHROMA_URL`` and ``CTN_DATABASE_URL``, as two machines
behind a load balancer would be. The corpus is four small files of ``corpus/``, ingested into the Chroma
server by this test process (as ``ctn ingest`` on another machine would), so embedding stays cheap.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.embeddings import Embedder
from tests.conftest import build_service
from tests.scale.servers import REPO_ROOT, ApiProcess, ChromaServer, PostgresServer

SMALL_CORPUS = [
    "corpus/overviews/dd-1735-2017-overview.md",
    "corpus/overviews/faq-miur-avviso-2012-overview.md",
    "corpus/clusters/cluster-spring-chimica-verde.md",
    "corpus/decrees/decreto-26-luglio-2017-nuovi-cluster.txt",
]


@dataclass
class Cluster:
    chroma: ChromaServer
    postgres: PostgresServer
    a: ApiProcess
    b: ApiProcess
    corpus: Path

    @property
    def apis(self) -> list[ApiProcess]:
        return [self.a, self.b]


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scale-corpus") / "corpus"
    folder.mkdir()
    for name in SMALL_CORPUS:
        shutil.copy2(REPO_ROOT / name, folder / Path(name).name)
    return folder


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, small_corpus: Path) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("scale")
    started: list[ChromaServer | PostgresServer | ApiProcess] = []
    try:
        chroma = ChromaServer(base / "chroma-db")
        started.append(chroma.start())
        postgres = PostgresServer()
        started.append(postgres)
        postgres.start()
        env = {"CTN_CHROMA_URL": chroma.url, "CTN_DATABASE_URL": postgres.url, "CTN_CORPUS_DIR": str(small_corpus)}
        a, b = ApiProcess("api-a", base, env), ApiProcess("api-b", base, env)
        started += [a.start(), b.start()]  # they load the model while this process ingests
        writer = build_service(embedder, base / "ingest", chroma_url=chroma.url, corpus_dir=small_corpus)
        report = writer.ingest([small_corpus])
        assert report.summary()["added"] == len(SMALL_CORPUS) and not report.failed, report.summary()
        writer.close()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda api: api.wait_ready(), (a, b)))
        yield Cluster(chroma, postgres, a, b, small_corpus)
    finally:
        for server in reversed(started):
            server.stop()
