"""The report: every table of a real run's results (tests/evals/data, answer rows left out) and the plot."""

from __future__ import annotations

import json
from pathlib import Path

from evals.report import write_report

SAMPLE = Path(__file__).parent / "data" / "results-sample.json"


def test_the_report_has_every_table_and_the_plot(tmp_path):
    results = json.loads(SAMPLE.read_text(encoding="utf-8"))
    markdown, image = write_report(results, tmp_path / "docs" / "evals.md")
    text = markdown.read_text(encoding="utf-8")
    assert image == tmp_path / "docs" / "img" / "retrieval-comparison.png"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![Retrieval comparison](img/retrieval-comparison.png)" in text
    machine = results["meta"]["machine"]
    assert machine["cpu"] in text and f"{machine['cores']} cores" in text and results["meta"]["date"] in text
    for heading in ("## Gold set", "### Retrieval", "### Answers", "## BEIR SciFact", "## SQuAD-it", "## Time taken"):
        assert heading in text
    for row in ("| BM25 |", "| dense |", "| hybrid (default) |", "| LangChain (Chroma, k=4) |",
                "| published: BM25 (BEIR paper) | 0.665 |", "| published: all-MiniLM-L6-v2 (MTEB) | 0.645 |",
                "key-fact accuracy (answer text only)", "refusal accuracy", "false-refusal rate",
                "language match", "answer contains a gold span", "| retrieve |", "| total |"):
        assert row in text, row
