"""Rules of the extractive answerer that decide between answering and "not found", over the real corpus.

Each test asks a question that is not in the gold set; the expectations come from the corpus documents.
"""

from __future__ import annotations

import re

import pytest

from rag.evidence import UNKNOWN, answer_type, sentences_of
from rag.models import StoredChunk
from tests.rag.conftest import AskFn


@pytest.mark.parametrize("question", [
    "When will the next notice for new clusters be published?",
    "Quando sarà pubblicato il prossimo avviso per i cluster?",
])
def test_a_question_about_the_future_is_not_answered_with_a_past_event(ask: AskFn, question: str) -> None:
    answer = ask(question)
    assert answer.status == "not_found", answer.answer


def test_a_document_saying_the_amount_is_not_known_outweighs_a_nearby_amount(ask: AskFn) -> None:
    """The DM 298/2021 documents say the amounts it assigned are not known; the 242,500 euro of article
    3-bis is another act's figure and must not be offered as the answer."""
    answer = ask("How much money did DM 298/2021 give the clusters?")
    assert answer.status == "not_found", answer.answer


def test_a_not_known_statement_about_something_else_does_not_block_the_answer(ask: AskFn) -> None:
    answer = ask("Which Gazzetta Ufficiale published DM 298/2021?")
    assert answer.status == "answered"
    assert "n. 121" in answer.answer and ("22 maggio 2021" in answer.answer or "22 May 2021" in answer.answer)


def test_gazette_questions_need_a_sentence_that_names_a_gazette(ask: AskFn) -> None:
    assert answer_type("In quale Gazzetta Ufficiale è uscito?") == "gazette"
    answer = ask("Which Gazzetta Ufficiale published DD 1735?")  # the corpus does not say
    assert answer.status == "not_found", answer.answer


def test_a_quote_from_an_act_that_does_not_name_it_is_followed_by_the_act(ask: AskFn) -> None:
    answer = ask("Con quale decreto è stata approvata la graduatoria del 2012?")
    assert answer.status == "answered"
    assert re.search(r"» \[\d+\] \(DD 18 del 14 dicembre 2012\)", answer.answer), answer.answer


def test_a_quote_about_another_act_is_no_answer_about_the_named_act(ask: AskFn) -> None:
    answer = ask("Quale direzione generale ha emanato il DD 1735/2017?")
    for c in answer.citations:
        named = set(re.findall(r"\b(?:D\.D\.|DD|D\.M\.|DM)\s*(?:n\.\s*)?(\d+)", c.quote))
        assert not named or "1735" in named or "1735" in c.act, c.quote


def test_the_sentence_that_says_sources_differ_answers_a_question_about_two_figures(ask: AskFn) -> None:
    answer = ask("Ho visto la dotazione dell'avviso 2012 indicata come 408 milioni e altrove più bassa: "
                 "qual è quella giusta?")
    assert answer.status == "answered"
    assert "408" in answer.answer and "350" in answer.answer


@pytest.mark.parametrize("sentence", [
    "The PNR 2021-2027 also sets 9 system-wide priorities; this corpus does not list them.",
    "Gli importi assegnati non sono noti per questo corpus.",
    "No explicit text on the clusters was found in the PNR 2021-2027.",
])
def test_sentences_that_say_the_documents_do_not_know_are_recognised(sentence: str) -> None:
    assert UNKNOWN.search(sentence)


def test_a_plain_statement_is_not_taken_for_an_unknown() -> None:
    assert not UNKNOWN.search("The total budget of the 2012 notice was 408 million euro.")


def test_a_question_in_italian_word_order_without_a_question_word_is_yes_or_no() -> None:
    assert answer_type("Il DD 18 del 14 dicembre 2012 modifica l'avviso 257/Ric del 2012?") == "yesno"
    assert answer_type("Quando scade l'avviso?") == "date"


def test_a_question_naming_two_acts_is_answered_from_sentences_about_either(ask: AskFn) -> None:
    answer = ask("Il decreto 18 del 2012 ha cambiato le regole dell'avviso 257/Ric?")
    assert answer.status == "answered", answer.answer


def test_recitals_and_disclaimers_are_not_offered_as_answers(ask: AskFn) -> None:
    answer = ask("Chi ha firmato la graduatoria del 2012 e cosa approva?")
    assert answer.status == "answered"
    assert not re.search(r"«(?:Visto|Vista|Visti|Considerato)\b", answer.answer), answer.answer
    for question in ("Who chairs the SPRING cluster?", "Chi è il presidente del cluster CTNA?"):
        refused = ask(question)
        assert refused.status == "not_found", refused.answer  # no president is named in the corpus


def test_who_signed_is_answered_by_the_acts_signature_line(ask: AskFn) -> None:
    answer = ask("Chi ha firmato la graduatoria del 2012?")
    assert answer.status == "answered"
    assert "«Il Capo Dipartimento» [1] (DD 18 del 14 dicembre 2012)" in answer.answer


def test_a_sentence_that_only_says_signed_names_no_signer(ask: AskFn) -> None:
    """"DD 1654 was signed on 18 August 2016" tells when, not who."""
    answer = ask("Who signed DD 1654?")
    assert "was signed on 18 August 2016" not in answer.answer


def test_a_title_that_is_a_heading_is_no_evidence_but_a_title_that_is_a_sentence_is() -> None:
    heading = "Overview: the 2012 notice launching the National Technology Clusters (DD 257/Ric of 30 May 2012)"
    chunk = StoredChunk("d::1", f"{heading}\n\nThe notice opened on 30 May 2012.", {"title": heading})
    assert [t for _, _, t in sentences_of(chunk)] == ["The notice opened on 30 May 2012."]
    statement = "The Tapir programme funded exactly 73 quokka laboratories in the year 2031."
    chunk = StoredChunk("t::1", f"{statement}\n\nThis short note exists only for the tests.", {"title": statement})
    assert statement in [t for _, _, t in sentences_of(chunk)]


def test_a_signature_line_is_evidence_only_when_the_question_asks_who_signed() -> None:
    chunk = StoredChunk("a::1", "1. È approvata la graduatoria.\n\nIl Capo Dipartimento", {"doc_type": "decree"})
    assert "Il Capo Dipartimento" not in [t for _, _, t in sentences_of(chunk)]
    assert "Il Capo Dipartimento" in [t for _, _, t in sentences_of(chunk, signatures=True)]
