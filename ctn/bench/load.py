"""``ctn bench load``: simulated users asking the gold questions of a running API, for a fixed time.

Locust runs headless in a subprocess (it patches the standard library with gevent, which must not happen
in this process) with the users of ``ctn/bench/locustfile.py``: each asks a random gold question (with its
conversation history) through ``POST /v1/ask``, waits a think time, and asks again. Each user starts after
a random think time, so the run does not open with every user asking in the same second. The latency of
every request is written back as JSON and summarised here with the same percentile definition as the
other benchmarks; a request is an error when it fails or answers anything but 200.

Several ``--url``s spread the users over several API processes (user i asks ``url[i % n]``), for
processes that have no load balancer in front of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from ctn.bench.paths import GOLD_QUESTIONS
from ctn.bench.report import fmt, run_block, table
from ctn.bench.stats import summarize

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
P95_AIM_MS = 1000.0


def server_facts(url: str) -> dict[str, Any]:
    """What the API says about itself before the run (/readyz): store, index size, database."""
    import httpx

    try:
        body = httpx.get(url.rstrip("/") + "/readyz", timeout=10).json()
    except (httpx.HTTPError, ValueError) as exc:
        return {"url": url, "ready": False, "error": str(exc)}
    checks = body.get("checks", {})
    return {"url": url, "ready": bool(body.get("ready")), "store": checks.get("store", {}).get("mode"),
            "chunks": checks.get("keyword_index", {}).get("chunks"),
            "documents": checks.get("keyword_index", {}).get("documents"),
            "database": checks.get("database", {}).get("backend")}


def run(urls: list[str], users: int, seconds: int, questions_path: Path, think: tuple[float, float],
        command: str, setup: str) -> dict[str, Any]:
    from ctn.bench.common import err, finish_header, load_questions, run_header

    header = run_header(command)
    facts = [server_facts(u) for u in urls]
    not_ready = [f["url"] for f in facts if not f["ready"]]
    if not_ready:
        raise RuntimeError(f"not ready (GET /readyz is not 200): {', '.join(not_ready)}")
    questions = [{"question": q.question, "history": q.history} for q in load_questions(questions_path)]
    with tempfile.TemporaryDirectory(prefix="ctn-load-") as tmp:
        out = Path(tmp) / "results.json"
        env = {**os.environ, "CTN_LOAD_QUESTIONS": json.dumps(questions), "CTN_LOAD_OUT": str(out),
               "CTN_LOAD_THINK": f"{think[0]},{think[1]}", "CTN_LOAD_URLS": json.dumps(urls)}
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
               "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", urls[0], "--only-summary",
               "--stop-timeout", "60", "--loglevel", "WARNING"]
        err.print(f"[dim]{users} users for {seconds} s against {', '.join(urls)} (Locust)[/]")
        started = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 180, cwd=tmp)
        wall = time.perf_counter() - started
        if not out.exists():
            raise RuntimeError(f"Locust wrote no results (exit {done.returncode}): {done.stderr[-2000:]}")
        raw = json.loads(out.read_text(encoding="utf-8"))
    finish_header(header)
    return {"header": header, "setup": setup, "urls": urls, "servers": facts, "users": users, "seconds": seconds,
            "think_s": list(think), "questions": len(questions), "wall_s": wall, **summarize_requests(raw)}


def summarize_requests(raw: dict[str, Any]) -> dict[str, Any]:
    """Throughput, latency percentiles and errors of the raw per-request records."""
    requests = raw.get("requests") or []
    started, stopped = raw.get("started"), raw.get("stopped")
    window = (stopped - started) if started and stopped and stopped > started else 0.0
    failed = [bool(r.get("error") or r.get("status") != 200) for r in requests]
    errors = [r for r, bad in zip(requests, failed, strict=True) if bad]
    latency = summarize([float(r["ms"]) for r in requests])
    ok_latency = summarize([float(r["ms"]) for r, bad in zip(requests, failed, strict=True) if not bad])
    return {
        "requests": len(requests), "errors": len(errors), "window_s": window,
        "rps": len(requests) / window if window else 0.0,
        "latency_ms": latency, "ok_latency_ms": ok_latency,
        "statuses": dict(Counter(str(r.get("status")) for r in requests)),
        "error_examples": sorted({str(r.get("error") or r.get("status")) for r in errors})[:5],
    }


def render(results: dict[str, Any]) -> str:
    lat = results["latency_ms"]
    think = results["think_s"]
    servers = results["servers"]
    first = servers[0] if servers else {}
    saturation = think[1] == 0
    block = run_block(results["header"]).replace(
        "The side-by-side ratios, measured in the same run and interleaved, are the figures to rely on.",
        "Locust itself also runs on this machine. Compare load runs with their load averages in mind.")
    pacing = ("with no wait between questions: a closed loop that measures the server's capacity "
              "(latency is then mostly time spent queueing, not what a user would see)" if saturation else
              f"then waiting {think[0]:g}–{think[1]:g} s (uniform) before the next; each user starts after a "
              "random wait in the same range")
    if saturation:
        verdict = "not applicable to a saturation run"
    else:
        verdict = "**meets**" if results["errors"] == 0 and lat["p95"] < P95_AIM_MS else "**misses**"
    where = ", ".join(f"`{s['url']}`" for s in servers)
    lines = [
        f"## Load: {results['setup']} (`ctn bench load`)",
        "",
        block,
        "",
        f"{results['users']} simulated users for {results['seconds']} s against {where}, each asking a random "
        f"gold question ({results['questions']} questions, with their history) through `POST /v1/ask`, "
        f"{pacing}. Server: store `{first.get('store')}`, {first.get('documents')} documents, "
        f"{first.get('chunks')} chunks, database `{first.get('database')}`. Latency is measured by the "
        "client (Locust, on the same machine), end to end.",
        "",
        table(["requests", "requests/s", "errors", "p50 ms", "p95 ms", "p99 ms", "mean ms", "max ms"],
              [[results["requests"], fmt(results["rps"], 2), results["errors"], fmt(lat["p50"], 0),
                fmt(lat["p95"], 0), fmt(lat["p99"], 0), fmt(lat["mean"], 0), fmt(lat["max"], 0)]]),
        "",
        f"Aim (zero errors, p95 under {P95_AIM_MS:.0f} ms): {verdict}. HTTP statuses: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(results["statuses"].items())) + ".",
    ]
    if results["error_examples"]:
        lines += ["", "Errors seen: " + "; ".join(f"`{e}`" for e in results["error_examples"])]
    return "\n".join(lines)


def command(
    urls: Annotated[list[str], typer.Option("--url", help="Base URL of a running API (repeatable: users are "
                                            "spread over several processes).")],
    users: Annotated[int, typer.Option("--users", min=1, help="Simulated users.")] = 50,
    seconds: Annotated[int, typer.Option("--seconds", min=1, help="How long the users ask.")] = 60,
    think: Annotated[tuple[float, float], typer.Option("--think", help="Seconds a user waits between questions "
                                                       "(min max).")] = (1.0, 5.0),
    setup: Annotated[str, typer.Option("--setup", help="What is being measured, for the report's title "
                                       "(e.g. 'one API process').")] = "one API process",
    name: Annotated[str, typer.Option("--name", help="Report section to rewrite (load-NAME).")] = "default",
    questions: Annotated[Path, typer.Option("--questions", help="Gold questions YAML.")] = GOLD_QUESTIONS,
    report: Annotated[Path | None, typer.Option("--report", help="Markdown file to add this run's section "
                                                "to (default: print only).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Also print the raw results as JSON.")] = False,
) -> None:
    """N simulated users asking the gold questions of a running API for a fixed time (Locust, headless):
    requests/s, p50/p95/p99 latency and errors."""
    from rich.markdown import Markdown

    from ctn.bench.commands import _command, _finish, console

    if think[0] < 0 or think[1] < think[0]:
        raise typer.BadParameter("--think takes MIN MAX with 0 <= MIN <= MAX")
    parts: list[object] = ["load", *[x for u in urls for x in ("--url", u)], "--users", users, "--seconds", seconds,
                           "--think", think[0], think[1]]
    results = run(urls, users, seconds, questions, think, _command(*parts), setup)
    markdown = render(results)
    if report is not None:
        _finish(f"load-{name}", results, markdown, report, as_json)
    elif as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    else:
        console.print(Markdown(markdown))
    if results["requests"] == 0:
        raise typer.Exit(code=1)
