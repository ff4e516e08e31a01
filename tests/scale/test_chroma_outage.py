"""The Chroma server hangs, then dies, then comes back: API processes answer 503 quickly and recover alone."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.scale.conftest import Cluster
from tests.scale.servers import CHROMA_TIMEOUT_S, ApiProcess

pytestmark = pytest.mark.slow

# One Chroma request times out after CTN_CHROMA_TIMEOUT_S; the rest is margin for a loaded machine.
ANSWER_BOUND_S = CHROMA_TIMEOUT_S + 3.0
QUESTION = {"question": "Which cluster works on green chemistry?"}


def timed_post(api: ApiProcess, path: str, body: dict) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = api.client.post(path, json=body, timeout=60)
    return response, time.monotonic() - started


def assert_store_unavailable(api: ApiProcess) -> None:
    for path, body in (("/v1/search", {"query": "chimica verde"}), ("/v1/ask", QUESTION)):
        response, seconds = timed_post(api, path, body)
        assert response.status_code == 503, (path, response.status_code, response.text)
        assert response.json()["error"]["type"] == "store_unavailable"
        assert response.headers.get("retry-after")
        assert seconds < ANSWER_BOUND_S, f"{path} took {seconds:.1f} s"
    started = time.monotonic()
    ready = api.client.get("/readyz", timeout=60)
    assert ready.status_code == 503 and ready.json()["checks"]["store"]["ok"] is False
    assert time.monotonic() - started < ANSWER_BOUND_S


def test_a_hung_then_stopped_chroma_gives_503s_and_the_processes_recover_when_it_returns(cluster: Cluster) -> None:
    api = cluster.a
    assert api.client.post("/v1/ask", json=QUESTION).status_code == 200

    cluster.chroma.pause()  # connections are accepted, nothing answers: only the timeout saves us
    try:
        assert_store_unavailable(api)
        assert api.client.get("/healthz").status_code == 200  # alive: an orchestrator must not restart it
    finally:
        cluster.chroma.resume()

    cluster.chroma.stop()  # connections are refused
    assert_store_unavailable(api)

    cluster.chroma.start()  # same port, same path: the same collections
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and api.client.get("/readyz").status_code != 200:
        time.sleep(0.5)
    ready = api.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["keyword_index"]["current"] is True
    answer = api.client.post("/v1/ask", json=QUESTION)
    assert answer.status_code == 200, answer.text
    assert cluster.b.wait_ready(timeout_s=30)  # the other process recovered too
