"""Request and response models: the API's contract as it appears in the OpenAPI schema, with examples.

Limits that an operator can change (question length, history turns, upload counts and sizes) are read
from the settings at request time, so they are checked in the routes rather than fixed here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["it", "en"]

EXAMPLE_QUESTION = "Qual è la dotazione finanziaria dell'avviso del 2012?"
EXAMPLE_CITATION = {
    "n": 1, "chunk_id": "dd-257-ric-2012-avviso::3f1c2a9b0d4e::0004", "document_id": "dd-257-ric-2012-avviso",
    "title": "Avviso per lo sviluppo e potenziamento di Cluster tecnologici nazionali", "doc_type": "notice",
    "act": "DD 257/Ric of 30 May 2012", "page": 3, "section": "Art. 4",
    "quote": "Le risorse disponibili per il presente avviso ammontano complessivamente a ...",
    "source": "corpus/notices/dd-257-ric-2012-avviso.pdf",
    "url": "/v1/documents/dd-257-ric-2012-avviso/file#page=3",
}
EXAMPLE_ANSWER = {
    "answer_id": "6f1d0c8e-2b7a-4d8e-9d55-0f8b7c1e2a34",
    "answer": "Secondo i documenti: «Le risorse disponibili per il presente avviso ammontano complessivamente "
              "a ...» [1]",
    "status": "answered", "language": "it", "citations": [EXAMPLE_CITATION], "warnings": [],
    "timings_ms": {"retrieve": 41.2, "answer": 3.1, "total": 52.7},
    "question": EXAMPLE_QUESTION, "rewritten_question": None, "closest_documents": [],
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    type: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["question: String should have at least 1 character"])


class ErrorResponse(BaseModel):
    error: ErrorBody


# --- filters, ask, search -----------------------------------------------------------------------------------
class SearchFilters(Strict):
    """Metadata filters; every one given must match."""

    doc_type: str | list[str] | None = Field(
        default=None, description="notice, decree, law, guideline, roadmap, faq, overview, cluster_profile",
        examples=["notice", ["decree", "notice"]])
    act: str | None = Field(default=None, description='An act key ("DD:1610") or label ("DD 1610/2016")',
                            examples=["DD 257/Ric"], max_length=200)
    year: int | None = Field(default=None, ge=1900, le=2100, examples=[2012])
    language: Language | None = Field(default=None, description="Language of the document")
    cluster: str | None = Field(default=None, max_length=200, examples=["Fabbrica Intelligente"])
    document_id: str | list[str] | None = Field(default=None, examples=["dd-257-ric-2012-avviso"])


class AskRequest(Strict):
    question: str = Field(min_length=1, description="The question (limit: CTN_MAX_QUESTION_CHARS)",
                          examples=[EXAMPLE_QUESTION])
    history: list[str] = Field(default_factory=list,
                               description="Earlier user questions of the conversation, oldest first "
                                           "(limit: CTN_MAX_HISTORY_TURNS); used to rewrite follow-ups",
                               examples=[["Che cos'è l'avviso DD 257/Ric del 2012?"]])
    filters: SearchFilters | None = None
    top_k: int | None = Field(default=None, ge=1, le=50, description="How many passages to consider")
    lang: Language | None = Field(default=None, description="Answer language; detected when omitted")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": EXAMPLE_QUESTION},
        {"question": "E la scadenza?", "history": [EXAMPLE_QUESTION], "filters": {"doc_type": "notice"}},
    ]})


class Citation(BaseModel):
    n: int
    chunk_id: str
    document_id: str
    title: str
    doc_type: str
    act: str
    page: int | None
    section: str
    quote: str = Field(description="Verbatim text of the cited chunk")
    source: str
    url: str = Field(description="The original file, at the cited page for PDFs")


class AnswerResponse(BaseModel):
    """The answer JSON: every [n] in ``answer`` has a citation with that n."""

    answer_id: str = Field(description="The key for POST /v1/feedback")
    answer: str
    status: Literal["answered", "not_found", "out_of_scope"]
    language: str
    citations: list[Citation]
    warnings: list[str]
    timings_ms: dict[str, float]
    question: str = ""
    rewritten_question: str | None = None
    closest_documents: list[dict[str, Any]] = Field(
        default_factory=list, description="When not_found: the nearest documents, to read yourself")

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ANSWER]})


class SearchRequest(Strict):
    query: str = Field(min_length=1, examples=["dotazione finanziaria cluster tecnologici"])
    filters: SearchFilters | None = None
    k: int = Field(default=10, ge=1, le=50, description="How many chunks to return")


class SearchHit(BaseModel):
    rank: int
    chunk_id: str
    document_id: str
    title: str
    doc_type: str
    act: str
    year: int | None
    language: str
    section: str
    page: int | None
    text: str
    score: float = Field(description="Fused score (BM25 share + cosine); higher is better")
    scores: dict[str, float] = Field(description="The parts: bm25 (raw) and dense (cosine)")
    url: str


class SearchResponse(BaseModel):
    query: str
    results: list[SearchHit]

    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "dotazione finanziaria", "results": [{
        "rank": 1, "chunk_id": EXAMPLE_CITATION["chunk_id"], "document_id": EXAMPLE_CITATION["document_id"],
        "title": EXAMPLE_CITATION["title"], "doc_type": "notice", "act": EXAMPLE_CITATION["act"], "year": 2012,
        "language": "it", "section": "Art. 4", "page": 3, "text": "Le risorse disponibili ...", "score": 1.12,
        "scores": {"bm25": 14.2, "dense": 0.62}, "url": EXAMPLE_CITATION["url"]}]}]})


# --- documents ------------------------------------------------------------------------------------------------
class DocumentSummary(BaseModel):
    document_id: str
    title: str
    doc_type: str
    language: str
    act: str
    act_date: str = ""
    year: int | None
    source: str
    n_chunks: int
    ingested_at: str
    format: str
    pages: int | None
    size: int | None = None
    status: Literal["current", "amended"] = Field(description="amended: a later act changed it (see amended_by)")
    amended_by: list[str] = Field(default_factory=list)
    signed_by: str | None = Field(default=None, description="Signer(s) of a signed file (.p7m, CAdES), if any")
    signed_at: str | None = Field(default=None, description="Signing time(s) of a signed file, ISO 8601")
    ocr_pages: str | None = Field(default=None, description="Pages read by OCR (scans), comma-separated")
    url: str = Field(description="The original file")


class DocumentList(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[DocumentSummary]


class DocumentChunk(BaseModel):
    chunk_id: str
    index: int
    section: str
    page: int | None
    language: str
    text: str


class DocumentDetail(DocumentSummary):
    issuer: str = ""
    official_reference: str = ""
    amends: list[str] = Field(default_factory=list)
    clusters: list[str] = Field(default_factory=list)
    chunks: list[DocumentChunk]


class IngestFileResult(BaseModel):
    file: str
    document_id: str
    status: Literal["added", "updated", "unchanged", "removed", "failed"]
    chunks: int
    reason: str = ""
    seconds: float = 0.0


class IngestResponse(BaseModel):
    summary: dict[str, int] = Field(examples=[{"added": 1, "updated": 0, "unchanged": 0, "removed": 0,
                                               "failed": 0}])
    seconds: float
    stamp: str = Field(description="The collection's version after the ingest")
    results: list[IngestFileResult]


class DeleteResponse(BaseModel):
    document_id: str
    deleted: bool = True


# --- feedback and analytics -------------------------------------------------------------------------------------
class FeedbackRequest(Strict):
    answer_id: str = Field(min_length=1, max_length=64, examples=[EXAMPLE_ANSWER["answer_id"]])
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000, examples=["The amount is right, but cite Art. 4"])


class FeedbackCreated(BaseModel):
    id: int
    answer_id: str
    rating: str


class FeedbackItem(BaseModel):
    id: int
    answer_id: str
    rating: str
    comment: str | None
    created_at: str | None
    question: str
    status: str
    language: str


class LoggedQuestion(BaseModel):
    answer_id: str
    question: str
    status: str
    language: str
    created_at: str | None
    latency_ms: float
    n_citations: int


class FeedbackList(BaseModel):
    feedback: list[FeedbackItem]


class UnansweredList(BaseModel):
    questions: list[LoggedQuestion]


# --- health ---------------------------------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool
    status: str = Field(description="ok, degraded (database down: answers work, feedback does not), not_ready")
    warming_up: bool = False
    error: str | None = None
    checks: dict[str, Any] = Field(default_factory=dict)


# --- OpenAI-compatible chat ------------------------------------------------------------------------------------
class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None

    model_config = ConfigDict(extra="allow")


class ChatCompletionRequest(BaseModel):
    """The OpenAI chat request. The last user message is the question; earlier user messages are the
    history. Sampling parameters are accepted and ignored (answers are grounded quotes)."""

    model: str | None = Field(default=None, examples=["ctn-assistant"])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    filters: SearchFilters | None = Field(default=None, description="Extension: metadata filters")
    lang: Language | None = Field(default=None, description="Extension: answer language")

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"model": "ctn-assistant", "messages": [{"role": "user", "content": EXAMPLE_QUESTION}]}]})


class ChatResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[Citation] = Field(default_factory=list)


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatResponseMessage
    finish_reason: str = "stop"


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: dict[str, int]
    ctn: AnswerResponse = Field(description="Extension: the full answer JSON")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
