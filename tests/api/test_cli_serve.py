"""``ctn serve`` as a user runs it: a subprocess on an empty data dir ingests the corpus, then serves."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import REPO_ROOT, free_port, small_corpus


@pytest.mark.slow
def test_serve_ingests_an_empty_store_then_answers(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "corpus")
    port = free_port()
    env = {**os.environ, "CTN_DATA_DIR": str(tmp_path / "data"), "CTN_CORPUS_DIR": str(corpus),
           "CTN_ADMIN_API_KEY": "k", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "ctn"), "serve", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(url + "/readyz", timeout=5)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert ready is not None and ready.status_code == 200, output
        assert "The store is empty: ingesting" in output and "added 2" in output
        answer = httpx.post(url + "/v1/ask", json={"question": "How many quokka laboratories did Tapir fund?"},
                            timeout=60).json()
        assert answer["status"] == "answered" and "73" in answer["answer"]
        assert httpx.get(url + "/healthz").json() == {"status": "ok"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
