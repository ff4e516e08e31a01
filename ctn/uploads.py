"""Uploaded originals shared by every API process: the database holds them, each process mirrors them.

An upload is received by one process, but any process (on any machine) may be asked for its file or
asked to re-ingest the uploads folder. So the original bytes go to the database's ``files`` table first
(the commit point of an upload), and ``$CTN_DATA_DIR/uploads`` of each process is a mirror of that table:
``sync`` writes what the table holds and removes what another process deleted, before every scan of the
folder. Without it, a scan by one process would delete, as "removed from the folder", the documents
uploaded through another process whose folder has the same path (Docker replicas do).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.metadata import document_id_for

if TYPE_CHECKING:
    from ctn.service import AssistantService

log = logging.getLogger(__name__)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class UploadMirror:
    """This process's uploads folder, kept equal to the database's ``files`` table."""

    def __init__(self, service: AssistantService) -> None:
        self.service = service
        self.folder = service.settings.uploads_dir

    def sync(self) -> dict[str, int]:
        """Write the stored uploads this folder lacks (or holds an older version of); delete the files
        another process deleted. Raises ``DatabaseUnavailable`` when the database cannot be read."""
        index = self.service.database.file_index()
        self.folder.mkdir(parents=True, exist_ok=True)
        written = removed = 0
        for name, (_doc_id, sha) in index.items():
            if self._ensure(name, sha):
                written += 1
        for local in self.folder.iterdir():
            if not local.is_file() or local.name.startswith(".") or local.name in index:
                continue
            # Not in the database: either deleted through another process (its document is gone), or
            # uploaded before uploads were stored in the database (its document is live, rooted here).
            record = self.service.store.document(document_id_for(local, self.folder, None))
            if record is not None and record.root == str(self.folder.resolve()):
                continue
            local.unlink(missing_ok=True)
            removed += 1
        if written or removed:
            log.info("uploads mirror: %d file(s) written, %d removed", written, removed)
        return {"written": written, "removed": removed}

    def _ensure(self, name: str, sha: str) -> bool:
        """Make ``folder/name`` hold the stored bytes; True when it had to be written."""
        path = self.folder / name
        if path.is_file() and sha256_of(path) == sha:
            return False
        data = self.service.database.get_file(name)
        if data is None:  # deleted meanwhile
            return False
        write_atomic(path, data)
        return True

    def local_copy(self, document_id: str) -> Path | None:
        """The stored original of an uploaded document, mirrored here; None if it is not an upload."""
        index = self.service.database.file_index()
        names = sorted(n for n, (doc_id, _) in index.items() if doc_id == document_id)
        if not names:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        name = names[0]
        self._ensure(name, index[name][1])
        path = self.folder / name
        return path if path.is_file() else None

    def stored_document_ids(self) -> set[str]:
        return {doc_id for doc_id, _ in self.service.database.file_index().values()}
