"""Records shared by ingestion (which writes them) and retrieval (which reads them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Chunk:
    """One retrievable passage: verbatim document text plus where it came from.

    ``text`` is exactly ``document_text[start:end]`` so that a quote taken from it is a quote from the
    document; ``embed_text`` adds the title and section path so the passage stands alone for the model.
    """

    chunk_id: str
    document_id: str
    doc_hash: str
    index: int
    text: str
    embed_text: str
    section: str
    page: int | None
    page_end: int | None
    start: int
    end: int
    language: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def chroma_metadata(self) -> dict[str, Any]:
        """Flat scalar metadata as Chroma stores it (no None, no lists)."""
        meta: dict[str, Any] = {
            "document_id": self.document_id,
            "doc_hash": self.doc_hash,
            "index": self.index,
            "section": self.section,
            "page": self.page if self.page is not None else -1,
            "page_end": self.page_end if self.page_end is not None else -1,
            "start": self.start,
            "end": self.end,
            "language": self.language,
        }
        for key, value in self.metadata.items():
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, list | tuple):
                value = "|".join(str(v) for v in value)
            elif not isinstance(value, str | int | float | bool):
                value = str(value)
            meta[key] = value
        return meta

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StoredChunk:
    """A chunk as read back from the store, with the retrieval score that found it."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def document_id(self) -> str:
        return str(self.metadata.get("document_id", ""))

    @property
    def page(self) -> int | None:
        page = self.metadata.get("page", -1)
        return None if page is None or int(page) < 0 else int(page)

    @property
    def section(self) -> str:
        return str(self.metadata.get("section", ""))
