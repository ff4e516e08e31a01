"""Feedback on answers (anyone) and what users asked that the documents did not answer (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AdminDep, ServiceDep
from api.errors import error_responses
from api.schemas import FeedbackCreated, FeedbackList, FeedbackRequest, UnansweredList

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post("/feedback", response_model=FeedbackCreated, status_code=201, summary="Rate an answer",
             responses=error_responses(404, 422, 503))
def post_feedback(body: FeedbackRequest, service: ServiceDep) -> dict[str, Any]:
    """`answer_id` comes from the answer being rated (404 when no such answer was logged)."""
    feedback_id = service.record_feedback(body.answer_id, body.rating, body.comment)
    return {"id": feedback_id, "answer_id": body.answer_id, "rating": body.rating}


@router.get("/feedback", response_model=FeedbackList, dependencies=[AdminDep], summary="Feedback (admin)",
            responses=error_responses(401, 403, 503))
def list_feedback(service: ServiceDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    return {"feedback": service.list_feedback(limit)}


@router.get("/analytics/unanswered", response_model=UnansweredList, dependencies=[AdminDep],
            summary="Unanswered questions (admin)", tags=["analytics"], responses=error_responses(401, 403, 503))
def unanswered(service: ServiceDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Questions answered not_found or out_of_scope, newest first: what the corpus is missing."""
    return {"questions": service.unanswered(limit)}
