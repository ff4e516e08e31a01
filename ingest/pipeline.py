"""Ingest files into the store: incremental by content hash, safe to interrupt, reporting every failure.

``Ingestor.run`` scans folders and files, skips unchanged ones, loads, splits, embeds and writes changed
ones through ``Store.write_document`` (which orders its writes so a crash leaves nothing half-visible),
removes documents whose file left the folder they came from, and bumps the collection's version stamp
so every process rebuilds its keyword index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from ingest.blocks import LoadError
from ingest.catalog import Catalog
from ingest.loaders import SUPPORTED_SUFFIXES, load_file
from ingest.metadata import PIPELINE_VERSION, build_metadata, document_id_for
from ingest.splitter import Splitter
from rag.embeddings import Embedder
from rag.language import detect_language
from rag.models import Chunk
from rag.settings import Settings
from rag.store import DocRecord, Store

log = logging.getLogger(__name__)

ACT_TYPES = {"notice", "decree", "law", "guideline"}
EMBED_GROUP = 512  # chunks embedded per model call, across documents


@dataclass
class FileResult:
    path: str
    document_id: str
    status: str  # added | updated | unchanged | removed | failed
    chunks: int = 0
    reason: str = ""
    seconds: float = 0.0


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    stamp: str = ""

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def changed(self) -> bool:
        return any(r.status in ("added", "updated", "removed") for r in self.results)

    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("added", "updated", "unchanged", "removed", "failed")}


def file_hash(path: Path, entry: dict[str, Any] | None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps(entry or {}, sort_keys=True, default=str).encode())
    digest.update(PIPELINE_VERSION.encode())
    return digest.hexdigest()


class Ingestor:
    def __init__(self, settings: Settings, store: Store, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._splitter: Splitter | None = None

    @property
    def splitter(self) -> Splitter:
        if self._splitter is None:
            budget = min(self.settings.chunk_max_tokens, self.embedder.max_tokens)
            self._splitter = Splitter(self.embedder.count_tokens, budget)
        return self._splitter

    def _lock(self) -> FileLock | None:
        if self.store.server_mode:
            return None
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.settings.data_dir / "ingest.lock"))

    def run(self, paths: Iterable[Path], rebuild: bool = False,
            progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
        lock = self._lock()
        if lock is not None:
            lock.acquire()
        try:
            return self._run([Path(p) for p in paths], rebuild, progress)
        finally:
            if lock is not None:
                lock.release()

    def _run(self, paths: list[Path], rebuild: bool,
             progress: Callable[[str, int, int], None] | None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        if rebuild:
            self.store.reset()
        else:
            self.store.repair()
        existing = self.store.documents()
        plan: list[tuple[Path, Path | None, Catalog | None]] = []
        scanned_roots: list[tuple[Path, set[str]]] = []
        for path in paths:
            if path.is_dir():
                catalog = Catalog.load(path)
                files = sorted(p for p in path.rglob("*") if p.is_file() and not self._hidden(p, path)
                               and not catalog.excluded(p))
                plan.extend((f, path, catalog) for f in files)
                scanned_roots.append((path.resolve(), set()))
            elif path.exists():
                parent_catalog = self._catalog_above(path)
                plan.append((path, parent_catalog.root if parent_catalog else None, parent_catalog))
            else:
                report.results.append(FileResult(str(path), "", "failed", reason="no such file or folder"))

        seen_ids: dict[str, str] = {}
        pending: list[tuple[FileResult, DocRecord, list[Chunk]]] = []
        for n, (file, root, catalog) in enumerate(plan, start=1):
            if progress:
                progress(file.name, n, len(plan))
            entry = catalog.entry_for(file) if catalog else None
            doc_id = document_id_for(file, root, entry)
            for scanned, ids in scanned_roots:
                if root is not None and root.resolve() == scanned:
                    ids.add(doc_id)
            if doc_id in seen_ids:
                report.results.append(FileResult(str(file), doc_id, "failed",
                                                 reason=f"duplicate document id (also {seen_ids[doc_id]})"))
                continue
            seen_ids[doc_id] = str(file)
            def on_ocr(done: int, total: int, name: str = file.name, n: int = n) -> None:
                log.info("%s: OCR page %d of %d", name, done, total)
                if progress:
                    progress(f"{name}: OCR page {done}/{total}", n, len(plan))

            result = self._prepare_one(file, root, entry, doc_id, existing.get(doc_id), pending, on_ocr)
            if result is not None:
                report.results.append(result)
            if sum(len(p[2]) for p in pending) >= EMBED_GROUP:
                report.results.extend(self._embed_and_write(pending))
        report.results.extend(self._embed_and_write(pending))

        for root, ids in scanned_roots:
            for doc in existing.values():
                if doc.root == str(root) and doc.document_id not in ids:
                    self.store.delete_document(doc.document_id)
                    report.results.append(FileResult(doc.source, doc.document_id, "removed"))
        # Every write already moved the stamp (Store.write_document); a rebuild of an empty folder
        # still has to tell readers that the collection changed.
        report.stamp = self.store.bump() if rebuild and not report.changed else self.store.stamp()
        report.seconds = time.perf_counter() - started
        log.info("ingest done in %.2f s: %s", report.seconds, report.summary())
        return report

    @staticmethod
    def _hidden(path: Path, root: Path) -> bool:
        return any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts)

    @staticmethod
    def _catalog_above(path: Path) -> Catalog | None:
        for parent in path.resolve().parents:
            if (parent / "catalog.yaml").exists():
                return Catalog.load(parent)
        return None

    def _prepare_one(self, file: Path, root: Path | None, entry: dict[str, Any] | None, doc_id: str,
                     previous: DocRecord | None,
                     pending: list[tuple[FileResult, DocRecord, list[Chunk]]],
                     on_ocr_page: Callable[[int, int], None] | None = None) -> FileResult | None:
        """Hash, load and split one file; a changed file joins ``pending`` to be embedded with others."""
        started = time.perf_counter()
        try:
            if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise LoadError(f"unsupported format '{file.suffix or file.name}'")
            digest = file_hash(file, entry)
            if previous is not None and previous.doc_hash == digest:
                return FileResult(str(file), doc_id, "unchanged", previous.n_chunks)
            record, chunks = self.prepare(file, root, entry, doc_id, digest, on_ocr_page)
        except LoadError as exc:
            log.warning("skipped %s: %s", file, exc)
            return FileResult(str(file), doc_id, "failed", reason=str(exc))
        except OSError as exc:
            log.warning("skipped %s: %s", file, exc)
            return FileResult(str(file), doc_id, "failed", reason=f"unreadable: {exc.strerror or exc}")
        status = "updated" if previous is not None else "added"
        pending.append((FileResult(str(file), doc_id, status, len(chunks), seconds=time.perf_counter() - started),
                        record, chunks))
        return None

    def _embed_and_write(self, pending: list[tuple[FileResult, DocRecord, list[Chunk]]]) -> list[FileResult]:
        """Embed the chunks of several documents in one call (the model sorts them by length and pads
        less than per document), then write each document on its own, in order, as before."""
        if not pending:
            return []
        started = time.perf_counter()
        vectors = self.embedder.embed([c.embed_text for _, _, chunks in pending for c in chunks])
        results, offset = [], 0
        for result, record, chunks in pending:
            self.store.write_document(record, chunks, vectors[offset : offset + len(chunks)])
            offset += len(chunks)
            result.seconds += (time.perf_counter() - started) / len(pending)
            results.append(result)
        pending.clear()
        return results

    def prepare(self, file: Path, root: Path | None, entry: dict[str, Any] | None, doc_id: str,
                digest: str, on_ocr_page: Callable[[int, int], None] | None = None) -> tuple[DocRecord, list[Chunk]]:
        """Load and split one file into its registry record and chunks (no writes)."""
        loaded = load_file(file, self.settings.max_file_mb, on_ocr_page)
        text = loaded.layout()[0]
        meta = build_metadata(entry, loaded.title, text, file)
        # Who signed a .p7m and when, and which pages were read by OCR, travel with the document.
        meta.update({k: v for k, v in loaded.extra.items() if k in ("signed_by", "signed_at", "ocr_pages")})
        ocr_pages = {int(p) for p in loaded.extra.get("ocr_pages", "").split(",") if p}
        act_like = meta["doc_type"] in ACT_TYPES and meta["doc_language"] == "it"
        text, pieces = self.splitter.split(loaded, act_like=act_like)
        title = meta["title"]
        chunk_meta = {k: v for k, v in meta.items() if k not in ("dates",)}
        chunk_meta["source"] = self._display_path(file, root)
        chunks: list[Chunk] = []
        for i, piece in enumerate(pieces):
            body = text[piece.start : piece.end]
            header = title if not piece.section else f"{title} > {piece.section}"
            embed_text = self._fit(header, body)
            lang = detect_language(body, default=meta["doc_language"]) if len(body) > 80 else meta["doc_language"]
            chunks.append(Chunk(
                chunk_id=f"{doc_id}::{digest[:12]}::{i:04d}", document_id=doc_id, doc_hash=digest, index=i,
                text=body, embed_text=embed_text, section=piece.section, page=piece.page,
                page_end=piece.page_end, start=piece.start, end=piece.end, language=lang,
                metadata={**chunk_meta, "ocr": True} if self._from_ocr(piece, ocr_pages) else chunk_meta,
            ))
        if not chunks:
            raise LoadError("no extractable text")
        record = DocRecord(
            document_id=doc_id, doc_hash=digest, source=chunk_meta["source"],
            root=str(root.resolve()) if root is not None else "", title=title, doc_type=meta["doc_type"],
            language=meta["doc_language"], n_chunks=len(chunks), ingested_at=datetime.now(UTC).isoformat(),
            meta={**meta, "pages": loaded.pages, "path": str(file.resolve()),
                  "format": "".join(file.suffixes[-2:] if file.suffix.lower() == ".p7m" else [file.suffix]).lower()
                  .lstrip("."),
                  "size": file.stat().st_size},
        )
        return record, chunks

    @staticmethod
    def _from_ocr(piece, ocr_pages: set[int]) -> bool:  # noqa: ANN001 - an ingest.splitter.Piece
        if not ocr_pages or piece.page is None:
            return False
        return any(p in ocr_pages for p in range(piece.page, (piece.page_end or piece.page) + 1))

    def _fit(self, header: str, body: str) -> str:
        """Title line plus body, trimming the title line (never the body) to stay within the model."""
        limit = self.embedder.max_tokens
        text = f"{header}\n{body}"
        if self.embedder.count_tokens(text) <= limit:
            return text
        room = limit - self.embedder.count_tokens(body) - 1
        words = header.split()
        while words and self.embedder.count_tokens(" ".join(words)) > max(room, 0):
            words.pop()
        return (" ".join(words) + "\n" + body) if words else body

    @staticmethod
    def _display_path(file: Path, root: Path | None) -> str:
        try:
            cwd = Path.cwd().resolve()
            return file.resolve().relative_to(cwd).as_posix()
        except ValueError:
            return str(file.resolve())
