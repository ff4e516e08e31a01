"""The answer the product returns (the GUIDE's answer JSON), shared by the API, the UI and the CLI."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.models import StoredChunk


@dataclass
class Citation:
    n: int
    chunk_id: str
    document_id: str
    title: str
    doc_type: str
    act: str
    page: int | None
    section: str
    quote: str
    source: str
    url: str

    @classmethod
    def from_chunk(cls, n: int, chunk: StoredChunk, quote: str) -> Citation:
        meta = chunk.metadata
        page = chunk.page
        url = f"/v1/documents/{chunk.document_id}/file" + (f"#page={page}" if page else "")
        return cls(n=n, chunk_id=chunk.chunk_id, document_id=chunk.document_id, title=str(meta.get("title", "")),
                   doc_type=str(meta.get("doc_type", "")), act=str(meta.get("act", "")), page=page,
                   section=chunk.section, quote=quote, source=str(meta.get("source", "")), url=url)


@dataclass
class Answer:
    answer: str
    status: str  # answered | not_found | out_of_scope
    language: str
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    answer_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    question: str = ""
    rewritten_question: str | None = None
    closest_documents: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
