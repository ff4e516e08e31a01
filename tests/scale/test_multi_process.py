"""Two API processes over one Chroma server and one PostgreSQL: what one process changes, the other serves.

The bound tested here is the one docs/deploy.md promises: a change made through any process is answered
by every other process within ``CTN_INDEX_REFRESH_S`` plus one keyword index rebuild. The tests allow
``DELAY_BOUND_S`` for that (the rebuild of this corpus takes well under a second; the rest is margin for
a loaded 2-core machine), and report the delay they measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.scale.conftest import Cluster
from tests.scale.servers import ADMIN, INDEX_REFRESH_S, ApiProcess, poll

pytestmark = pytest.mark.slow

DELAY_BOUND_S = INDEX_REFRESH_S + 4.0
RARE = "Xylofonia"
NOTE_NAME = "xylofonia-note.txt"
NOTE_ID = "xylofonia-note"
NOTE = (f"The {RARE} consortium financed thirty-seven green hydrogen laboratories in Matera in 2031.\n\n"
        "Each laboratory studies how to store renewable energy as hydrogen for the regional bus fleet.\n")


def search(api: ApiProcess, query: str, k: int = 5) -> list[dict[str, Any]]:
    response = api.client.post("/v1/search", json={"query": query, "k": k})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def top_documents(api: ApiProcess, query: str, k: int = 5) -> list[str]:
    return [r["document_id"] for r in search(api, query, k)]


def upload(api: ApiProcess, name: str, text: str) -> dict[str, Any]:
    response = api.client.post("/v1/documents", headers=ADMIN, files=[("files", (name, text.encode(), "text/plain"))])
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def uploaded(cluster: Cluster) -> Iterator[dict[str, Any]]:
    """The note uploaded through process A (and deleted afterwards if a test left it)."""
    report = upload(cluster.a, NOTE_NAME, NOTE)
    yield report
    cluster.a.client.delete(f"/v1/documents/{NOTE_ID}", headers=ADMIN)


def test_both_processes_are_ready_on_the_shared_store_and_database(cluster: Cluster) -> None:
    for api in cluster.apis:
        checks = api.client.get("/readyz").json()["checks"]
        assert checks["store"]["ok"] and checks["store"]["mode"] == "server"
        assert checks["keyword_index"]["stamp"] == checks["store"]["stamp"]
        assert checks["keyword_index"]["chunks"] > 0 and checks["keyword_index"]["current"] is True
        assert checks["database"] == {"ok": True, "backend": "postgresql"}


def test_an_upload_through_a_is_found_through_b_by_keyword_and_by_meaning(cluster: Cluster,
                                                                          uploaded: dict[str, Any]) -> None:
    assert uploaded["summary"]["added"] == 1
    assert NOTE_ID in top_documents(cluster.a, RARE)[:1]  # the receiving process: at once

    _, delay = poll(lambda: top_documents(cluster.b, RARE)[:1] == [NOTE_ID], DELAY_BOUND_S)
    print(f"keyword index of process B caught up in {delay:.2f} s")
    by_meaning = search(cluster.b, "Which group paid for renewable fuel research labs in southern Italy?", k=3)
    hit = next(r for r in by_meaning if r["document_id"] == NOTE_ID)
    assert hit["scores"]["dense"] > 0.3

    detail = cluster.b.client.get(f"/v1/documents/{NOTE_ID}")
    assert detail.status_code == 200 and RARE in detail.json()["chunks"][0]["text"]


def test_the_uploaded_file_is_served_by_the_process_that_did_not_receive_it(cluster: Cluster,
                                                                          uploaded: dict[str, Any]) -> None:
    response = cluster.b.client.get(f"/v1/documents/{NOTE_ID}/file")
    assert response.status_code == 200, response.text
    assert response.content == NOTE.encode()
    assert response.headers["content-type"].startswith("text/plain")


def test_a_rescan_by_another_process_keeps_uploads_it_did_not_receive(cluster: Cluster,
                                                                     uploaded: dict[str, Any]) -> None:
    report = cluster.b.client.post("/v1/ingest", headers=ADMIN)
    assert report.status_code == 200, report.text
    assert report.json()["summary"]["removed"] == 0
    assert cluster.a.client.get(f"/v1/documents/{NOTE_ID}").status_code == 200


def test_an_upload_replaced_through_another_process_is_updated_everywhere(cluster: Cluster,
                                                                        uploaded: dict[str, Any]) -> None:
    newer = NOTE.replace("thirty-seven", "forty-one") + "Quetzalcoatlus reviews the results every year.\n"
    report = upload(cluster.b, NOTE_NAME, newer)
    assert report["summary"]["updated"] == 1, report
    poll(lambda: top_documents(cluster.a, "Quetzalcoatlus")[:1] == [NOTE_ID], DELAY_BOUND_S)
    assert cluster.a.client.get(f"/v1/documents/{NOTE_ID}/file").content == newer.encode()


def test_a_document_deleted_through_b_leaves_a_within_the_delay(cluster: Cluster,
                                                                uploaded: dict[str, Any]) -> None:
    poll(lambda: NOTE_ID in top_documents(cluster.b, RARE), DELAY_BOUND_S)
    assert cluster.b.client.delete(f"/v1/documents/{NOTE_ID}", headers=ADMIN).status_code == 200

    _, delay = poll(lambda: NOTE_ID not in top_documents(cluster.a, f"{RARE} hydrogen Matera", k=10), DELAY_BOUND_S)
    print(f"keyword index of process A dropped the document in {delay:.2f} s")
    answer = cluster.a.client.post("/v1/ask", json={"question": f"How many laboratories did {RARE} finance?"})
    assert answer.status_code == 200
    assert NOTE_ID not in {c["document_id"] for c in answer.json()["citations"]}
    for api in cluster.apis:
        assert api.client.get(f"/v1/documents/{NOTE_ID}").status_code == 404
        assert api.client.get(f"/v1/documents/{NOTE_ID}/file").status_code == 404
    # Process A received the upload; its rescan must not bring the deleted file back.
    assert cluster.a.client.post("/v1/ingest", headers=ADMIN).json()["summary"]["added"] == 0
    assert cluster.a.client.get(f"/v1/documents/{NOTE_ID}").status_code == 404


def test_feedback_given_through_a_is_listed_by_b(cluster: Cluster) -> None:
    answer = cluster.a.client.post("/v1/ask", json={"question": "Which cluster works on green chemistry?"})
    assert answer.status_code == 200, answer.text
    answer_id = answer.json()["answer_id"]
    given = cluster.a.client.post("/v1/feedback", json={"answer_id": answer_id, "rating": "up",
                                                       "comment": "given through process A"})
    assert given.status_code == 201, given.text

    listed = cluster.b.client.get("/v1/feedback", headers=ADMIN, params={"limit": 20})
    assert listed.status_code == 200
    mine = [f for f in listed.json()["feedback"] if f["answer_id"] == answer_id]
    assert mine and mine[0]["rating"] == "up" and mine[0]["question"] == "Which cluster works on green chemistry?"
    # B also accepts feedback on an answer that A gave: the question log is shared.
    again = cluster.b.client.post("/v1/feedback", json={"answer_id": answer_id, "rating": "down"})
    assert again.status_code == 201
