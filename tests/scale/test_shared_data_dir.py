"""Workers of one `ctn serve --workers N` share a data dir: their keyword index snapshots must not mix."""

from __future__ import annotations

import threading
from pathlib import Path

from rag.index import Snapshot
from rag.keyword_index import KeywordIndex


def snapshot(stamp: str, n: int) -> Snapshot:
    ids = [f"doc-{stamp}::h::{i:04d}" for i in range(n)]
    texts = [f"text {stamp} number {i}" for i in range(n)]
    metas = [{"document_id": f"doc-{stamp}", "index": i} for i in range(n)]
    return Snapshot(stamp, ids, texts, metas, {}, KeywordIndex.build([t.split() for t in texts]))


def test_snapshots_saved_at_once_by_two_workers_leave_one_whole_snapshot(tmp_path: Path) -> None:
    directory = tmp_path / "keyword" / "ctn_chunks"
    directory.parent.mkdir(parents=True)
    versions = {"1-aaa": snapshot("1-aaa", 300), "2-bbb": snapshot("2-bbb", 40)}
    errors: list[BaseException] = []
    start = threading.Barrier(len(versions) * 3)

    def save(snap: Snapshot) -> None:
        start.wait()
        try:
            snap.save(directory)
        except OSError as exc:  # losing the final rename to another worker is allowed (and logged)
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(s,)) for s in list(versions.values()) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    loaded = Snapshot.load(directory)
    expected = versions[loaded.stamp]
    assert loaded.ids == expected.ids and len(loaded.keyword.scores(["text"])) == len(expected.ids)
    assert [p.name for p in directory.parent.iterdir()] == ["ctn_chunks"]  # no temporary folders left
    assert len(errors) < len(threads)
