"""The Chroma store: chunks with their vectors, a registry of documents, and the version stamp.

Chroma has no transactions, so replacing a document is ordered to be safe at every point:
1. upsert the new version's chunks (ids carry the content hash, so they never overwrite the old ones);
2. switch the document's registry record to the new hash (a single-record write);
3. delete the old version's chunks; 4. bump the version stamp.
Readers only trust chunks whose (document, hash) is the registry's active pair, so a query sees the old
version until step 2 and the new one after it, never both or neither. A crash at any point leaves
orphans that ``repair`` deletes, and the next ingest redoes the interrupted work.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import numpy as np

from rag.models import Chunk, StoredChunk
from rag.settings import Settings

log = logging.getLogger(__name__)

STATE_ID = "__state__"
BATCH = 256


class StoreUnavailable(RuntimeError):
    """The Chroma server cannot be reached; the API turns this into a 503."""


@dataclass
class DocRecord:
    document_id: str
    doc_hash: str
    source: str
    root: str
    title: str
    doc_type: str
    language: str
    n_chunks: int
    ingested_at: str
    meta: dict[str, Any] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        data = asdict(self)
        data["meta_json"] = json.dumps(data.pop("meta"), ensure_ascii=False, default=str)
        data["kind"] = "document"
        return data

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> DocRecord:
        fields = {k: meta.get(k) for k in ("document_id", "doc_hash", "source", "root", "title", "doc_type",
                                           "language", "ingested_at")}
        return cls(**{k: str(v or "") for k, v in fields.items()}, n_chunks=int(meta.get("n_chunks", 0)),
                   meta=json.loads(meta.get("meta_json") or "{}"))


def _wrap_errors(func):  # noqa: ANN001, ANN202 - a decorator over store methods
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return func(*args, **kwargs)
        except StoreUnavailable:
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                raise StoreUnavailable(f"the Chroma server is unavailable: {exc}") from exc
            raise

    return wrapper


def _is_connection_error(exc: BaseException) -> bool:
    import httpx

    seen = exc
    while seen is not None:
        if isinstance(seen, httpx.TransportError | ConnectionError | TimeoutError):
            return True
        text = str(seen).lower()
        if any(s in text for s in ("connection refused", "could not connect", "connecterror", "timed out",
                                   "server disconnected", "connection reset")):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _apply_timeout(client: Any, seconds: float) -> None:
    """Give chromadb's HTTP session (created with ``timeout=None``) our request timeout."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds)
    else:  # a chromadb upgrade moved it: say so rather than hang silently
        log.warning("could not set the Chroma client timeout (CTN_CHROMA_TIMEOUT_S); requests may hang")


class Store:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = self._connect()
        self.chunks = self._collection(settings.collection, {"hnsw": {"space": "cosine", "ef_search": 100}})
        self.registry = self._collection(settings.collection + "_registry", None)

    @property
    def server_mode(self) -> bool:
        return bool(self.settings.chroma_url)

    def _connect(self):  # noqa: ANN202 - a chromadb ClientAPI
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if self.settings.chroma_url:
            url = urlparse(self.settings.chroma_url)
            host, port = url.hostname or "localhost", url.port or 8000
            timeout = self.settings.chroma_timeout_s
            try:
                # chromadb's HTTP client has no timeout at all (its constructor's tenant check would hang on
                # a hung server), so: a heartbeat with our timeout first, then the timeout set on its session.
                import httpx

                httpx.get(f"{url.scheme or 'http'}://{host}:{port}/api/v2/heartbeat", timeout=timeout).raise_for_status()
                client = chromadb.HttpClient(host=host, port=port, ssl=url.scheme == "https", settings=chroma_settings)
            except Exception as exc:
                raise StoreUnavailable(f"cannot reach the Chroma server at {self.settings.chroma_url}: {exc}") from exc
            _apply_timeout(client, timeout)
            return client
        self.settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.settings.chroma_path), settings=chroma_settings)

    @_wrap_errors
    def _collection(self, name: str, configuration: dict | None):  # noqa: ANN202
        kwargs: dict[str, Any] = {"name": name, "embedding_function": None}
        if configuration:
            kwargs["configuration"] = configuration
        return self.client.get_or_create_collection(**kwargs)

    # --- registry and version stamp -------------------------------------------------------------
    @_wrap_errors
    def documents(self) -> dict[str, DocRecord]:
        got = self.registry.get(where={"kind": "document"}, include=["metadatas"])
        return {m["document_id"]: DocRecord.from_metadata(m) for m in got["metadatas"] or []}

    @_wrap_errors
    def document(self, document_id: str) -> DocRecord | None:
        got = self.registry.get(ids=[f"doc:{document_id}"], include=["metadatas"])
        return DocRecord.from_metadata(got["metadatas"][0]) if got["ids"] else None

    @_wrap_errors
    def stamp(self) -> str:
        got = self.registry.get(ids=[STATE_ID], include=["metadatas"])
        return str(got["metadatas"][0]["stamp"]) if got["ids"] else "empty"

    @_wrap_errors
    def bump(self) -> str:
        got = self.registry.get(ids=[STATE_ID], include=["metadatas"])
        version = int(got["metadatas"][0].get("version", 0)) + 1 if got["ids"] else 1
        stamp = f"{version}-{uuid.uuid4().hex[:12]}"
        self.registry.upsert(ids=[STATE_ID], embeddings=[[1.0]], metadatas=[{
            "kind": "state", "stamp": stamp, "version": version, "updated_at": datetime.now(UTC).isoformat()}])
        return stamp

    # --- writes -----------------------------------------------------------------------------------
    @_wrap_errors
    def write_document(self, record: DocRecord, chunks: list[Chunk], embeddings: np.ndarray) -> None:
        """Replace a document's chunks by a new version, safely (see the module docstring)."""
        for i in range(0, len(chunks), BATCH):
            part = chunks[i : i + BATCH]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=embeddings[i : i + BATCH],
                documents=[c.text for c in part],
                metadatas=[c.chroma_metadata() for c in part],
            )
        self.registry.upsert(ids=[f"doc:{record.document_id}"], embeddings=[[1.0]],
                             metadatas=[record.to_metadata()])
        self.chunks.delete(where={"$and": [{"document_id": record.document_id},
                                           {"doc_hash": {"$ne": record.doc_hash}}]})
        self.bump()

    @_wrap_errors
    def update_record(self, record: DocRecord) -> None:
        self.registry.upsert(ids=[f"doc:{record.document_id}"], embeddings=[[1.0]],
                             metadatas=[record.to_metadata()])

    @_wrap_errors
    def delete_document(self, document_id: str) -> None:
        self.registry.delete(ids=[f"doc:{document_id}"])
        self.chunks.delete(where={"document_id": document_id})
        self.bump()

    @_wrap_errors
    def repair(self) -> int:
        """Delete chunks that no active document version owns (left by an interrupted ingest)."""
        active = {d.document_id: d.doc_hash for d in self.documents().values()}
        orphans = [cid for cid, meta in self._iter_ids_and_meta()
                   if active.get(meta.get("document_id")) != meta.get("doc_hash")]
        for i in range(0, len(orphans), BATCH * 4):
            self.chunks.delete(ids=orphans[i : i + BATCH * 4])
        if orphans:
            log.warning("repair: removed %d chunks left by an interrupted ingest", len(orphans))
        return len(orphans)

    @_wrap_errors
    def reset(self) -> None:
        for name in (self.settings.collection, self.settings.collection + "_registry"):
            try:
                self.client.delete_collection(name)
            except Exception as exc:  # a missing collection is fine
                log.debug("delete_collection %s: %s", name, exc)
        self.chunks = self._collection(self.settings.collection, {"hnsw": {"space": "cosine", "ef_search": 100}})
        self.registry = self._collection(self.settings.collection + "_registry", None)

    # --- reads ------------------------------------------------------------------------------------
    def _iter_ids_and_meta(self) -> Iterator[tuple[str, dict[str, Any]]]:
        offset = 0
        while True:
            got = self.chunks.get(include=["metadatas"], limit=5000, offset=offset)
            yield from zip(got["ids"], got["metadatas"], strict=True)
            if len(got["ids"]) < 5000:
                return
            offset += 5000

    @_wrap_errors
    def iter_chunks(self, page_size: int = 2000) -> Iterator[StoredChunk]:
        offset = 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=page_size, offset=offset)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                yield StoredChunk(cid, text, meta)
            if len(got["ids"]) < page_size:
                return
            offset += page_size

    @_wrap_errors
    def count(self) -> int:
        return self.chunks.count()

    @_wrap_errors
    def get_chunks(self, ids: list[str]) -> list[StoredChunk]:
        got = self.chunks.get(ids=list(dict.fromkeys(ids)), include=["documents", "metadatas"])
        by_id = {cid: StoredChunk(cid, t, m) for cid, t, m in zip(got["ids"], got["documents"], got["metadatas"],
                                                                  strict=True)}
        return [by_id[i] for i in ids if i in by_id]

    @_wrap_errors
    def dense(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the nearest chunks."""
        if k <= 0:
            return []
        res = self.chunks.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    @_wrap_errors
    def heartbeat(self) -> None:
        self.client.heartbeat()
