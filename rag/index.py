"""The in-process view of the collection: chunk texts, filterable metadata and the BM25 index.

One immutable ``Snapshot`` per version stamp of the collection. It is persisted under
``$CTN_DATA_DIR/keyword`` and loaded at start; when the stamp in Chroma differs (this process or another
one changed the collection), a new snapshot is built in a background thread and swapped in, while
queries keep using the previous one. Queries never build anything.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.keyword_index import KeywordIndex
from rag.models import StoredChunk
from rag.settings import Settings
from rag.store import DocRecord, Store, StoreUnavailable
from rag.text_analysis import analyze, prefixes

log = logging.getLogger(__name__)


@dataclass
class Filters:
    """Metadata filters shared by the API, the CLI and the UI."""

    doc_type: list[str] | None = None
    act: str | None = None  # an act key ("DD:1610") or label ("DD 1610/2016")
    year: int | None = None
    language: str | None = None
    cluster: str | None = None
    document_id: list[str] | None = None

    def is_empty(self) -> bool:
        return not any([self.doc_type, self.act, self.year, self.language, self.cluster, self.document_id])

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Filters:
        if not data:
            return cls()
        doc_type = data.get("doc_type")
        document_id = data.get("document_id")
        year = data.get("year")
        return cls(
            doc_type=[doc_type] if isinstance(doc_type, str) else doc_type,
            act=data.get("act"), year=int(year) if year not in (None, "") else None,
            language=data.get("language"), cluster=data.get("cluster"),
            document_id=[document_id] if isinstance(document_id, str) else document_id,
        )


def bm25_text(chunk: StoredChunk) -> str:
    meta = chunk.metadata
    return f"{meta.get('title', '')}\n{meta.get('act', '')}\n{meta.get('section', '')}\n{chunk.text}"


@dataclass
class Snapshot:
    stamp: str
    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    docs: dict[str, DocRecord]
    keyword: KeywordIndex
    cognates: KeywordIndex | None = None  # over word prefixes (rag.text_analysis.prefixes): across languages
    row: dict[str, int] = field(default_factory=dict)
    built_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.row = {cid: i for i, cid in enumerate(self.ids)}
        self.doc_type = np.array([str(m.get("doc_type", "")) for m in self.metas], dtype=object)
        self.language = np.array([str(m.get("doc_language") or m.get("language", "")) for m in self.metas],
                                 dtype=object)
        self.year = np.array([int(m.get("year", 0) or 0) for m in self.metas], dtype=np.int32)
        self.document_id = np.array([str(m.get("document_id", "")) for m in self.metas], dtype=object)
        self.act_key = np.array([str(m.get("act_key", "")) for m in self.metas], dtype=object)
        self.clusters = [set(filter(None, str(m.get("clusters", "")).lower().split("|"))) for m in self.metas]
        # Rows grouped by document in one pass (a loop over documents comparing every row is quadratic).
        rows_of: dict[str, list[int]] = {}
        for i, doc in enumerate(self.document_id.tolist()):
            rows_of.setdefault(doc, []).append(i)
        self._doc_rows: dict[str, np.ndarray] = {d: np.asarray(r, dtype=np.int64) for d, r in rows_of.items()}

    def __len__(self) -> int:
        return len(self.ids)

    def chunk(self, i: int, score: float = 0.0) -> StoredChunk:
        return StoredChunk(self.ids[i], self.texts[i], self.metas[i], score)

    def doc_rows(self, document_id: str) -> np.ndarray:
        return self._doc_rows.get(document_id, np.zeros(0, dtype=np.int64))

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """A boolean row mask for the filters, or None when nothing is filtered."""
        if filters is None or filters.is_empty() or not len(self):
            return None
        m = np.ones(len(self), dtype=bool)
        if filters.doc_type:
            m &= np.isin(self.doc_type, filters.doc_type)
        if filters.year:
            m &= self.year == filters.year
        if filters.language:
            m &= self.language == filters.language
        if filters.document_id:
            m &= np.isin(self.document_id, filters.document_id)
        if filters.cluster:
            want = filters.cluster.lower()
            m &= np.array([any(want in c for c in cl) for cl in self.clusters], dtype=bool)
        if filters.act:
            from rag.acts import parse_acts

            refs = [r for r in parse_acts(filters.act) if r.key]
            keys = {r.key.split(":")[1] for r in refs} if refs else {filters.act.split(":")[-1]}
            m &= np.array([k.split(":")[-1] in keys if k else False for k in self.act_key], dtype=bool)
        return m

    # --- persistence --------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        # Names of this process and thread: the workers of `ctn serve --workers N` share one data dir and
        # may save at the same moment; each writes its own folder and one of them wins the final rename.
        suffix = f"{os.getpid()}-{threading.get_ident()}"
        tmp = directory.with_name(f"{directory.name}.tmp-{suffix}")
        old = directory.with_name(f"{directory.name}.old-{suffix}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir(parents=True)
            self.keyword.save(tmp / "bm25")
            if self.cognates is not None:
                self.cognates.save(tmp / "bm25-prefix")
            payload = {"stamp": self.stamp, "ids": self.ids, "texts": self.texts, "metas": self.metas,
                       "docs": {k: {**v.__dict__} for k, v in self.docs.items()}}
            (tmp / "snapshot.json").write_text(json.dumps(payload, ensure_ascii=False))
            if directory.exists():
                directory.rename(old)
            tmp.rename(directory)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> Snapshot:
        payload = json.loads((directory / "snapshot.json").read_text())
        docs = {k: DocRecord(**v) for k, v in payload["docs"].items()}
        prefix = directory / "bm25-prefix"  # absent in a snapshot built without the cognate index
        return cls(payload["stamp"], payload["ids"], payload["texts"], payload["metas"], docs,
                   KeywordIndex.load(directory / "bm25"), KeywordIndex.load(prefix) if prefix.exists() else None)

    @classmethod
    def build(cls, store: Store, stamp: str) -> Snapshot:
        docs = store.documents()
        active = {d.document_id: d.doc_hash for d in docs.values()}
        ids, texts, metas, analyzed = [], [], [], []
        for chunk in store.iter_chunks():
            meta = chunk.metadata
            if active.get(meta.get("document_id")) != meta.get("doc_hash"):
                continue  # an orphan of an interrupted ingest, or a version being replaced
            ids.append(chunk.chunk_id)
            texts.append(chunk.text)
            metas.append(meta)
            analyzed.append(analyze(bm25_text(chunk), str(meta.get("language", "en"))))
        order = sorted(range(len(ids)), key=lambda i: (metas[i].get("document_id", ""), metas[i].get("index", 0)))
        ids = [ids[i] for i in order]
        texts = [texts[i] for i in order]
        metas = [metas[i] for i in order]
        analyzed = [analyzed[i] for i in order]
        cognates = [prefixes(bm25_text(StoredChunk(ids[i], texts[i], metas[i]))) for i in range(len(ids))]
        return cls(stamp, ids, texts, metas, docs, KeywordIndex.build(analyzed), KeywordIndex.build(cognates))


class IndexManager:
    """Owns the current snapshot and brings it up to date when the collection's stamp moves."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.directory = settings.keyword_dir / settings.collection
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._building = threading.Lock()
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self.last_error: str | None = None
        self.last_check: float = 0.0

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            self.load_or_build()
        assert self._snapshot is not None
        return self._snapshot

    @property
    def loaded(self) -> bool:
        return self._snapshot is not None

    def load_or_build(self) -> Snapshot:
        """At start: the persisted snapshot if it matches the collection's stamp, else a rebuild."""
        stamp = self.store.stamp()
        if self._snapshot is not None and self._snapshot.stamp == stamp:
            return self._snapshot
        if (self.directory / "snapshot.json").exists():
            try:
                snap = Snapshot.load(self.directory)
                if snap.stamp == stamp:
                    self._swap(snap)
                    log.info("keyword index loaded (%d chunks, stamp %s)", len(snap), stamp)
                    return snap
            except Exception as exc:  # a damaged cache is rebuilt, never fatal
                log.warning("keyword index cache unreadable, rebuilding: %s", exc)
        return self.rebuild(stamp)

    def rebuild(self, stamp: str | None = None) -> Snapshot:
        with self._building:
            stamp = stamp or self.store.stamp()
            if self._snapshot is not None and self._snapshot.stamp == stamp:
                return self._snapshot
            started = time.perf_counter()
            snap = Snapshot.build(self.store, stamp)
            try:
                snap.save(self.directory)
            except OSError as exc:
                log.warning("could not persist the keyword index: %s", exc)
            self._swap(snap)
            log.info("keyword index built: %d chunks in %.2f s (stamp %s)", len(snap),
                     time.perf_counter() - started, stamp)
            return snap

    def _swap(self, snap: Snapshot) -> None:
        with self._lock:
            self._snapshot = snap

    def check(self) -> bool:
        """Compare stamps; rebuild when they differ. Returns True when a new snapshot was swapped in."""
        self.last_check = time.time()
        try:
            stamp = self.store.stamp()
            self.last_error = None
        except StoreUnavailable as exc:
            self.last_error = str(exc)
            return False
        if self._snapshot is not None and stamp == self._snapshot.stamp:
            return False
        if self._snapshot is None:
            self.load_or_build()  # the persisted index, when it matches, is loaded rather than rebuilt
        else:
            self.rebuild(stamp)
        return True

    def start_polling(self) -> None:
        """Background refresh for long-running processes (API workers)."""
        if self._poller is not None and self._poller.is_alive():
            return
        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.wait(self.settings.index_refresh_s):
                try:
                    self.check()
                except Exception as exc:
                    self.last_error = str(exc)
                    log.warning("keyword index refresh failed: %s", exc)

        self._poller = threading.Thread(target=loop, name="ctn-index-refresh", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=self.settings.index_refresh_s + 1)
        self._poller = None
