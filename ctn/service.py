"""The assistant service: built once per process and shared by the API routes, the UI and the CLI.

It owns the expensive objects (embedding model, Chroma client, keyword index) so that each is loaded
exactly once, and exposes the operations every front end needs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from ctn.documents import DocumentLibrary
from ctn.feedback import Database, DatabaseUnavailable
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

WARM_QUESTIONS = ("Qual è la dotazione finanziaria dell'avviso?", "What was the deadline of the notice?")


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
        """Answer one question (the answer JSON of the GUIDE via ``Answer.to_dict()``).

        Every answer is logged (question, status, language, answer_id, timing) by a background writer,
        so the database never adds to the answer's latency.
        """
        answer = self.pipeline.run(question, history=history, filters=Filters.from_dict(filters), lang=lang,
                                   top_k=top_k)
        self._after_answer(answer)
        return answer

    def ask_stream(self, question: str, history: list[str] | None = None, filters: dict[str, Any] | None = None,
                   lang: str | None = None, top_k: int | None = None) -> Iterator[dict[str, Any]]:
        """The same answer as events: ``status`` per step, ``delta`` pieces of text, then ``answer``."""
        yield from self.pipeline.stream(question, history=history, filters=Filters.from_dict(filters), lang=lang,
                                        top_k=top_k, on_answer=self._after_answer)

    def warm_up(self) -> None:
        """Load the model and the keyword index now rather than on the first question."""
        self.embedder.embed_query("warm up")
        self.index.load_or_build()
        self._warm_answer_path()

    def _warm_answer_path(self) -> None:
        """Ask the pipeline once now, so that what it loads lazily (language identifier, glossary, ...)
        is loaded before the process says it is ready. Otherwise a new worker behind a busy load balancer
        loads it once per concurrent first request, all at the same time (measured: 30 s answers)."""
        from rag.store import StoreUnavailable

        try:
            for question in WARM_QUESTIONS:
                if self.settings.llm == "extractive":
                    self.pipeline.run(question)
                else:  # never spend an LLM call on warming up
                    self.retriever.search(question, k=5)
        except StoreUnavailable:
            raise
        except Exception:  # a warm-up question must never keep the process out of rotation
            log.warning("warm-up question failed", exc_info=True)

    # --- question log, feedback and analytics (ctn/feedback.py) ---------------------------------------
    log_questions: bool = True
    """Set to False where answers are not user traffic (evaluations, benchmarks)."""

    @cached_property
    def database(self) -> Database:
        return Database(self.settings.db_url)

    @cached_property
    def _listeners(self) -> list[Callable[[str, Any], None]]:
        return []

    def add_listener(self, callback: Callable[[str, Any], None]) -> None:
        """Call ``callback(kind, payload)`` on events: ("answer", Answer), ("ingest", IngestReport).

        The API counts these for its metrics; a listener's failure never reaches the caller.
        """
        self._listeners.append(callback)

    def _notify(self, kind: str, payload: Any) -> None:
        for callback in list(self._listeners):
            try:
                callback(kind, payload)
            except Exception:
                log.exception("listener failed on %s", kind)

    def _after_answer(self, answer: Answer) -> None:
        if self.log_questions:
            try:
                self.database.log_question(answer.answer_id, answer.question, answer.status, answer.language,
                                           answer.timings_ms.get("total", 0.0), len(answer.citations))
            except Exception as exc:  # the log must never take an answer down
                log.warning("question not logged: %s", exc)
        self._notify("answer", answer)

    def record_feedback(self, answer_id: str, rating: str, comment: str | None = None) -> int:
        """Store a rating ("up" or "down") of a logged answer; ValueError on a bad rating or an unknown
        answer_id (``ctn.feedback.UnknownAnswer``)."""
        feedback_id = self.database.record_feedback(answer_id, rating, comment)
        self._notify("feedback", rating)
        return feedback_id

    def list_feedback(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first, each with the question it rates."""
        return self.database.list_feedback(limit)

    def unanswered(self, limit: int = 100) -> list[dict[str, Any]]:
        """Logged questions answered not_found or out_of_scope, newest first: what the corpus lacks."""
        return self.database.unanswered(limit)

    # --- documents (ctn/documents.py) ----------------------------------------------------------------
    @cached_property
    def library(self) -> DocumentLibrary:
        return DocumentLibrary(self)

    def list_documents(self, offset: int = 0, limit: int = 50,
                       filters: dict[str, Any] | None = None) -> tuple[int, list[dict[str, Any]]]:
        """(total, page) of the registry's documents; filters: doc_type, language, year, q (in the title)."""
        return self.library.list(offset, limit, filters)

    def get_document(self, document_id: str) -> dict[str, Any] | None:
        """Metadata and the chunks (chunk_id, index, section, page, text) of one document."""
        return self.library.get(document_id)

    def document_file(self, document_id: str) -> Path | None:
        """The original file on disk, for download; None when unknown or no longer on disk."""
        return self.library.file(document_id)

    def upload_documents(self, files: list[tuple[str, bytes]],
                         progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
        """Save uploaded (name, bytes) under the uploads folder and ingest them at once.

        Raises ``ctn.documents.UploadError`` (a ValueError; ``.status`` is the HTTP status) when a file
        is refused: too many, too large, an unsupported or mislabelled type, or a clashing document id.
        """
        report = self.library.upload(files, progress=progress)
        self._notify("ingest", report)
        return report

    def delete_document(self, document_id: str) -> bool:
        """Remove a document from the store (and its file, if it was uploaded); False if unknown.

        A document of the corpus folder comes back on the next ingest of that folder unless its file
        is removed there too.
        """
        return self.library.delete(document_id)

    def ingest_corpus(self, progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
        """Re-scan the corpus folder (and the uploads folder, so a rebuild keeps uploads).

        The uploads folder is first brought level with the uploads stored in the database, so that
        uploads received by other processes are kept (not removed as missing) and deleted ones stay gone.
        """
        from filelock import FileLock

        targets = [self.settings.corpus_dir]
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.settings.data_dir / "uploads.lock")):
            self.library.mirror.sync()
            if self.settings.uploads_dir.is_dir():
                targets.append(self.settings.uploads_dir)
            report = self.ingest(targets, progress=progress)
        self._notify("ingest", report)
        return report

    # --- operations ----------------------------------------------------------------------------------
    def model_loaded(self) -> bool:
        return "embedder" in self.__dict__ and "model" in self.embedder.__dict__

    def readiness(self) -> dict[str, Any]:
        """What /readyz reports. Ready means: store reachable, model loaded, keyword index loaded.

        The database is reported but does not gate readiness: without it answers still work (only the
        log and feedback fail), and taking every worker out of rotation for it would stop all answers.
        """
        checks: dict[str, Any] = {}
        try:
            self.store.heartbeat()
            checks["store"] = {"ok": True, "mode": "server" if self.store.server_mode else "embedded",
                               "stamp": self.store.stamp()}
        except Exception as exc:
            checks["store"] = {"ok": False, "error": str(exc)}
        checks["model"] = {"ok": self.model_loaded(),
                           "name": self.settings.embedding_model or "all-MiniLM-L6-v2 (packaged)"}
        index = self.__dict__.get("index")
        if index is not None and index.loaded:
            snap = index.snapshot
            store_stamp = checks["store"].get("stamp")
            checks["keyword_index"] = {"ok": True, "stamp": snap.stamp, "chunks": len(snap),
                                       "documents": len(snap.docs), "last_error": index.last_error,
                                       # False for at most one refresh interval plus a rebuild after a change
                                       "current": store_stamp == snap.stamp if store_stamp else None,
                                       "refresh_s": self.settings.index_refresh_s}
        else:
            checks["keyword_index"] = {"ok": False, "stamp": None, "chunks": 0}
        try:
            self.database.ping()
            checks["database"] = {"ok": True, "backend": self._database_backend()}
        except DatabaseUnavailable as exc:
            checks["database"] = {"ok": False, "backend": self._database_backend(), "error": str(exc)}
        ready = all(checks[k]["ok"] for k in ("store", "model", "keyword_index"))
        return {"ready": ready, "status": "ok" if ready and checks["database"]["ok"] else
                ("degraded" if ready else "not_ready"), "checks": checks}

    def _database_backend(self) -> str:
        """sqlite or postgresql (the URL's dialect, never its credentials)."""
        return self.settings.db_url.split(":", 1)[0].split("+", 1)[0]

    def close(self) -> None:
        """Stop background work (index polling, the question writer) at shutdown."""
        if "index" in self.__dict__:
            self.index.stop()
        if "database" in self.__dict__:
            self.database.close()
