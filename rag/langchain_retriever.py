"""The hybrid retrieval as a LangChain ``BaseRetriever``, usable in any LangChain chain."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.index import Filters


class CTNRetriever(BaseRetriever):
    """Wraps ``rag.retrieval.HybridRetriever``; ``k``, ``filters`` and ``language`` can also be passed
    per call (``retriever.invoke(query, k=3)``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: Any
    k: int = 4
    filters: dict[str, Any] | None = None
    language: str | None = None

    @classmethod
    def from_service(cls, service: Any, **kwargs: Any) -> CTNRetriever:
        return cls(hybrid=service.retriever, **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        filters = Filters.from_dict(kwargs.get("filters", self.filters))
        chunks = self.hybrid.search(query, k=k, filters=filters, language=kwargs.get("language", self.language))
        return [
            Document(page_content=c.text, id=c.chunk_id,
                     metadata={**c.metadata, "chunk_id": c.chunk_id, "score": c.score})
            for c in chunks
        ]
