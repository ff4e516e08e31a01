"""The Locust user of ``ctn bench load``: asks the gold questions through ``POST /v1/ask``.

Run by ``ctn bench load`` in a Locust subprocess (Locust patches the standard library with gevent, which
must not happen inside the ``ctn`` process). Settings come from the environment:
``CTN_LOAD_QUESTIONS`` (a JSON list of {question, history}), ``CTN_LOAD_THINK`` ("MIN,MAX" seconds a
user waits between questions) and ``CTN_LOAD_OUT`` (where the raw results are written as JSON:
every request's latency and outcome, and the start and end of the run) and ``CTN_LOAD_URLS`` (a JSON
list of base URLs the users are spread over).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from typing import Any

import gevent
from locust import HttpUser, between, events, task

QUESTIONS: list[dict[str, Any]] = json.loads(os.environ.get("CTN_LOAD_QUESTIONS") or "[]") or [
    {"question": "Qual è la dotazione finanziaria dell'avviso del 2012?", "history": []}]
THINK_MIN, THINK_MAX = (float(x) for x in (os.environ.get("CTN_LOAD_THINK") or "1,3").split(","))
OUT = os.environ.get("CTN_LOAD_OUT")
URLS: list[str] = json.loads(os.environ.get("CTN_LOAD_URLS") or "[]")
_started_users = itertools.count()

RESULTS: dict[str, Any] = {"requests": [], "started": None, "stopped": None}


@events.test_start.add_listener
def _started(**_: Any) -> None:
    RESULTS["started"] = time.time()


@events.test_stop.add_listener
def _stopped(**_: Any) -> None:
    RESULTS["stopped"] = time.time()


@events.request.add_listener
def _request(name: str, response_time: float, exception: BaseException | None = None,
             response: Any = None, **_: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    RESULTS["requests"].append({"t": time.time(), "ms": float(response_time), "status": int(status),
                                "error": None if exception is None else f"{type(exception).__name__}: {exception}"[:300],
                                "name": name})


@events.quitting.add_listener
def _write(**_: Any) -> None:
    if OUT:
        with open(OUT, "w", encoding="utf-8") as fh:
            json.dump(RESULTS, fh)


class GoldQuestionUser(HttpUser):
    """One person using the assistant: asks a gold question, reads the answer, asks another."""

    wait_time = between(THINK_MIN, THINK_MAX)

    def on_start(self) -> None:
        if URLS:  # several API processes and no load balancer: spread the users over them
            self.client.base_url = URLS[next(_started_users) % len(URLS)].rstrip("/")
        # People do not all press Enter in the same second: start each user after a random think time.
        gevent.sleep(random.uniform(0, THINK_MAX))

    @task
    def ask(self) -> None:
        item = random.choice(QUESTIONS)
        with self.client.post("/v1/ask", json={"question": item["question"], "history": item.get("history") or []},
                              name="POST /v1/ask", catch_response=True, timeout=60) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            elif not response.json().get("answer_id"):
                response.failure("no answer_id in the answer")
