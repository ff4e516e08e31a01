"""The assistant service: built once per process and shared by the API routes, the UI and the CLI.

It owns the expensive objects (embedding model, Chroma client, keyword index) so that each is loaded
exactly once, and exposes the operations every front end needs.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from ingest.pipeline import Ingestor, IngestReport
from rag.answer import Answer
from rag.embeddings import Embedder
from rag.index import Filters, IndexManager
from rag.settings import Settings, get_settings
from rag.store import Store

log = logging.getLogger(__name__)

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class AssistantService:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.settings)

    @cached_property
    def store(self) -> Store:
        return Store(self.settings)

    @cached_property
    def index(self) -> IndexManager:
        return IndexManager(self.store, self.settings)

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.settings, self.store, self.embedder)

    @cached_property
    def retriever(self):  # noqa: ANN201 - rag.retrieval.HybridRetriever
        from rag.retrieval import HybridRetriever

        return HybridRetriever(self.index, self.store, self.embedder, self.settings)

    @cached_property
    def pipeline(self):  # noqa: ANN201 - rag.pipeline.AnswerPipeline
        from rag.pipeline import AnswerPipeline

        return AnswerPipeline(self.retriever, self.settings)

    def ingest(self, paths: Iterable[Path], rebuild: bool = False,
               progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
        report = self.ingestor.run(paths, rebuild=rebuild, progress=progress)
        self.index.check()
        return report

    def ask(self, question: str, history: list[str] | None = None, filters: dict[str, Any] | None = None,
            lang: str | None = None, top_k: int | None = None) -> Answer:
        """Answer one question (the answer JSON of the GUIDE via ``Answer.to_dict()``)."""
        return self.pipeline.run(question, history=history, filters=Filters.from_dict(filters), lang=lang,
                                 top_k=top_k)

    def ask_stream(self, question: str, history: list[str] | None = None, filters: dict[str, Any] | None = None,
                   lang: str | None = None, top_k: int | None = None) -> Iterator[dict[str, Any]]:
        """The same answer as events: ``status`` first, then ``delta`` pieces of text, then ``answer``.

        The extractive answerer composes the whole answer at once, so its text is sent quote by quote.
        """
        yield {"type": "status", "status": "retrieving"}
        answer = self.ask(question, history=history, filters=filters, lang=lang, top_k=top_k)
        yield {"type": "status", "status": answer.status}
        for piece in re.findall(r"[^»]*»\s*(?:\[\d+\])?\s*|[^»]+$", answer.answer) or [answer.answer]:
            if piece:
                yield {"type": "delta", "text": piece}
        yield {"type": "answer", "answer": answer.to_dict()}

    def warm_up(self) -> None:
        """Load the model and the keyword index now rather than on the first question."""
        self.embedder.embed_query("warm up")
        self.index.load_or_build()
