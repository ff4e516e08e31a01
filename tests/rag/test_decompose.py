"""Multi-part questions: how they are split, and that each part is answered (or said missing) on its own."""

from __future__ import annotations

import pytest

from rag.decompose import decompose, strip_meta
from rag.evidence import answer_type
from tests.rag.conftest import AskFn


def texts(question: str) -> list[str]:
    return [p.text for p in decompose(question)]


@pytest.mark.parametrize("question", [
    "Qual è la dotazione dell'avviso del 2012?",
    "Which clusters were admitted, which admitted none for energy?",  # a relative clause, not a question
    "Le Regioni e le università potevano partecipare?",  # coordinated nouns, one question
    "When and where?",  # nothing but question words: nothing to split into
])
def test_a_question_that_asks_one_thing_is_one_part(question: str) -> None:
    parts = decompose(question)
    assert len(parts) == 1
    assert parts[0].text == parts[0].query == question


def test_conjunction_before_a_question_word_splits_in_italian_and_english() -> None:
    assert texts("Chi coordina SmartCommunitiesTech e quando è stato lanciato il cluster?") == [
        "Chi coordina SmartCommunitiesTech?", "Quando è stato lanciato il cluster?"]
    assert texts("How much was the DD 1735 call worth, and how many projects had it financed by March 2021?") == [
        "How much was the DD 1735 call worth?", "How many projects had it financed by March 2021?"]


def test_a_later_part_inherits_the_subject_it_leaves_implicit() -> None:
    parts = decompose("Chi coordina SmartCommunitiesTech e quando è stato lanciato il cluster?")
    assert "SmartCommunitiesTech" in parts[1].query
    parts = decompose("How much was the DD 1735 call worth, and how many projects had it financed by March 2021?")
    assert "DD 1735" in parts[1].query


def test_a_part_with_its_own_act_or_year_does_not_inherit_another() -> None:
    parts = decompose("Quanto valeva l'avviso cluster del 2012 e quanto quello del 2016 per i quattro nuovi cluster?")
    assert "2012" not in parts[1].query
    parts = decompose("Which Directorate-General issued the 2012 notice, and which one issued the 2016 notice DD 1610?")
    assert parts[1].query == parts[1].text


def test_an_elliptical_part_takes_the_nearest_full_part_as_context() -> None:
    parts = decompose("Entro quanto tempo i cluster dovevano chiedere il riconoscimento previsto dal DL 91/2017, "
                      "e in quale forma?")
    assert parts[1].text == "In quale forma?"
    assert "riconoscimento" in parts[1].query and "91/2017" in parts[1].query
    parts = decompose("When and where was the Cluster Trasporti Italia 2020 association set up?")
    assert parts[0].text == "When?" and "Trasporti Italia 2020" in parts[0].query


def test_comparison_splits_into_the_two_things_compared() -> None:
    parts = texts("How does the maximum aid per cluster under the 2016 notice compare with the lump sum per cluster "
                  "under article 3-bis of decree-law 91/2017?")
    assert parts == ["What is the maximum aid per cluster under the 2016 notice?",
                     "What is the lump sum per cluster under article 3-bis of decree-law 91/2017?"]


def test_two_coordinated_acts_give_one_part_each() -> None:
    parts = texts("Quando sono stati emanati l'avviso per i nuovi cluster (DD 1610) e l'avviso per i progetti "
                  "nelle 12 aree di specializzazione (DD 1735)?")
    assert len(parts) == 2 and "1610" in parts[0] and "1735" in parts[1]
    assert all(p.startswith("Quando sono stati emanati") for p in parts)


def test_who_asks_and_what_to_reply_are_not_parts_of_the_question() -> None:
    assert strip_meta("Un utente chiede quanti sono i cluster. Cosa gli diciamo?") == "Quanti sono i cluster."
    assert strip_meta("Un giornalista ci scrive: quali aziende hanno promosso SPRING?") == (
        "Quali aziende hanno promosso SPRING?")
    assert strip_meta("Who pays the costs? What should I tell them?") == "Who pays the costs?"
    parts = texts("A journalist asks us what legal form the ALISEI cluster has and when it was set up. "
                  "What can I tell her?")
    assert parts == ["What legal form the ALISEI cluster has?", "When it was set up?"]


def test_two_questions_in_a_row_are_two_parts() -> None:
    parts = decompose("Il decreto di modifica è uscito prima o dopo l'apertura delle domande? Con quali date?")
    assert [p.text for p in parts] == ["Il decreto di modifica è uscito prima o dopo l'apertura delle domande?",
                                       "Con quali date?"]
    assert "decreto di modifica" in parts[1].query


def test_each_part_keeps_its_own_answer_type() -> None:
    kinds = [answer_type(p) for p in texts("Chi guida il cluster TICHE e quanti membri ha la sua fondazione?")]
    assert kinds == ["who", "count"]
    assert answer_type("Ogni quanto va aggiornato il Piano?") == "duration"
    assert answer_type("Entro quanto tempo va chiesto il riconoscimento?") == "duration"


# --- through the pipeline, over the real corpus ------------------------------------------------------------

def test_both_parts_of_a_two_part_question_are_answered_with_their_own_quotes(ask: AskFn) -> None:
    answer = ask("Chi ha promosso il cluster SPRING e quando è stata costituita l'associazione?")
    assert answer.status == "answered"
    assert "Federchimica" in answer.answer and "2014" in answer.answer
    assert "Made in Italy" not in answer.answer  # another cluster's founding date is not an answer


def test_a_part_the_documents_do_not_answer_is_named_and_the_rest_still_answered(ask: AskFn) -> None:
    answer = ask("Quando è stato fondato il CTNA e qual è il suo indirizzo PEC?")
    assert answer.status == "answered"
    assert "25 settembre 2012" in answer.answer
    assert "Su “Qual è il suo indirizzo PEC” i documenti disponibili non dicono nulla." in answer.answer
    english = ask("When was CTNA founded, and what is its phone number?")
    assert "On “What is its phone number” the documents available say nothing." in english.answer


def test_a_multi_part_question_that_nothing_answers_is_not_found(ask: AskFn) -> None:
    answer = ask("Qual è il numero di telefono dell'ufficio e qual è il suo indirizzo PEC?")
    assert answer.status == "not_found"
    assert not answer.citations


def test_comparison_quotes_both_figures(ask: AskFn) -> None:
    answer = ask("How does the maximum aid per cluster under the 2016 notice compare with the lump sum per cluster "
                 "under article 3-bis of decree-law 91/2017?")
    assert answer.status == "answered"
    assert "700,000" in answer.answer or "700.000" in answer.answer
    assert "242,500" in answer.answer or "242.500" in answer.answer


def test_a_quote_from_an_overview_gives_way_to_the_act_that_states_the_same_figure(ask: AskFn) -> None:
    answer = ask("Qual è la dotazione dell'avviso del 2012?")
    first = answer.citations[0]
    assert first.document_id == "dd-257-ric-2012-avviso" and "408 milioni" in first.quote


def test_a_part_not_found_is_restated_apart_from_document_quotes_and_its_figures_are_not_claims(ask: AskFn) -> None:
    answer = ask("Quando è stato fondato il CTNA e quanto valeva il suo progetto del 2019?")
    assert answer.status == "answered"
    assert "«" not in answer.answer.split("Su “")[-1].split("”")[0]  # the restated part is not a «quote»
    assert not any(w.startswith("Numeri non verificati") for w in answer.warnings), answer.warnings
