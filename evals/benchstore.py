"""Benchmark stores: public passages written as single chunks through the product's own store and index.

Each benchmark gets its own Chroma store and keyword index under ``$CTN_DATA_DIR/bench/<name>``, built
with the same ``Store``, ``IndexManager``, embedder and ``HybridRetriever`` as the product, so the
figures measure the product's retrieval and not a re-implementation. Passages are never re-split: one
passage is one chunk, grouped into pseudo-documents only because the store writes per document.
Embedding thousands of passages takes minutes here, so a built store is kept and reused while its
fingerprint (passages, embedding model, builder version) is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.embeddings import Embedder
from rag.index import IndexManager
from rag.models import Chunk
from rag.retrieval import HybridRetriever
from rag.settings import Settings
from rag.store import DocRecord, Store

log = logging.getLogger(__name__)

BUILDER_VERSION = "1"


@dataclass(frozen=True)
class Passage:
    pid: str
    text: str
    group: str  # the pseudo-document the passage is written under


class QueryCache:
    """An embedder whose query vectors can be computed in one batch ahead of a run.

    A benchmark asks the same queries of the dense and hybrid configurations; embedding them once, in
    batches, saves minutes and changes nothing else (every other call goes to the wrapped embedder).
    """

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def prefill(self, queries: Sequence[str]) -> None:
        missing = [q for q in dict.fromkeys(queries) if q not in self._vectors]
        if missing:
            for q, v in zip(missing, self._embedder.embed(missing), strict=True):
                self._vectors[q] = v

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._vectors.get(text)
        return vector if vector is not None else self._embedder.embed_query(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


class BenchStore:
    def __init__(self, name: str, data_dir: Path, embedder: Embedder, base_settings: Settings | None = None
                 ) -> None:
        self.name = name
        self.directory = Path(data_dir) / "bench" / name
        base = base_settings or Settings()
        self.settings = Settings(data_dir=self.directory, corpus_dir=self.directory / "passages",
                                 chroma_url=None, collection="bench_" + name.replace("-", "_"),
                                 embedding_model=base.embedding_model,
                                 embedding_batch_size=base.embedding_batch_size)
        self.embedder = QueryCache(embedder)
        self.store = Store(self.settings)
        self.index = IndexManager(self.store, self.settings)
        self.retriever = HybridRetriever(self.index, self.store, self.embedder, self.settings)  # type: ignore[arg-type]
        self.build_seconds: float | None = None
        self.reused = False

    @property
    def marker(self) -> Path:
        return self.directory / "built.json"

    def fingerprint(self, passages: Sequence[Passage]) -> str:
        digest = hashlib.sha256(f"{BUILDER_VERSION}\n{self.embedder.model_name}\n".encode())
        for p in passages:
            digest.update(f"{p.group}\t{p.pid}\t{p.text}\n".encode())
        return digest.hexdigest()

    def ensure(self, passages: Sequence[Passage], language: str,
               progress: Callable[[int, int], None] | None = None) -> None:
        """Reuse the stored passages when their fingerprint matches, else write them all again."""
        fingerprint = self.fingerprint(passages)
        if self.marker.exists():
            try:
                built = json.loads(self.marker.read_text())
            except (OSError, json.JSONDecodeError):
                built = {}
            if built.get("fingerprint") == fingerprint and self.store.count() == len(passages):
                self.index.load_or_build()
                self.reused = True
                self.build_seconds = built.get("seconds")
                log.info("bench store %s reused (%d passages)", self.name, len(passages))
                return
        self._build(passages, language, fingerprint, progress)

    def _build(self, passages: Sequence[Passage], language: str, fingerprint: str,
               progress: Callable[[int, int], None] | None) -> None:
        started = time.perf_counter()
        self.marker.unlink(missing_ok=True)
        self.store.reset()
        groups: dict[str, list[Passage]] = {}
        for p in passages:
            groups.setdefault(p.group, []).append(p)
        doc_hash = fingerprint[:16]
        done = 0
        for group, members in groups.items():
            chunks = [Chunk(chunk_id=f"{group}::{p.pid}", document_id=group, doc_hash=doc_hash, index=i,
                            text=p.text, embed_text=p.text, section="", page=None, page_end=None, start=0,
                            end=len(p.text), language=language,
                            metadata={"passage_id": p.pid, "doc_type": "benchmark", "doc_language": language})
                      for i, p in enumerate(members)]
            vectors = self.embedder.embed([c.embed_text for c in chunks])
            record = DocRecord(document_id=group, doc_hash=doc_hash, source=f"bench:{self.name}", root="",
                               title=group, doc_type="benchmark", language=language, n_chunks=len(chunks),
                               ingested_at=datetime.now(UTC).isoformat(), meta={"benchmark": self.name})
            self.store.write_document(record, chunks, vectors)
            done += len(members)
            if progress:
                progress(done, len(passages))
        self.store.bump()
        self.index.rebuild()
        self.build_seconds = time.perf_counter() - started
        self.marker.write_text(json.dumps({"fingerprint": fingerprint, "passages": len(passages),
                                           "seconds": self.build_seconds,
                                           "built_at": datetime.now(UTC).isoformat()}))
        log.info("bench store %s built: %d passages in %.1f s", self.name, len(passages), self.build_seconds)

    def passage_ids(self, chunks: Sequence[Any]) -> list[str]:
        return [str(c.metadata.get("passage_id", c.chunk_id)) for c in chunks]
