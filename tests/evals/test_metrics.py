"""The ranking metrics, on hand-made rankings whose figures are worked out by hand."""

from __future__ import annotations

import math

import pytest

from evals.metrics import dedupe, evaluate_rankings, percentiles, share

QRELS = {"q1": {"a": 1, "b": 1}, "q2": {"c": 1}, "q3": {"z": 1}}
RANKINGS = {
    "q1": ["b", "x", "a", "y"],  # relevant at ranks 1 and 3 of 2 relevant
    "q2": ["x", "y", "c"],       # relevant at rank 3
    "q3": [],                    # nothing retrieved
}


def test_recall_at_k_counts_relevant_items_in_the_top_k():
    got = evaluate_rankings(QRELS, RANKINGS, ("recall@1", "recall@3", "recall@20"))
    # q1: 1/2, 2/2, 2/2; q2: 0, 1, 1; q3: 0, 0, 0
    assert got["recall@1"] == pytest.approx((0.5 + 0 + 0) / 3)
    assert got["recall@3"] == pytest.approx((1 + 1 + 0) / 3)
    assert got["recall@20"] == pytest.approx(2 / 3)


def test_mrr_is_the_reciprocal_rank_of_the_first_relevant_item():
    got = evaluate_rankings(QRELS, RANKINGS, ("mrr@10", "mrr@2"))
    assert got["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert got["mrr@2"] == pytest.approx((1 + 0 + 0) / 3)  # q2's hit at rank 3 is past the cutoff


def test_ndcg_uses_log2_discounts_and_the_ideal_ranking():
    got = evaluate_rankings(QRELS, RANKINGS, ("ndcg@10",))
    q1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))  # hits at 1 and 3; ideal at 1 and 2
    q2 = (1 / math.log2(4)) / 1.0                           # hit at 3; ideal at 1
    assert got["ndcg@10"] == pytest.approx((q1 + q2 + 0) / 3)


def test_a_query_missing_from_the_run_scores_zero():
    got = evaluate_rankings({"q1": {"a": 1}, "q2": {"b": 1}}, {"q1": ["a"]}, ("recall@1",))
    assert got["recall@1"] == pytest.approx(0.5)


def test_ranx_evaluates_the_order_given_not_alphabetical_or_tied():
    got = evaluate_rankings({"q": {"z": 1}}, {"q": ["z", "a", "b"]}, ("mrr@10",))
    assert got["mrr@10"] == pytest.approx(1.0)
    got = evaluate_rankings({"q": {"a": 1}}, {"q": ["z", "a", "b"]}, ("mrr@10",))
    assert got["mrr@10"] == pytest.approx(0.5)


def test_documents_are_ranked_by_their_best_chunk():
    chunk_docs = ["d2", "d1", "d2", "d3", "d1"]
    assert dedupe(chunk_docs) == ["d2", "d1", "d3"]
    got = evaluate_rankings({"q": {"d1": 1}}, {"q": chunk_docs}, ("mrr@10",))
    assert got["mrr@10"] == pytest.approx(0.5)  # d1 is the second document, not the second chunk only


def test_hit_rate_is_one_when_any_relevant_item_is_in_the_top_k():
    got = evaluate_rankings(QRELS, RANKINGS, ("hit_rate@1", "hit_rate@5"))
    assert got["hit_rate@1"] == pytest.approx(1 / 3)
    assert got["hit_rate@5"] == pytest.approx(2 / 3)


def test_percentiles_and_shares():
    p = percentiles([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    assert p["p50"] == pytest.approx(55.0)
    assert p["p95"] == pytest.approx(95.5)  # numpy's linear interpolation: 90 + 0.55 * 10
    assert percentiles([])["n"] == 0
    assert share([True, False, True, True]) == {"rate": 0.75, "hits": 3, "n": 4}
    assert share([])["rate"] == 0.0
