"""Units of evidence from hand-built chunks: sentences, items with their lead-in, rows with their caption,
FAQ answers with their question; every unit is a verbatim span of its chunk."""

from __future__ import annotations

from rag.answering.units import following_items, units_of
from rag.models import StoredChunk


def chunk(text: str, section: str = "Art. 2 - Aree") -> StoredChunk:
    return StoredChunk("c1", text, {"document_id": "d1", "section": section, "title": "Avviso Zefiro",
                                    "language": "it"})


def test_every_unit_is_a_verbatim_span_of_its_chunk() -> None:
    c = chunk("1. Il presente avviso finanzia progetti di ricerca. Le domande sono presentate entro il 3 marzo "
              "2031.\n\nSono ammissibili le seguenti spese:\n\na) personale;\n\nb) strumenti e attrezzature.")
    for u in units_of(c):
        assert c.text[u.start:u.end] == u.text


def test_lettered_points_are_items_with_their_lead_in() -> None:
    c = chunk("1. Sono ammissibili le seguenti spese:\n\na) personale dipendente;\n\nb) strumenti e attrezzature.")
    units = units_of(c)
    items = [u for u in units if u.kind == "item"]
    assert [u.text for u in items] == ["a) personale dipendente;", "b) strumenti e attrezzature."]
    assert all(u.lead == "1. Sono ammissibili le seguenti spese:" and u.lead_kind == "lead_in" for u in items)
    lead = next(u for u in units if u.text.endswith("spese:"))
    assert [u.text for u in following_items(lead)] == [u.text for u in items]


def test_a_numbered_comma_is_a_sentence_not_an_item() -> None:
    units = units_of(chunk("2. Il contributo massimo è pari a 350.000 euro per progetto."))
    assert [u.kind for u in units] == ["sentence"]


def test_table_rows_are_units_under_their_caption() -> None:
    c = chunk("Tabella 1 - Risorse per fonte\nFonte: FAR; Importo: 63.000.000,00\nFonte: PON; Importo: 40.000.000,00")
    units = units_of(c)
    assert [u.text for u in units] == ["Fonte: FAR; Importo: 63.000.000,00", "Fonte: PON; Importo: 40.000.000,00"]
    assert all(u.kind == "row" and u.lead == "Tabella 1 - Risorse per fonte" for u in units)


def test_faq_answers_carry_their_question_and_questions_are_not_units() -> None:
    c = chunk("Una rete d'impresa può partecipare?\n\nSì. Le reti d'impresa partecipano tramite l'organo comune.")
    units = units_of(c)
    assert [u.text for u in units] == ["Le reti d'impresa partecipano tramite l'organo comune."]
    assert units[0].lead == "Una rete d'impresa può partecipare?" and units[0].lead_kind == "question"


def test_headings_are_not_units() -> None:
    units = units_of(chunk("Articolo 3 - Soggetti ammissibili\n\n1. Possono partecipare le imprese e le università."))
    assert [u.text for u in units] == ["1. Possono partecipare le imprese e le università."]


def test_an_over_long_sentence_is_quoted_clause_by_clause() -> None:
    clause = "il soggetto proponente deve essere regolarmente costituito e iscritto nei registri previsti"
    text = "1. Alla data della domanda: " + "; ".join([clause] * 8) + "."
    units = units_of(chunk(text))
    assert len(units) > 1 and all(len(u.text) <= 420 for u in units)
