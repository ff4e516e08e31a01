"""An ingest killed with SIGKILL at any moment leaves a store that the next ingest completes exactly:
the same chunk ids as a clean ingest of the same files, no duplicates, every document present, and in
between, readers see each document whole (old or new version), never half of it."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctn.service import AssistantService
from rag.embeddings import Embedder
from tests.conftest import REPO_ROOT, ServiceFactory, build_service
from tests.fixtures import make_files as mf
from tests.fixtures.store_checks import active_ids, duplicates, stored_ids

pytestmark = pytest.mark.slow

TIMEOUT_S = 180.0


class Worker:
    """The real ingest in a child process (tests/fixtures/ingest_worker.py), driven line by line."""

    def __init__(self, data_dir: Path, folder: Path) -> None:
        self.data_dir, self.folder = data_dir, folder
        # One torch thread per worker: several workers start side by side on two cores.
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "CTN_TORCH_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
        env.pop("CTN_CHROMA_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fixtures.ingest_worker", str(data_dir), str(folder)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.lines: list[str] = []
        self.run_started_at = 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def wait_for(self, prefix: str) -> str:
        """Read lines until one starts with ``prefix``; a worker silent for too long is killed."""
        assert self.proc.stdout is not None
        watchdog = threading.Timer(TIMEOUT_S, self.proc.kill)
        watchdog.start()
        try:
            for line in self.proc.stdout:
                self.lines.append(line.strip())
                if line.startswith(prefix):
                    return line.strip()
        finally:
            watchdog.cancel()
        raise AssertionError(f"worker ended before {prefix!r}; its last lines: {self.lines[-5:]}")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.run_started_at = len(self.lines)
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def kill_after_file(self, n: int, delay_s: float) -> None:
        """SIGKILL once the worker has started on file ``n``, after ``delay_s`` more seconds."""
        self.wait_for(f"FILE {n} ")
        time.sleep(delay_s)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)  # only now may another process open the Chroma dir
        assert self.proc.returncode == -signal.SIGKILL
        assert self.proc.stdout is not None
        self.lines.extend(line.strip() for line in self.proc.stdout.read().splitlines())
        assert not any(line.startswith("DONE") for line in self.lines[self.run_started_at :]), (
            "killed too late: the run finished"
        )


def ids_by_document(ids: set[str] | list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for cid in ids:
        out[cid.split("::")[0]].add(cid)
    return dict(out)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The ten files in their first and second version, each in a folder named ``docs``."""
    base = tmp_path_factory.mktemp("crash-corpus")
    folders = {}
    for version in (1, 2):
        folders[version] = base / f"v{version}" / "docs"
        mf.crash_corpus(folders[version], version=version)
    return folders


@pytest.fixture(scope="module")
def clean(
    corpus: dict[int, Path], tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> dict[int, dict]:
    """Chunk ids and registry of an uninterrupted ingest of each version, in its own data dir."""
    out = {}
    for version, folder in corpus.items():
        service = build_service(embedder, tmp_path_factory.mktemp(f"clean-v{version}"))
        report = service.ingest([folder])
        assert report.summary()["added"] == 10 and not report.failed
        out[version] = {
            "ids": set(stored_ids(service)),
            "docs": {k: v.doc_hash for k, v in service.store.documents().items()},
        }
    assert out[1]["ids"].isdisjoint(out[2]["ids"])  # every file changed between the versions
    return out


def assert_store_equals_clean(service: AssistantService, expected: dict) -> None:
    ids = stored_ids(service)
    assert duplicates(ids) == []
    assert set(ids) == expected["ids"]
    assert {k: v.doc_hash for k, v in service.store.documents().items()} == expected["docs"]
    snapshot = service.index.snapshot
    assert set(snapshot.ids) == expected["ids"] and duplicates(snapshot.ids) == []
    assert snapshot.stamp == service.store.stamp()


@pytest.fixture(scope="module")
def workers(corpus: dict[int, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Worker]]:
    """Two workers, started side by side (loading the model dominates), each on its own data dir and its
    own copy of the first version of the files, in a folder named ``docs`` (same document ids)."""
    started: dict[str, Worker] = {}
    try:
        for name in ("fresh", "update"):
            base = tmp_path_factory.mktemp(f"worker-{name}")
            shutil.copytree(corpus[1], base / "docs")
            started[name] = Worker(base / "data", base / "docs")
        for worker in started.values():
            worker.wait_for("READY")
        yield started
    finally:
        for worker in started.values():
            worker.stop()


def test_ingest_killed_mid_run_is_completed_exactly_by_the_next_run(
    workers: dict[str, Worker], clean: dict[int, dict], make_service: ServiceFactory
) -> None:
    worker = workers["fresh"]
    kill_at_file = 3
    delay = random.Random().uniform(0.0, 0.25)
    worker.go()
    worker.kill_after_file(kill_at_file, delay)

    service = make_service(worker.data_dir.parent)
    # What a reader sees right after the crash: whole documents only, never part of one.
    visible = ids_by_document(active_ids(service))
    expected = ids_by_document(clean[1]["ids"])
    for doc, ids in visible.items():
        assert ids == expected[doc], (
            f"{doc} is half visible after a kill at file {kill_at_file} + {delay:.2f}s"
        )
    assert len(visible) < 10

    report = service.ingest([worker.folder])

    assert not report.failed
    assert report.count("added") + report.count("unchanged") == 10
    assert report.count("added") == 10 - len(visible)
    assert_store_equals_clean(service, clean[1])


def test_update_killed_mid_run_shows_old_or_new_versions_and_is_completed(
    workers: dict[str, Worker], corpus: dict[int, Path], clean: dict[int, dict], make_service: ServiceFactory
) -> None:
    worker = workers["update"]
    delay = random.Random().uniform(0.0, 0.25)
    worker.go()
    worker.wait_for("DONE")
    shutil.rmtree(worker.folder)
    shutil.copytree(corpus[2], worker.folder)  # every file edited
    worker.go()
    worker.kill_after_file(4, delay)

    service = make_service(worker.data_dir.parent)
    visible = ids_by_document(active_ids(service))
    old, new = ids_by_document(clean[1]["ids"]), ids_by_document(clean[2]["ids"])
    assert set(visible) == set(old), "a document vanished while its new version was being written"
    for doc, ids in visible.items():
        assert ids in (old[doc], new[doc]), f"{doc} mixes versions after a kill at file 4 + {delay:.2f}s"
    assert any(visible[doc] == old[doc] for doc in visible), "killed too late: every document was updated"

    report = service.ingest([worker.folder])

    assert not report.failed
    assert report.count("updated") + report.count("unchanged") == 10 and report.count("updated") >= 1
    assert_store_equals_clean(service, clean[2])
