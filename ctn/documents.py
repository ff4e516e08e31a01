"""The document library behind ``/v1/documents`` and the UI's document tab: list, read, download,
upload and delete.

Uploads are checked by content, not by the name a browser sent: a PDF must start with the PDF magic
bytes, a DOCX must be a zip holding ``word/document.xml``, HTML and text must decode as text. Every file
of a batch is checked before any is written, so a rejected batch leaves nothing behind. Accepted files
are stored in the database (so that every API process can serve them, see ``ctn.uploads``), saved under
``settings.uploads_dir`` with sanitised names, and the folder is ingested at once (the ingest is
incremental, so earlier uploads are skipped as unchanged), which also makes a file deleted from the
folder leave the store on the next scan.
"""

from __future__ import annotations

import io
import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from ctn.feedback import DatabaseUnavailable
from ctn.uploads import UploadMirror
from ingest.loaders import SUPPORTED_SUFFIXES, decode_text
from ingest.metadata import document_id_for
from ingest.pipeline import IngestReport
from rag.store import DocRecord

if TYPE_CHECKING:
    from ctn.service import AssistantService

log = logging.getLogger(__name__)

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
    "htm": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}
_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|title|main|article|section|div|p|h[1-6]|table|ul|ol)"
                       rb"[\s>/]", re.IGNORECASE)


class UploadError(ValueError):
    """An upload that cannot be accepted; ``status`` is the HTTP status the API answers with."""

    status = 422


class TooManyFiles(UploadError):
    status = 413


class FileTooLarge(UploadError):
    status = 413


class UnsupportedFileType(UploadError):
    status = 415


class DocumentConflict(UploadError):
    status = 409


def sanitize_filename(name: str) -> str:
    """A safe file name: no directories, no leading dot, only word characters, dots and dashes."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = "".join(c for c in base if c.isprintable())
    stem, dot, suffix = base.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,10}", suffix):
        stem, suffix = base, ""
    stem = re.sub(r"[^\w.-]+", "-", stem).strip("-._")
    stem = re.sub(r"-{2,}", "-", stem)[:100].strip("-._") or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def sniff(data: bytes) -> str | None:
    """The format a file's bytes are in: pdf, docx, html, text; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "docx" if "word/document.xml" in archive.namelist() else None
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    try:
        decode_text(data)
    except Exception:  # LoadError or a codec error: not text
        return None
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "html" if _HTML_TAG.search(head) else "text"


_EXPECTED = {".pdf": {"pdf"}, ".docx": {"docx"}, ".html": {"html"}, ".htm": {"html"},
             ".md": {"text", "html"}, ".markdown": {"text", "html"}, ".txt": {"text", "html"},
             ".text": {"text", "html"}, ".p7m": {None, "text"}}  # a signed envelope: DER, or base64
_DEFAULT_SUFFIX = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt"}
_ACCEPTED = "PDF, DOCX, HTML, Markdown (.md), text (.txt), or one of them signed (.p7m)"


def check_upload(name: str, data: bytes) -> str:
    """The sanitised name to save ``data`` under; raises ``UploadError`` when it is not acceptable."""
    safe = sanitize_filename(name)
    if not data:
        raise UploadError(f"{safe}: the file is empty")
    kind = sniff(data)
    suffix = Path(safe).suffix.lower()
    if not suffix and kind is not None:
        safe, suffix = safe + _DEFAULT_SUFFIX[kind], _DEFAULT_SUFFIX[kind]
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileType(f"{safe}: unsupported file type '{suffix or 'none'}'; accepted: {_ACCEPTED}")
    if kind not in _EXPECTED[suffix]:
        found = {"pdf": "a PDF", "docx": "a Word document", "html": "HTML", "text": "text"}.get(kind or "", "binary data")
        raise UnsupportedFileType(f"{safe}: the content is {found}, not what the name '{suffix}' says; "
                                  f"accepted: {_ACCEPTED}")
    return safe


def record_to_dict(record: DocRecord) -> dict[str, Any]:
    meta = record.meta
    amended_by = list(meta.get("amended_by") or [])
    return {
        "document_id": record.document_id,
        "title": record.title,
        "doc_type": record.doc_type,
        "language": record.language,
        "act": meta.get("act") or "",
        "act_date": meta.get("act_date") or "",
        "year": int(meta["year"]) if meta.get("year") else None,
        "source": record.source,
        "n_chunks": record.n_chunks,
        "ingested_at": record.ingested_at,
        "format": meta.get("format") or Path(record.source).suffix.lstrip(".").lower(),
        "pages": meta.get("pages"),
        "size": meta.get("size"),
        "status": "amended" if amended_by else "current",
        "amended_by": amended_by,
        "signed_by": meta.get("signed_by") or None,
        "signed_at": meta.get("signed_at") or None,
        "ocr_pages": meta.get("ocr_pages") or None,
        "url": f"/v1/documents/{record.document_id}/file",
    }


class DocumentLibrary:
    def __init__(self, service: AssistantService) -> None:
        self.service = service
        self.settings = service.settings
        self.mirror = UploadMirror(service)

    # --- reads ------------------------------------------------------------------------------------
    def list(self, offset: int = 0, limit: int = 50,
             filters: dict[str, Any] | None = None) -> tuple[int, list[dict[str, Any]]]:
        docs = [record_to_dict(r) for r in self.service.store.documents().values()]
        keep = _filter(filters or {})
        docs = sorted((d for d in docs if keep(d)), key=lambda d: d["document_id"])
        offset, limit = max(0, int(offset)), max(0, int(limit))
        return len(docs), docs[offset : offset + limit]

    def get(self, document_id: str) -> dict[str, Any] | None:
        record = self.service.store.document(document_id)
        if record is None:
            return None
        data = record_to_dict(record)
        data["chunks"] = [{"chunk_id": c.chunk_id, "index": int(c.metadata.get("index", i)), "section": c.section,
                           "page": c.page, "language": str(c.metadata.get("language", "")), "text": c.text}
                          for i, c in enumerate(self._chunks(record))]
        meta = record.meta
        data["issuer"] = meta.get("issuer") or ""
        data["official_reference"] = meta.get("official_reference") or ""
        data["amends"] = list(meta.get("amends") or [])
        data["clusters"] = list(meta.get("clusters") or [])
        return data

    def _chunks(self, record: DocRecord) -> list:  # list[StoredChunk]
        """The active version's chunks in order: from the in-memory snapshot when it holds this version,
        else straight from the store (right after another process changed the document)."""
        index = self.service.index
        if index.loaded:
            snap = index.snapshot
            known = snap.docs.get(record.document_id)
            if known is not None and known.doc_hash == record.doc_hash:
                return [snap.chunk(int(r)) for r in snap.doc_rows(record.document_id)]
        ids = [f"{record.document_id}::{record.doc_hash[:12]}::{i:04d}" for i in range(record.n_chunks)]
        return self.service.store.get_chunks(ids)

    def file(self, document_id: str) -> Path | None:
        """The original file: an upload from the database (mirrored under this process's uploads folder,
        whichever process received it), a corpus file from its path, or from this machine's corpus folder
        when it was ingested elsewhere."""
        record = self.service.store.document(document_id)
        if record is None:
            return None
        try:
            uploaded = self.mirror.local_copy(document_id)
        except DatabaseUnavailable:
            uploaded = None
            if not self._local_file(record):
                raise
        return uploaded or self._local_file(record)

    def _local_file(self, record: DocRecord) -> Path | None:
        if not record.meta.get("path"):
            return None
        path = Path(str(record.meta["path"]))
        if path.is_file():
            return path
        if record.root:  # ingested on another machine (or from another checkout): the same file in ours
            try:
                here = self.settings.corpus_dir / path.relative_to(record.root)
            except ValueError:
                return None
            return here if here.is_file() else None
        return None

    # --- writes -----------------------------------------------------------------------------------
    def upload(self, files: list[tuple[str, bytes]],
               progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
        settings = self.settings
        if not files:
            raise UploadError("no files were sent")
        if len(files) > settings.max_upload_files:
            raise TooManyFiles(f"{len(files)} files sent; at most {settings.max_upload_files} per upload "
                               "(CTN_MAX_UPLOAD_FILES)")
        limit = settings.max_file_mb * 1024 * 1024
        accepted: list[tuple[str, bytes]] = []
        for name, data in files:
            if len(data) > limit:
                raise FileTooLarge(f"{sanitize_filename(name)}: {len(data) / 1048576:.1f} MB is over the "
                                   f"{settings.max_file_mb:g} MB limit (CTN_MAX_FILE_MB)")
            accepted.append((check_upload(name, data), data))
        names = [n for n, _ in accepted]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise UploadError(f"two files in one upload are both named {dup}")

        folder = settings.uploads_dir
        folder.mkdir(parents=True, exist_ok=True)
        root = folder.resolve()
        database = self.service.database
        with FileLock(str(settings.data_dir / "uploads.lock")):
            # Other processes' uploads first, so the scan below neither misses nor removes them.
            self.mirror.sync()
            stored = database.file_index()
            uploaded_ids = {doc_id for doc_id, _ in stored.values()}
            doc_ids = {}
            for name, _ in accepted:
                doc_id = doc_ids[name] = document_id_for(folder / name, folder, None)
                existing = self.service.store.document(doc_id)
                if existing is not None and existing.root != str(root) and doc_id not in uploaded_ids:
                    raise DocumentConflict(f"{name}: a document with the id '{doc_id}' already exists "
                                           f"({existing.source}); rename the file to add it")
            replaced = {name for name, _ in accepted if name in stored}  # their old bytes: the synced local files
            # The database is the commit point: from here every process can serve and re-ingest the files.
            database.put_files([(name, doc_ids[name], data) for name, data in accepted])
            saved: dict[Path, Path | None] = {}  # saved file -> backup of the file it replaced
            try:
                for name, data in accepted:
                    target = folder / name
                    backup = None
                    if target.exists():
                        backup = folder / f".bak-{name}"
                        os.replace(target, backup)
                    tmp = folder / f".tmp-{name}"
                    tmp.write_bytes(data)
                    os.replace(tmp, target)
                    saved[target.resolve()] = backup
                report = self.service.ingest([folder], progress=progress)
            except BaseException:
                self._restore(saved)
                self._restore_stored([n for n, _ in accepted], replaced, doc_ids)
                raise
            mine = [r for r in report.results if Path(r.path).resolve() in saved]
            failed = {Path(r.path).resolve() for r in mine if r.status == "failed"}
            self._restore({p: b for p, b in saved.items() if p in failed})
            self._restore_stored([p.name for p in failed], replaced, doc_ids)
            for p, backup in saved.items():
                if p not in failed and backup is not None:
                    backup.unlink(missing_ok=True)
        log.info("upload of %d file(s): %s", len(accepted), {s: sum(r.status == s for r in mine)
                                                             for s in ("added", "updated", "unchanged", "failed")})
        return IngestReport(results=mine, seconds=report.seconds, stamp=report.stamp)

    def _restore_stored(self, names: list[str], replaced: set[str], doc_ids: dict[str, str]) -> None:
        """Put back in the database what a failed upload replaced (or remove what it added); called after
        ``_restore``, so the local files hold the previous versions again."""
        if not names:
            return
        database = self.service.database
        database.delete_files(names=names)
        folder = self.settings.uploads_dir
        database.put_files([(n, doc_ids[n], (folder / n).read_bytes()) for n in names
                            if n in replaced and (folder / n).is_file()])

    @staticmethod
    def _restore(saved: dict[Path, Path | None]) -> None:
        """Put back what a failed upload replaced (or remove what it added)."""
        for path, backup in saved.items():
            if backup is not None and backup.exists():
                os.replace(backup, path)
            else:
                path.unlink(missing_ok=True)

    def delete(self, document_id: str) -> bool:
        store = self.service.store
        record = store.document(document_id)
        if record is None:
            return False
        # The stored original first, then the file: were the process to stop before the store write, the
        # next scan of an uploads folder would remove the document anyway instead of bringing it back.
        self.service.database.delete_files(document_id=document_id)
        path = Path(str(record.meta.get("path") or ""))
        if record.meta.get("path") and _inside(path, self.settings.uploads_dir):
            path.unlink(missing_ok=True)
        for local in self.settings.uploads_dir.glob("*") if self.settings.uploads_dir.is_dir() else []:
            if local.is_file() and document_id_for(local, self.settings.uploads_dir, None) == document_id:
                local.unlink(missing_ok=True)  # this process's mirror of an upload received elsewhere
        store.delete_document(document_id)
        store.bump()
        self.service.index.check()
        log.info("deleted document %s", document_id)
        return True


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _filter(filters: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    doc_types = filters.get("doc_type")
    if isinstance(doc_types, str):
        doc_types = [doc_types]
    language = filters.get("language")
    year = filters.get("year")
    year = int(year) if year not in (None, "") else None
    query = str(filters.get("q") or "").casefold().strip()

    def keep(doc: dict[str, Any]) -> bool:
        if doc_types and doc["doc_type"] not in doc_types:
            return False
        if language and doc["language"] != language:
            return False
        if year is not None and doc["year"] != year:
            return False
        if query and not any(query in str(doc[k]).casefold() for k in ("document_id", "title", "act")):
            return False
        return True

    return keep
