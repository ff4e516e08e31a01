"""Step ``analyse`` on hand-written messages: what is asked, in how many parts, by whom."""

from __future__ import annotations

import pytest

from rag.followup import needs_context, rewrite, subject_of
from rag.question import analyse, asker_facts, is_asking, reduce_message, split_parts


def test_a_pasted_email_is_reduced_to_the_sentence_that_asks() -> None:
    message = ("Buongiorno, siamo una PMI pugliese che lavora nel settore navale. Abbiamo letto del bando Zefiro. "
               "Vorremmo sapere se un'impresa con sede all'estero può partecipare. Cordiali saluti, Mario Rossi")
    analysis = analyse(message)
    assert analysis.language == "it"
    assert analysis.core == "Vorremmo sapere se un'impresa con sede all'estero può partecipare."
    assert "Mario Rossi" not in analysis.query and "Buongiorno" not in analysis.query


def test_the_asker_s_kind_and_region_are_kept_beside_the_question() -> None:
    analysis = analyse("Hello, we are a university spin-off in Piedmont. Can we take part in the Zefiro call? "
                       "Kind regards, Anna")
    assert {"spin-off", "piedmont"} <= set(analysis.asker)
    assert "spin-off" in analysis.parts[0].query


def test_an_agent_s_question_about_the_reply_is_not_a_question() -> None:
    analysis = analyse("Un'azienda ci chiede se le reti d'impresa possono partecipare al bando Zefiro. "
                       "Cosa gli rispondiamo?")
    assert len(analysis.parts) == 1
    assert "rispondiamo" not in analysis.query
    assert analysis.core.startswith("Le reti d'impresa")  # the reported framing is dropped too


def test_a_reported_question_is_a_question_even_without_a_question_mark() -> None:
    assert is_asking("A company that joined in 2013 asks who checks the payments on the ministry's behalf", "en")
    assert not is_asking("We joined the cluster in 2013.", "en")


def test_a_question_pointing_back_takes_the_sentence_it_points_to() -> None:
    asking, _context = reduce_message("Someone said Fondazione Zefiro coordinates one of the clusters. "
                                      "Which cluster is that?", "en")
    assert asking == [("Which cluster is that?", "Someone said Fondazione Zefiro coordinates one of the clusters.")]
    analysis = analyse("Someone said Fondazione Zefiro coordinates one of the clusters. Which cluster is that?")
    assert "Zefiro" in analysis.parts[0].query


@pytest.mark.parametrize(("sentence", "parts"), [
    ("Qual è la dotazione dell'avviso Zefiro e quando scadeva?", 2),
    ("How much was the budget, and to whom was it assigned?", 2),
    ("Can a university apply and is there a deadline?", 1),  # "and is" opens no second part
    ("Quali soggetti e quali regioni partecipano?", 2),
    ("What did the notice fund?", 1),
])
def test_a_sentence_asking_two_things_is_split_at_the_second_question_word(sentence: str, parts: int) -> None:
    assert len(split_parts(sentence, None)) == parts


def test_a_later_part_inherits_the_subject_and_reads_the_first_part_as_context() -> None:
    analysis = analyse("Qual è la dotazione del bando Zefiro 2031 e quando scadeva?")
    first, second = analysis.parts
    assert "2031" in second.query
    assert second.context == first.text


def test_years_and_act_numbers_of_the_question_are_constraints() -> None:
    analysis = analyse("What did DD 4711 of 2031 change?")
    assert {"4711", "2031"} <= analysis.numbers


def test_asker_facts_are_words_of_the_lists_as_written() -> None:
    assert asker_facts(["Siamo un consorzio con sede in Toscana dal 2019."], "it") == ["consorzio", "toscana", "2019"]


def test_an_elliptical_follow_up_gets_the_subject_of_the_earlier_question() -> None:
    assert needs_context("E la scadenza?")
    rewritten = rewrite("E la scadenza?", ["Qual era la dotazione del DD 4711 del 2031?"])
    assert rewritten is not None and rewritten.startswith("E la scadenza? (")
    assert "DD 4711" in rewritten and "2031" in rewritten
    assert rewrite("What was the deadline of DD 4711?", ["Qual era la dotazione del bando?"]) is None
    assert "DD 4711" in subject_of("Chi ha firmato il DD 4711?")
