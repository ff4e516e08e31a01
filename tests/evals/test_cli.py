"""``ctn eval squad`` end to end: a real store built through the product's store and index, real
retrieval in every configuration, the real answer pipeline; then the same store reused."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import evals.cli
from ctn.cli import app


@pytest.fixture
def eval_service(make_service, tmp_path, monkeypatch):
    service = make_service(tmp_path)
    monkeypatch.setattr(evals.cli, "make_service", lambda: service)
    return service


def run_squad(*args: str) -> dict:
    result = CliRunner().invoke(app, ["eval", "squad", "--subset", "20", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_eval_squad_subset_runs_end_to_end_and_reuses_its_store(eval_service, tmp_path):
    # 50 paragraphs instead of 2,010 keep the embedding within the test budget; they hold the
    # paragraphs of the first 20 questions.
    first = run_squad("--passages", "50")
    assert first["queries"] == 20 and first["passages"] == 50
    assert first["store"]["reused"] is False
    assert (tmp_path / "data" / "bench" / "squad-it-first50" / "chroma").is_dir()
    assert set(first["configs"]) == {"BM25", "dense", "hybrid (default)"}
    for config in first["configs"].values():
        metrics = config["metrics"]
        assert set(metrics) == {"recall@1", "recall@5", "recall@20", "mrr@10"}
        assert 0.0 <= metrics["recall@1"] <= metrics["recall@5"] <= metrics["recall@20"] <= 1.0
    assert first["configs"]["hybrid (default)"]["metrics"]["recall@20"] >= 0.8
    answers = first["answers"]
    assert answers["questions"] == 20
    assert sum(answers["statuses"].values()) == 20
    assert 0 < answers["contains_gold_span"]["hits"] <= answers["answered"]["hits"]

    second = run_squad("--passages", "50", "--no-answers")
    assert second["store"]["reused"] is True
    assert second["configs"]["BM25"]["metrics"] == first["configs"]["BM25"]["metrics"]
    assert "answers" not in second
