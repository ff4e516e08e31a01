"""The citation-validity checker and the key-fact matcher, on crafted answers."""

from __future__ import annotations

from evals.answers import (
    all_key_facts,
    check_citations,
    contains_span,
    key_facts_found,
    markers_in,
    numbers_in,
)

CHUNKS = {
    "c1": "L'avviso ha una dotazione complessiva di 408 milioni di euro, di cui 40 milioni per la Convergenza.",
    "c2": "Le domande vanno presentate entro le ore 17:00 del 28 settembre 2012. Importo massimo € 242.500,00.",
}


def reader(ids):
    return {i: CHUNKS[i] for i in ids if i in CHUNKS}


def answer(text, citations):
    return {"answer": text, "status": "answered", "citations": citations}


def cite(n, chunk_id, quote):
    return {"n": n, "chunk_id": chunk_id, "quote": quote}


def test_a_well_cited_answer_passes_every_check():
    a = answer("La dotazione è «408 milioni di euro» [1]; scadenza il 28 settembre 2012 [2].",
               [cite(1, "c1", "dotazione complessiva di 408 milioni di euro"),
                cite(2, "c2", "entro le ore 17:00 del 28 settembre 2012")])
    check = check_citations(a, reader)
    assert check.ok, check.describe()


def test_a_marker_without_a_citation_is_caught():
    a = answer("La dotazione è di 408 milioni [1] [3].", [cite(1, "c1", "408 milioni di euro")])
    check = check_citations(a, reader)
    assert not check.ok
    assert check.bad_markers == [3]
    assert check.quotes_ok and check.numbers_ok


def test_a_quote_that_is_not_verbatim_is_caught():
    a = answer("La dotazione è di 408 milioni [1].", [cite(1, "c1", "dotazione di 408 milioni di euro")])
    check = check_citations(a, reader)
    assert not check.ok
    assert check.non_verbatim == [1]


def test_a_citation_to_a_chunk_not_in_the_store_is_caught():
    check = check_citations(answer("Vedi [1].", [cite(1, "gone", "anything")]), reader)
    assert check.missing_chunks == [1] and not check.quotes_ok


def test_a_number_in_no_cited_quote_is_caught():
    a = answer("La dotazione è di 408 milioni, di cui 63 milioni in contributi [1].",
               [cite(1, "c1", "dotazione complessiva di 408 milioni di euro")])
    check = check_citations(a, reader)
    assert not check.ok
    assert check.unsupported_numbers == ["63"]


def test_citation_markers_are_not_numbers_of_the_answer():
    a = answer("Vale 408 milioni [1][2].", [cite(1, "c1", "408 milioni"), cite(2, "c1", "40 milioni")])
    assert check_citations(a, reader).ok


def test_thousand_separators_do_not_change_a_number():
    assert numbers_in("€ 242.500,00 and 242,500 and 242500 in 2016") == ["242500", "0", "242500", "242500", "2016"]
    a = answer("The maximum is EUR 242,500 [1].", [cite(1, "c2", "Importo massimo € 242.500,00")])
    assert check_citations(a, reader).ok


def test_marker_groups_are_all_resolved():
    assert markers_in("a [1] b [2, 3] c [4][5]") == [1, 2, 3, 4, 5]


def test_key_facts_need_every_group_and_any_alternative():
    facts = [["408 milioni", "408 million"], ["28 settembre 2012", "28 September 2012"]]
    assert key_facts_found(facts, "Budget: 408  MILLION; deadline 28 September\n2012") == [True, True]
    assert all_key_facts(facts, "Budget: 408 million")is False
    assert all_key_facts([], "anything") is False


def test_gold_span_containment_is_case_and_space_insensitive():
    assert contains_span(["Ottobre  1973"], "iniziò nell' ottobre 1973 quando")
    assert not contains_span(["marzo 1974"], "iniziò nell' ottobre 1973")


def test_a_number_of_the_act_a_quote_is_cited_from_is_supported_by_that_citation():
    c = cite(1, "c1", "È approvata la graduatoria dei progetti ammessi")
    c["act"] = "DD 18 of 14 December 2012"
    a = answer("«È approvata la graduatoria dei progetti ammessi» [1] (DD 18 del 14 dicembre 2012)", [c])
    assert check_citations(a, reader).numbers_ok
    c["act"] = ""
    assert check_citations(a, reader).unsupported_numbers == ["14", "18", "2012"]



def test_figures_restating_the_users_question_are_not_claims():
    c = cite(1, "c1", "L'associazione CTNA è stata fondata il 25 settembre 2012")
    a = answer("«L'associazione CTNA è stata fondata il 25 settembre 2012» [1] Su “Quanto valeva il progetto "
               "del 2019” i documenti non dicono nulla.", [c])
    a["question"] = "Quando è stato fondato il CTNA e quanto valeva il progetto del 2019?"
    assert check_citations(a, reader).numbers_ok
    a["answer"] = a["answer"].replace("del 2019”", "del 2019, 500 milioni”")
    assert check_citations(a, reader).unsupported_numbers == ["500"]
