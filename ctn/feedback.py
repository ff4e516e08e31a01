"""The question log, user feedback and uploaded originals, kept in a SQL database (SQLite by default,
PostgreSQL at scale).

Questions are logged by a background writer so an answer never waits for the database:
``log_question`` puts a row on a queue and returns; a daemon thread writes queued rows in small batches.
A database that is down costs the log, never an answer (the failure is logged and counted). Feedback is
written synchronously, because the user is waiting for its confirmation and it must refer to a logged
answer.
Uploaded files are kept here too (table ``files``), so that every API process, on any machine, can serve
and re-ingest them (see docs/adr/0006-scale-out.md).
See docs/adr/0005-database-schema.md for the schema and why it is created at start.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RATINGS = ("up", "down")
UNANSWERED = ("not_found", "out_of_scope")
MAX_COMMENT_CHARS = 2000
RETRY_S = 5.0  # a database found down is tried again after this many seconds, not on every call

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

questions = Table(
    "questions", metadata,
    Column("answer_id", String(36), primary_key=True),
    Column("question", Text, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("language", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("latency_ms", Float, nullable=False),
    Column("n_citations", Integer, nullable=False),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", String(36), ForeignKey("questions.answer_id"), nullable=False, index=True),
    Column("rating", String(8), nullable=False),
    Column("comment", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

files = Table(
    "files", metadata,
    Column("name", String(255), primary_key=True),  # the sanitised name under $CTN_DATA_DIR/uploads
    Column("document_id", String(300), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)


class UnknownAnswer(ValueError):
    """Feedback for an ``answer_id`` that was never logged."""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes; they were written in UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _db_errors(func):  # noqa: ANN001, ANN202 - a decorator over the query methods
    import functools

    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        try:
            return func(self, *args, **kwargs)
        except SQLAlchemyError as exc:
            self.last_error = f"database {_safe_url(self.url)} unavailable: {exc.__class__.__name__}"
            raise DatabaseUnavailable(self.last_error) from exc

    return wrapper


def _safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
            # WAL lets API workers read while another one writes; NORMAL sync is safe with WAL.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or used; the API turns this into a 503."""


class Database:
    """Tables created at start (create-all), a version row, the question writer and the queries.

    Construction never raises: a database that is down at start is reported by ``ping`` (readiness),
    and the schema is created as soon as it can be reached.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        self._last_attempt = 0.0
        self.dropped = 0
        self.last_error: str | None = None
        try:
            if url.startswith("sqlite:///"):
                from pathlib import Path

                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine | None = make_engine(url)
        except Exception as exc:  # a bad URL or a missing driver: reported, never fatal for answers
            self.engine = None
            self.last_error = f"cannot use the database {_safe_url(url)}: {exc}"
            log.error("%s", self.last_error)
        else:
            try:
                self.ensure_schema()
            except DatabaseUnavailable as exc:
                log.error("%s", exc)
        atexit.register(self.close)

    # --- schema -----------------------------------------------------------------------------------
    def ensure_schema(self) -> Engine:
        """The engine, with the tables created (create-all) and the schema version recorded."""
        if self.engine is None:
            raise DatabaseUnavailable(self.last_error or "no database engine")
        if self._schema_ready:
            return self.engine
        with self._schema_lock:
            if self._schema_ready:
                return self.engine
            if self._last_attempt and time.monotonic() - self._last_attempt < RETRY_S:
                raise DatabaseUnavailable(self.last_error or "database unavailable")
            self._last_attempt = time.monotonic()
            try:
                metadata.create_all(self.engine)
                with self.engine.begin() as conn:
                    current = conn.execute(select(func.max(schema_version.c.version))).scalar()
                    if current is None:
                        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=_now()))
                    elif current > SCHEMA_VERSION:
                        log.warning("database schema version %s is newer than this code's %s", current,
                                    SCHEMA_VERSION)
            except Exception as exc:
                self.last_error = f"database {_safe_url(self.url)} unavailable: {exc}"
                raise DatabaseUnavailable(self.last_error) from exc
            self._schema_ready = True
            self.last_error = None
            return self.engine

    def _engine(self) -> Engine:
        return self.ensure_schema()

    def version(self) -> int | None:
        try:
            with self._engine().connect() as conn:
                return conn.execute(select(func.max(schema_version.c.version))).scalar()
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    def ping(self) -> None:
        """Raise ``DatabaseUnavailable`` unless the database answers."""
        try:
            with self._engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            self.last_error = f"database {_safe_url(self.url)} unavailable: {exc}"
            raise DatabaseUnavailable(self.last_error) from exc

    # --- question log (asynchronous) ----------------------------------------------------------------
    def log_question(self, answer_id: str, question: str, status: str, language: str, latency_ms: float,
                     n_citations: int) -> None:
        """Queue one logged question; returns at once."""
        self._ensure_writer()
        self._queue.put({"answer_id": answer_id, "question": question, "status": status, "language": language,
                         "latency_ms": float(latency_ms), "n_citations": int(n_citations),
                         "created_at": _now()})

    def _ensure_writer(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return
        with self._writer_lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_loop, name="ctn-question-log", daemon=True)
                self._writer.start()

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while len(batch) < 200:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [r for r in batch if r is not None]
            try:
                if rows:
                    with self._engine().begin() as conn:
                        conn.execute(insert(questions), rows)
            except Exception as exc:  # the log must never take an answer down
                self.dropped += len(rows)
                log.warning("could not log %d question(s): %s", len(rows), exc)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if any(r is None for r in batch):
                return

    def flush(self) -> None:
        """Wait until every queued question is written (or dropped)."""
        if self._writer is not None and self._writer.is_alive():
            self._queue.join()

    def close(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._queue.put(None)
            self._writer.join(timeout=10)
        self._writer = None

    # --- feedback ------------------------------------------------------------------------------------
    @_db_errors
    def record_feedback(self, answer_id: str, rating: str, comment: str | None = None) -> int:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
        comment = (comment or "").strip() or None
        if comment is not None and len(comment) > MAX_COMMENT_CHARS:
            raise ValueError(f"comment is longer than {MAX_COMMENT_CHARS} characters")
        self.flush()
        if not self._answer_exists(answer_id):
            # Another worker process may have answered a moment ago and not written its log yet.
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline and not self._answer_exists(answer_id):
                time.sleep(0.05)
            if not self._answer_exists(answer_id):
                raise UnknownAnswer(f"unknown answer_id {answer_id!r}")
        with self._engine().begin() as conn:
            result = conn.execute(insert(feedback).values(answer_id=answer_id, rating=rating, comment=comment,
                                                          created_at=_now()))
            return int(result.inserted_primary_key[0])

    @_db_errors
    def _answer_exists(self, answer_id: str) -> bool:
        with self._engine().connect() as conn:
            return conn.execute(select(questions.c.answer_id).where(questions.c.answer_id == answer_id)).first() \
                is not None

    @_db_errors
    def list_feedback(self, limit: int = 100) -> list[dict[str, Any]]:
        self.flush()
        stmt = (select(feedback.c.id, feedback.c.answer_id, feedback.c.rating, feedback.c.comment,
                       feedback.c.created_at, questions.c.question, questions.c.status, questions.c.language)
                .join(questions, questions.c.answer_id == feedback.c.answer_id)
                .order_by(feedback.c.created_at.desc(), feedback.c.id.desc()).limit(max(0, int(limit))))
        with self._engine().connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [{**dict(r), "created_at": _iso(r["created_at"])} for r in rows]

    @_db_errors
    def logged_questions(self, limit: int = 100, statuses: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        self.flush()
        stmt = select(questions).order_by(questions.c.created_at.desc()).limit(max(0, int(limit)))
        if statuses:
            stmt = stmt.where(questions.c.status.in_(statuses))
        with self._engine().connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [{**dict(r), "created_at": _iso(r["created_at"])} for r in rows]

    def unanswered(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.logged_questions(limit, UNANSWERED)

    # --- uploaded originals (shared by every API process) -------------------------------------------------
    @_db_errors
    def put_files(self, items: list[tuple[str, str, bytes]]) -> None:
        """Store (name, document_id, bytes) of uploaded files, replacing same-named ones, in one transaction."""
        import hashlib

        rows = [{"name": name, "document_id": doc_id, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                 "data": data, "uploaded_at": _now()} for name, doc_id, data in items]
        if not rows:
            return
        with self._engine().begin() as conn:
            conn.execute(delete(files).where(files.c.name.in_([r["name"] for r in rows])))
            conn.execute(insert(files), rows)

    @_db_errors
    def file_index(self) -> dict[str, tuple[str, str]]:
        """name -> (document_id, sha256) of every stored upload (without the bytes)."""
        with self._engine().connect() as conn:
            rows = conn.execute(select(files.c.name, files.c.document_id, files.c.sha256)).all()
        return {r.name: (r.document_id, r.sha256) for r in rows}

    @_db_errors
    def get_file(self, name: str) -> bytes | None:
        with self._engine().connect() as conn:
            return conn.execute(select(files.c.data).where(files.c.name == name)).scalar()

    @_db_errors
    def delete_files(self, names: list[str] | None = None, document_id: str | None = None) -> int:
        """Remove stored uploads by name or by document id; the number removed."""
        stmt = delete(files)
        if names is not None:
            stmt = stmt.where(files.c.name.in_(names))
        elif document_id is not None:
            stmt = stmt.where(files.c.document_id == document_id)
        else:
            raise ValueError("names or document_id")
        with self._engine().begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)
