"""Documents: browse, read, download the original, upload (admin), delete (admin), re-ingest (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse

from api.deps import AdminDep, ServiceDep
from api.errors import ApiError, error_responses
from api.schemas import DeleteResponse, DocumentDetail, DocumentList, IngestResponse, Language
from ctn.documents import MEDIA_TYPES, FileTooLarge, TooManyFiles, sanitize_filename
from ingest.pipeline import IngestReport

router = APIRouter(prefix="/v1", tags=["documents"])

DocumentId = Annotated[str, PathParam(max_length=300, description="The document id, e.g. dd-257-ric-2012-avviso",
                                              examples=["dd-257-ric-2012-avviso"])]


def report_json(report: IngestReport) -> dict[str, Any]:
    return {"summary": report.summary(), "seconds": round(report.seconds, 3), "stamp": report.stamp,
            "results": [{"file": r.path, "document_id": r.document_id, "status": r.status, "chunks": r.chunks,
                         "reason": r.reason, "seconds": round(r.seconds, 3)} for r in report.results]}


@router.get("/documents", response_model=DocumentList, summary="List documents",
            responses=error_responses(422, 503))
def list_documents(
    service: ServiceDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    doc_type: Annotated[list[str] | None, Query(description="Repeat for several types", max_length=20)] = None,
    language: Annotated[Language | None, Query()] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the id, title or act")] = None,
) -> dict[str, Any]:
    """The indexed documents, sorted by id, a page at a time."""
    filters = {"doc_type": doc_type, "language": language, "year": year, "q": q}
    total, docs = service.list_documents(offset, limit, filters)
    return {"total": total, "offset": offset, "limit": limit, "documents": docs}


@router.get("/documents/{document_id}", response_model=DocumentDetail, summary="One document and its chunks",
            responses=error_responses(404, 503))
def get_document(document_id: DocumentId, service: ServiceDep) -> dict[str, Any]:
    doc = service.get_document(document_id)
    if doc is None:
        raise ApiError(404, f"no document with id {document_id!r}")
    return doc


@router.get("/documents/{document_id}/file", summary="The original file",
            response_class=FileResponse,
            responses={200: {"description": "The file, inline (append #page=N to open a PDF at a page)",
                             "content": {t.split(";")[0]: {} for t in MEDIA_TYPES.values()}},
                       **error_responses(404, 503)})
def document_file(document_id: DocumentId, service: ServiceDep) -> FileResponse:
    path = service.document_file(document_id)
    if path is None:
        raise ApiError(404, f"no file for document {document_id!r}")
    fmt = path.suffix.lower().lstrip(".")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    if fmt in ("html", "htm"):
        # Uploaded HTML is shown, never run: no scripts, no same-origin access.
        headers["Content-Security-Policy"] = "sandbox"
    return FileResponse(path, media_type=MEDIA_TYPES.get(fmt, "application/octet-stream"), filename=path.name,
                        content_disposition_type="inline", headers=headers)


@router.post("/documents", response_model=IngestResponse, status_code=201, dependencies=[AdminDep],
             summary="Upload documents (admin)",
             responses=error_responses(401, 403, 409, 413, 415, 422, 503))
def upload_documents(
    service: ServiceDep,
    files: Annotated[list[UploadFile], File(description="One or more PDF, DOCX, HTML, Markdown or text files")],
) -> Any:
    """Saved under the uploads folder and ingested at once: searchable when this returns.

    The type is checked by content (not by name); every file is checked before any is saved.
    """
    settings = service.settings
    if len(files) > settings.max_upload_files:
        raise TooManyFiles(f"{len(files)} files sent; at most {settings.max_upload_files} per upload "
                           "(CTN_MAX_UPLOAD_FILES)")
    limit = int(settings.max_file_mb * 1024 * 1024)
    payload: list[tuple[str, bytes]] = []
    for upload in files:
        data = upload.file.read(limit + 1)
        if len(data) > limit:
            raise FileTooLarge(f"{sanitize_filename(upload.filename or 'upload')}: over the "
                               f"{settings.max_file_mb:g} MB limit (CTN_MAX_FILE_MB)")
        payload.append((upload.filename or "upload", data))
    report = service.upload_documents(payload)
    body = report_json(report)
    if report.results and all(r.status == "failed" for r in report.results):
        reasons = "; ".join(f"{r.path.rsplit('/', 1)[-1]}: {r.reason}" for r in report.results)
        return JSONResponse({"error": {"type": "invalid_request", "message": f"nothing could be ingested: {reasons}"},
                             **body}, status_code=422)
    return body


@router.delete("/documents/{document_id}", response_model=DeleteResponse, dependencies=[AdminDep],
               summary="Delete a document (admin)", responses=error_responses(401, 403, 404, 503))
def delete_document(document_id: DocumentId, service: ServiceDep) -> dict[str, Any]:
    """Removed from the store and the search index (and its file, if it was uploaded). A document of the
    corpus folder returns on the next ingest unless its file is removed there too."""
    if not service.delete_document(document_id):
        raise ApiError(404, f"no document with id {document_id!r}")
    return {"document_id": document_id, "deleted": True}


@router.post("/ingest", response_model=IngestResponse, dependencies=[AdminDep],
             summary="Re-scan the corpus folder (admin)", responses=error_responses(401, 403, 503))
def ingest(service: ServiceDep) -> dict[str, Any]:
    """Incremental: unchanged files are skipped, changed ones replaced, removed ones deleted."""
    return report_json(service.ingest_corpus())
