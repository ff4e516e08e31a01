"""``ctn bench load`` as a user runs it: Locust users asking a real API process, a report section written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ctn.bench.load import render, summarize_requests
from tests.scale.conftest import Cluster
from tests.scale.servers import VENV_BIN

pytestmark = pytest.mark.slow


def test_bench_load_runs_locust_users_against_a_server_and_adds_its_section(cluster: Cluster,
                                                                             tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\n<!-- bench:ask -->\nsomeone else's table\n<!-- /bench:ask -->\n")
    done = subprocess.run(
        [str(VENV_BIN / "ctn"), "bench", "load", "--url", cluster.a.url, "--url", cluster.b.url, "--users", "5",
         "--seconds", "5", "--think", "0.2", "1", "--setup", "smoke test", "--name", "smoke", "--report", str(report),
         "--json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert results["requests"] >= 5 and results["errors"] == 0, results
    assert results["rps"] > 0 and 0 < results["latency_ms"]["p50"] <= results["latency_ms"]["p99"]
    assert [s["store"] for s in results["servers"]] == ["server", "server"]
    text = report.read_text()
    assert text.index("someone else's table") < text.index("<!-- bench:load-smoke -->")  # added after, not over
    assert "## Load: smoke test" in text and "requests/s" in text and "p95 ms" in text


def test_load_summary_counts_non_200_answers_as_errors() -> None:
    raw = {"started": 100.0, "stopped": 110.0, "requests": [
        {"ms": 100.0, "status": 200, "error": None}, {"ms": 300.0, "status": 200, "error": None},
        {"ms": 5.0, "status": 503, "error": "CatchResponseError: HTTP 503"},
        {"ms": 60000.0, "status": 0, "error": "ReadTimeout"}]}
    summary = summarize_requests(raw)
    assert summary["requests"] == 4 and summary["errors"] == 2 and summary["rps"] == pytest.approx(0.4)
    assert summary["ok_latency_ms"]["max"] == 300.0 and summary["statuses"] == {"200": 2, "503": 1, "0": 1}
    header = {"command": "ctn bench load", "date": "today", "machine": {"cpu": "cpu", "cores": 2, "ram_gib": 1,
              "os": "Linux", "python": "3"}, "software": {}, "load_start": {"text": "0.1"}, "load_end": {"text": "0.2"}}
    text = render({**summary, "header": header, "setup": "unit", "servers": [], "users": 4, "seconds": 10,
                   "think_s": [1.0, 2.0], "questions": 3})
    assert "**misses**" in text and "ReadTimeout" in text
