"""``ctn bench``: the statistics behind every latency table, the report file, and a real short run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import ctn.bench.common
from ctn.bench.paths import DEFAULT_REPORT
from ctn.bench.report import write_section
from ctn.bench.stats import percentile, ratio, summarize
from ctn.cli import app


def test_percentiles_of_one_to_one_hundred_and_one_fall_on_whole_ranks():
    values = list(range(1, 102))  # 101 values: rank (n - 1) * q / 100 is a whole number
    assert percentile(values, 50) == 51
    assert percentile(values, 95) == 96
    assert percentile(values, 99) == 100
    assert percentile(values, 0) == 1
    assert percentile(values, 100) == 101


def test_percentile_interpolates_between_neighbours_and_ignores_input_order():
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
    assert percentile([4, 1, 3, 2], 95) == pytest.approx(3.85)
    assert percentile([10.0, 20.0], 99) == pytest.approx(19.9)
    assert percentile([7.5], 95) == 7.5


def test_percentile_matches_numpys_default_definition():
    data = np.random.default_rng(3).lognormal(3.0, 0.6, size=997).tolist()
    for q in (1, 25, 50, 90, 95, 99, 99.9):
        assert percentile(data, q) == pytest.approx(float(np.percentile(data, q)))


def test_percentile_refuses_no_values_and_out_of_range_ranks():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_reports_the_tail_of_a_latency_sample():
    sample = [10.0] * 90 + [50.0] * 9 + [400.0]
    s = summarize(sample)
    assert s["n"] == 100
    assert s["p50"] == 10.0
    assert s["p95"] == 50.0
    assert s["p99"] == pytest.approx(50.0 + 0.01 * 350.0)
    assert s["max"] == 400.0
    assert s["mean"] == pytest.approx((900 + 450 + 400) / 100)
    assert summarize([])["n"] == 0


def test_ratio_of_a_zero_denominator_is_not_a_number():
    assert ratio(3.0, 2.0) == 1.5
    assert np.isnan(ratio(1.0, 0.0))


def test_rewriting_one_section_keeps_the_others_and_the_prose_around_them(tmp_path):
    report = tmp_path / "benchmarks.md"
    write_section(report, "ask", "## Ask\nfirst")
    write_section(report, "ingest", "## Ingest\nfigures")
    report.write_text(report.read_text() + "\nNotes written by hand.\n")
    write_section(report, "ask", "## Ask\nsecond")
    text = report.read_text()
    assert text.startswith("# Benchmarks")
    assert "second" in text and "first" not in text
    assert text.index("## Ingest") < text.index("## Ask")  # canonical order, whatever the run order
    assert "Notes written by hand." in text
    assert text.count("<!-- bench:ask -->") == 1


def test_bench_ask_runs_end_to_end_and_writes_its_report(make_service, files, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files.faq_markdown(corpus / "faq-borealis.md")
    files.english_utf8_text(corpus / "gondwana-notes.txt")
    service = make_service(tmp_path, corpus_dir=corpus)
    service.log_questions = False
    asked_for = []

    def hand_in(settings):
        asked_for.append(settings)
        return service

    monkeypatch.setattr(ctn.bench.common, "make_service", hand_in)
    before = DEFAULT_REPORT.stat().st_mtime_ns if DEFAULT_REPORT.exists() else None
    report = tmp_path / "out" / "benchmarks.md"

    result = CliRunner().invoke(app, ["bench", "ask", "--n", "5", "--data-dir", str(tmp_path / "data"),
                                      "--corpus", str(corpus), "--report", str(report), "--json"])

    assert result.exit_code == 0, result.output
    assert [s.data_dir for s in asked_for] == [tmp_path / "data"] and asked_for[0].llm == "extractive"
    results = json.loads(result.stdout[result.stdout.index("{"): result.stdout.rindex("}") + 1])
    assert results["n"] == 5
    assert results["total_ms"]["n"] == 5
    assert 0 < results["total_ms"]["p50"] <= results["total_ms"]["p95"] <= results["total_ms"]["p99"]
    assert sum(results["statuses"].values()) == 5
    assert {"retrieve", "answer"} <= set(results["steps_ms"]) or "not_found" in results["statuses"]
    assert results["chunks"] > 0
    text = report.read_text()
    assert "<!-- bench:ask -->" in text and "`ctn bench ask --n 5" in text
    assert "p95" in text and "Load average" in text
    after = DEFAULT_REPORT.stat().st_mtime_ns if DEFAULT_REPORT.exists() else None
    assert after == before  # the tests never touch docs/benchmarks.md
