"""rag.followup (rewriting elliptical follow-ups) and rag.glossary (cross-lingual expansion, act and
cluster names)."""

from __future__ import annotations

import pytest

from rag.followup import needs_context, rewrite, subject_of
from rag.glossary import Glossary

# --- follow-up -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "history", "expected"), [
    ("E la scadenza?", ["Qual è la dotazione dell'avviso del 2012?"], "E la scadenza? (avviso del 2012)"),
    ("And the deadline?", ["What was the budget of DD 1610/2016?"], "And the deadline? (DD 1610/2016)"),
    ("Quanto valeva?", ["Parlami del cluster CTNA", "ciao"], "Quanto valeva? (CTNA)"),
])
def test_elliptical_follow_up_gets_the_subject_of_the_latest_question_that_had_one(
        question: str, history: list[str], expected: str) -> None:
    rewritten = rewrite(question, history)
    assert rewritten is not None and rewritten.startswith(question + " (")
    subject = expected[len(question) + 2:-1]
    assert subject in rewritten


def test_follow_up_without_any_subject_in_history_gets_the_last_question() -> None:
    assert rewrite("And how much funding?", ["hello there", "tell me more please"]) == \
        "And how much funding? (tell me more please)"


def test_question_with_its_own_subject_is_not_rewritten() -> None:
    history = ["Qual è la dotazione dell'avviso del 2012?"]
    assert rewrite("What was the deadline of the 2016 notice?", history) is None
    assert rewrite("Qual era la scadenza del DD 1654?", history) is None


def test_nothing_is_rewritten_without_history() -> None:
    assert rewrite("E la scadenza?", []) is None


def test_short_or_elliptical_questions_need_context() -> None:
    assert needs_context("E la scadenza?")
    assert needs_context("And the deadline?")
    assert needs_context("quanto?")
    assert not needs_context("What was the total budget of the 2012 notice for the clusters?")


@pytest.mark.parametrize("question", [
    "What's its protocol number, and who signed it?",
    "Chi lo ha firmato e in quale data è stato pubblicato l'atto?",
    "Quanti soci ha la sua fondazione oggi, secondo i documenti disponibili?",
])
def test_a_long_question_pointing_back_with_a_pronoun_needs_context(question: str) -> None:
    assert needs_context(question)
    assert rewrite(question, ["When was the ministerial note with the guidelines issued?"]) is not None


def test_a_long_question_without_a_pronoun_or_ellipsis_stands_alone() -> None:
    assert not needs_context("What did the call for projects in the specialisation areas finance in the end?")


def test_subject_collects_acts_years_aliases_and_acronyms() -> None:
    found = subject_of("What did DD 257/Ric of 30 May 2012 provide for CTNA?")
    for part in ("DD 257/Ric", "2012", "CTNA"):
        assert any(part in f for f in found), found
    assert any("avviso del 2012" in f for f in subject_of("Qual è la dotazione dell'avviso del 2012?"))


# --- glossary ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def test_english_words_expand_to_the_italian_stems_and_english_synonyms(glossary: Glossary) -> None:
    stems = glossary.expansions("Who were the founders of the cluster?", "en")
    assert {"fondator", "costitu"} <= set(stems)  # Italian: fondatori, costituito
    assert {"found", "establish"} <= set(stems)  # English synonyms


def test_italian_words_expand_to_the_english_stems(glossary: Glossary) -> None:
    stems = glossary.expansions("Qual è la dotazione del bando?", "it")
    assert {"budget", "notic"} <= set(stems)


@pytest.mark.parametrize(("elided", "plain"), [
    ("Qual è la dotazione dell'avviso?", "Qual è la dotazione del bando?"),
    ("Chi sono i soci dell'associazione?", "Chi sono i soci della associazione?"),
    ("Quando scadeva l'avviso?", "Quando scadeva il bando?"),
])
def test_italian_elided_article_does_not_hide_a_glossary_term(glossary: Glossary, elided: str, plain: str) -> None:
    """Italian writes "dell'avviso", "l'associazione": the noun after the apostrophe is still the
    glossary's term and must be expanded as it is after a full article."""
    assert set(glossary.expansions(plain, "it")) <= set(glossary.expansions(elided, "it"))


def test_question_without_glossary_terms_expands_to_nothing(glossary: Glossary) -> None:
    assert glossary.expansions("xylophone quokka", "en") == []


@pytest.mark.parametrize(("question", "keys"), [
    ("What was the deadline of the 2016 notice?", ["DD:1610"]),
    ("Qual è la dotazione dell'avviso del 2012?", ["DD:257"]),
    ("Che cosa ha cambiato il DD 1654 rispetto al bando 2016?", ["DD:1654", "DD:1610"]),
    ("What does DM 298/2021 approve?", ["DM:298"]),
    ("Who founded the cluster?", []),
])
def test_act_aliases_and_references_name_the_act(glossary: Glossary, question: str, keys: list[str]) -> None:
    assert glossary.act_keys(question) == keys


@pytest.mark.parametrize(("question", "keys"), [
    ("Who were the founders of the aerospace cluster CTNA?", ["CTNA"]),
    ("Chi guida il cluster della chimica verde?", ["SPRING"]),
    ("What does the blue growth cluster do?", ["BIG"]),
    ("Who leads Cl.A.N.?", ["CL.A.N."]),
    ("What is a tavolo tecnico?", []),  # "tav" only as a whole word
])
def test_cluster_names_in_either_language_give_the_cluster_key(
        glossary: Glossary, question: str, keys: list[str]) -> None:
    assert glossary.cluster_keys(question) == keys
