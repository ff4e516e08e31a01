"""Hybrid retrieval (BM25 + dense + glossary + act steering) over the real sample corpus."""

from __future__ import annotations

import pytest

from ctn.service import AssistantService
from rag.index import Filters
from rag.models import StoredChunk
from rag.retrieval import HybridRetriever, RetrievalConfig
from tests.fixtures.store_checks import active_ids


def doc_ids(chunks: list[StoredChunk]) -> list[str]:
    return [c.document_id for c in chunks]


def founders_chunk_rank(chunks: list[StoredChunk]) -> int | None:
    """Rank of the CTNA profile's "Soci fondatori" passage (the only text naming the founders)."""
    for rank, c in enumerate(chunks):
        if c.document_id == "cluster-ctna-aerospazio" and "fondatori" in c.text:
            return rank
    return None


def retriever_without_glossary(service: AssistantService) -> HybridRetriever:
    """The same real index, store and model, with the glossary switched off at construction."""
    return HybridRetriever(service.index, service.store, service.embedder, service.settings,
                           RetrievalConfig(use_glossary=False))


# --- the right document for Italian and English questions ------------------------------------------------

@pytest.mark.parametrize("question", [
    "dotazione dell'avviso del 2012",
    "Qual è la dotazione finanziaria dell'avviso del 2012?",
])
def test_italian_question_on_the_2012_budget_finds_the_2012_notice_in_top_3(
        rag_service: AssistantService, question: str) -> None:
    top = doc_ids(rag_service.retriever.search(question, k=3))
    assert "dd-257-ric-2012-avviso" in top, top


@pytest.mark.parametrize("question", [
    "deadline of the 2016 notice",
    "What was the deadline of the 2016 notice?",
])
def test_english_question_on_the_2016_deadline_finds_a_dd_1610_or_1654_document_in_top_3(
        rag_service: AssistantService, question: str) -> None:
    top = doc_ids(rag_service.retriever.search(question, k=3))
    assert any(d.startswith(("dd-1610-", "dd-1654-")) for d in top), top


def test_english_question_on_the_2012_budget_finds_a_document_about_the_2012_notice_first(
        rag_service: AssistantService) -> None:
    top = rag_service.retriever.search("What was the total budget of the 2012 notice?", k=3)
    assert top[0].metadata.get("act_key") == "DD:257", doc_ids(top)


# --- glossary: English questions reaching Italian-only text ----------------------------------------------

def test_english_question_on_the_ctna_founders_finds_the_italian_profile_in_top_3(
        rag_service: AssistantService) -> None:
    top = rag_service.retriever.search("Who were the founders of the aerospace cluster CTNA?", k=3)
    assert "cluster-ctna-aerospazio" in doc_ids(top), doc_ids(top)
    assert top[0].metadata.get("language") == "it"


def test_glossary_translates_founders_into_the_italian_stems_of_the_profile(rag_service: AssistantService) -> None:
    plan = rag_service.retriever.plan("Who were the founders of the aerospace cluster CTNA?", "en")
    assert {"fondator", "aerospaz"} <= set(plan.terms), plan.terms
    assert plan.weights["fondator"] < plan.weights["founder"]  # expansions weigh less than the user's words
    assert plan.cluster_keys == ["CTNA"]
    plain = retriever_without_glossary(rag_service).plan("Who were the founders of the aerospace cluster CTNA?", "en")
    assert "fondator" not in plain.terms


@pytest.mark.parametrize("question", [
    "Who founded the aerospace cluster?",
    "founders of the aerospace cluster",
])
def test_glossary_is_what_brings_the_italian_founders_passage_to_an_english_question(
        rag_service: AssistantService, question: str) -> None:
    with_glossary = rag_service.retriever.search(question, k=5)
    without = retriever_without_glossary(rag_service).search(question, k=5)
    assert founders_chunk_rank(with_glossary) is not None and founders_chunk_rank(with_glossary) < 3, \
        doc_ids(with_glossary)
    assert founders_chunk_rank(without) is None, doc_ids(without)


def test_per_call_config_without_glossary_turns_the_glossary_off(rag_service: AssistantService) -> None:
    """``search(config=RetrievalConfig(use_glossary=False))`` must behave like a retriever built with
    that config: the evaluation harness's "hybrid, no glossary" ablation relies on it."""
    question = "Who founded the aerospace cluster?"
    per_call = rag_service.retriever.search(question, k=5, config=RetrievalConfig(use_glossary=False))
    built = retriever_without_glossary(rag_service).search(question, k=5)
    assert [c.chunk_id for c in per_call] == [c.chunk_id for c in built]


# --- act references steer retrieval ----------------------------------------------------------------------

def test_naming_dd_1654_puts_dd_1654_documents_first(rag_service: AssistantService) -> None:
    top = rag_service.retriever.search("DD 1654", k=5)
    assert all(c.metadata.get("act_key") == "DD:1654" for c in top), [(c.document_id, c.score) for c in top]


def test_a_question_naming_dd_1654_is_steered_to_that_act(rag_service: AssistantService) -> None:
    question = "Che cosa ha modificato il DD 1654?"
    top = rag_service.retriever.search(question, k=3)
    assert top[0].document_id.startswith("dd-1654-"), doc_ids(top)
    assert rag_service.retriever.plan(question, "it").act_keys == ["DD:1654"]


@pytest.mark.parametrize("question", ["DM 298/2021", "What does DM 298/2021 approve?"])
def test_naming_dm_298_of_2021_puts_dm_298_documents_first(rag_service: AssistantService, question: str) -> None:
    top = rag_service.retriever.search(question, k=3)
    assert all(c.document_id.startswith("dm-298-") for c in top), doc_ids(top)


def test_act_boost_raises_the_named_act_above_unboosted_scores(rag_service: AssistantService) -> None:
    question = "What did DD 1654 change?"
    boosted = rag_service.retriever.search(question, k=10)
    plain = rag_service.retriever.search(question, k=10, config=RetrievalConfig(use_acts=False))
    boosted_score = {c.chunk_id: c.score for c in boosted if c.metadata.get("act_key") == "DD:1654"}
    plain_score = {c.chunk_id: c.score for c in plain}
    common = set(boosted_score) & set(plain_score)
    assert common
    for cid in common:
        assert boosted_score[cid] == pytest.approx(plain_score[cid] + RetrievalConfig().act_boost, abs=1e-4)


# --- metadata filters --------------------------------------------------------------------------------------

FILTERS = [
    (Filters(doc_type=["decree"]), lambda m: m["doc_type"] == "decree"),
    (Filters(doc_type=["notice", "faq"]), lambda m: m["doc_type"] in ("notice", "faq")),
    (Filters(language="en"), lambda m: m.get("doc_language", m["language"]) == "en"),
    (Filters(language="it"), lambda m: m.get("doc_language", m["language"]) == "it"),
    (Filters(year=2016), lambda m: int(m["year"]) == 2016),
    (Filters(act="DD 1654"), lambda m: m.get("act_key") == "DD:1654"),
    (Filters(act="DD:1610"), lambda m: m.get("act_key") == "DD:1610"),
    (Filters(act="D.D. n. 257/Ric del 30 maggio 2012"), lambda m: m.get("act_key") == "DD:257"),
    (Filters(document_id=["cluster-ctna-aerospazio"]), lambda m: m["document_id"] == "cluster-ctna-aerospazio"),
    (Filters(doc_type=["notice"], year=2012), lambda m: m["doc_type"] == "notice" and int(m["year"]) == 2012),
]


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
@pytest.mark.parametrize(("filters", "matches"), FILTERS, ids=lambda v: repr(v) if isinstance(v, Filters) else "")
def test_filtered_search_returns_only_chunks_matching_the_filter(
        rag_service: AssistantService, filters: Filters, matches, mode: str) -> None:
    found = rag_service.retriever.search("scadenza per la presentazione delle domande", k=10, filters=filters,
                                         config=RetrievalConfig(mode=mode))
    assert found, f"{filters} found nothing in {mode} mode"
    wrong = [(c.document_id, c.metadata.get("doc_type"), c.metadata.get("year"), c.metadata.get("act_key"))
             for c in found if not matches(c.metadata)]
    assert not wrong


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_selective_filter_still_fills_k_from_the_matching_chunks(rag_service: AssistantService, mode: str) -> None:
    """The dense side over-fetches and filters in process; with enough matching chunks the caller still
    gets k of them, not fewer."""
    snap = rag_service.index.snapshot
    filters = Filters(document_id=["cluster-ctna-aerospazio"])
    available = int(snap.mask(filters).sum())
    found = rag_service.retriever.search("cluster", k=8, filters=filters, config=RetrievalConfig(mode=mode))
    assert len(found) == min(8, available)
    assert {c.document_id for c in found} == {"cluster-ctna-aerospazio"}


def test_filter_from_the_api_form_matches_the_typed_filter(rag_service: AssistantService) -> None:
    typed = rag_service.retriever.search("deadline", k=6, filters=Filters(doc_type=["faq"], year=2016))
    from_dict = rag_service.retriever.search("deadline", k=6,
                                             filters=Filters.from_dict({"doc_type": "faq", "year": "2016"}))
    assert [c.chunk_id for c in typed] == [c.chunk_id for c in from_dict]


@pytest.mark.parametrize("filters", [Filters(year=1999), Filters(document_id=["no-such-document"]),
                                     Filters(act="DD 9999")])
def test_filter_that_matches_nothing_returns_nothing(rag_service: AssistantService, filters: Filters) -> None:
    assert rag_service.retriever.search("deadline of the notice", k=5, filters=filters) == []


def test_filtered_search_leaves_later_unfiltered_searches_unchanged(rag_service: AssistantService) -> None:
    question = "Qual è la dotazione dell'avviso del 2012?"
    before = [c.chunk_id for c in rag_service.retriever.search(question, k=8)]
    rag_service.retriever.search(question, k=8, filters=Filters(doc_type=["faq"], language="en"))
    after = [c.chunk_id for c in rag_service.retriever.search(question, k=8)]
    assert before == after


# --- modes -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_retrieval_mode_returns_ranked_results(rag_service: AssistantService, mode: str) -> None:
    found = rag_service.retriever.search("Qual è la dotazione dell'avviso del 2012?", k=5,
                                         config=RetrievalConfig(mode=mode))
    assert len(found) == 5
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
    assert len({c.chunk_id for c in found}) == 5
    if mode == "bm25":
        assert all(c.scores["bm25"] > 0 for c in found)
    if mode == "dense":
        assert all(c.scores["dense"] > 0 for c in found)


def test_bm25_mode_finds_nothing_for_words_no_document_contains(rag_service: AssistantService) -> None:
    assert rag_service.retriever.search("xylophone zzyzx", k=5, config=RetrievalConfig(mode="bm25")) == []


# --- the keyword snapshot and the Chroma collection ------------------------------------------------------

def test_keyword_snapshot_holds_exactly_the_active_chunks_of_chroma(rag_service: AssistantService) -> None:
    snap = rag_service.index.snapshot
    assert len(snap.ids) == len(set(snap.ids))
    assert set(snap.ids) == active_ids(rag_service)
    assert len(snap) == rag_service.store.count()
    assert snap.stamp == rag_service.store.stamp()
    assert set(snap.docs) == set(rag_service.store.documents())


def test_snapshot_text_of_every_chunk_is_the_text_stored_in_chroma(rag_service: AssistantService) -> None:
    snap = rag_service.index.snapshot
    stored = {c.chunk_id: c.text for c in rag_service.store.get_chunks(snap.ids)}
    assert {cid: snap.texts[i] for i, cid in enumerate(snap.ids)} == stored


def test_prefetched_question_vectors_are_the_ones_a_search_would_compute(rag_service) -> None:
    """The parts of a multi-part question are embedded in one batch; each equals its own embedding."""
    import numpy as np

    retriever = rag_service.retriever
    queries = ["Chi coordina SmartCommunitiesTech?", "Quando è stato lanciato il cluster? (SmartCommunitiesTech)"]
    for q in queries:
        retriever._vectors.pop(q, None)
    retriever.prefetch_vectors(queries)
    for q in queries:
        assert q in retriever._vectors
        np.testing.assert_allclose(retriever._vectors[q], rag_service.embedder.embed_query(q), atol=1e-5)


# --- cognates: the word-prefix index -----------------------------------------------------------------------

def test_word_prefixes_are_shared_by_italian_and_english_cognates() -> None:
    from rag.text_analysis import prefixes

    assert set(prefixes("le proposte al Ministero")) & set(prefixes("the proposals to the ministry")) == \
        {"propo", "minis"}


def test_the_cognate_index_is_built_with_the_snapshot_and_its_matches_can_end_a_result(
        rag_service: AssistantService) -> None:
    from rag.text_analysis import prefixes

    snap = rag_service.index.snapshot
    assert snap.cognates is not None and snap.cognates.size == len(snap)
    query = "By what time did the proposals have to reach the ministry in 2012?"
    found = rag_service.retriever.search(query, k=10, config=RetrievalConfig(cognate_extra=2))
    fused = rag_service.retriever.search(query, k=10)  # a plain search keeps fusion's ranking
    scores = snap.cognates.scores(prefixes(query))
    best = {snap.ids[i] for i in scores.argsort()[::-1][:8] if scores[i] > 0}
    # the fused ranking's first eight stay first; the last places go to strong cognate matches not yet in it
    assert [c.chunk_id for c in found[:8]] == [c.chunk_id for c in fused[:8]]
    extra = [c.chunk_id for c in found[8:] if c.chunk_id not in {f.chunk_id for f in fused}]
    assert extra and set(extra) <= best
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
