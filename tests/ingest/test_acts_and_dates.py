"""Act references, dates and languages are read the same way in Italian and English."""

from __future__ import annotations

import pytest

from ingest.metadata import act_key_for, build_metadata
from rag.acts import act_keys, parse_acts, parse_dates
from rag.language import detect_language


@pytest.mark.parametrize(
    ("text", "act_type", "number", "suffix", "date", "year"),
    [
        ("D.D. n. 257/Ric del 30 maggio 2012", "DD", "257", "Ric", "2012-05-30", 2012),
        ("decreto direttoriale 3 agosto 2016, n. 1610", "DD", "1610", None, "2016-08-03", 2016),
        ("DM 298/2021", "DM", "298", None, None, 2021),
        ("decreto-legge 20 giugno 2017, n. 91", "DL", "91", None, "2017-06-20", 2017),
        ("Directorial Decree No. 257/Ric of 30 May 2012", "DD", "257", "Ric", "2012-05-30", 2012),
        ("nota prot. n. 214 del 13 marzo 2018", "NOTA", "214", None, "2018-03-13", 2018),
        ("D.M. 26 marzo 2021, n. 298", "DM", "298", None, "2021-03-26", 2021),
        ("decree-law no. 91 of 20 June 2017", "DL", "91", None, "2017-06-20", 2017),
        ("Ministerial note no. 214 of 13 March 2018", "NOTA", "214", None, "2018-03-13", 2018),
        ("legge 3 agosto 2017, n. 123", "L", "123", None, "2017-08-03", 2017),
        ("Law 123/2017", "L", "123", None, None, 2017),
        ("D.Lgs. n. 50/2016", "DLGS", "50", None, None, 2016),
    ],
)
def test_act_reference_is_parsed_in_italian_and_english(
    text: str, act_type: str, number: str, suffix: str | None, date: str | None, year: int
) -> None:
    refs = parse_acts(text)
    assert len(refs) == 1, refs
    ref = refs[0]
    assert (ref.type, ref.number, ref.suffix, ref.date, ref.year) == (act_type, number, suffix, date, year)
    assert ref.key == f"{act_type}:{number}"
    assert text[ref.start : ref.end] == text  # the whole reference is covered


def test_italian_and_english_forms_of_one_act_share_a_key() -> None:
    italian = parse_acts("D.D. n. 257/Ric del 30 maggio 2012")[0]
    english = parse_acts("Directorial Decree No. 257/Ric of 30 May 2012")[0]
    assert italian.key == english.key == "DD:257"
    assert italian.label == english.label


def test_references_inside_a_sentence_are_found_in_order_with_their_offsets() -> None:
    text = (
        "Il D.D. 18 agosto 2016, n. 1654 modifica il decreto direttoriale 3 agosto 2016, n. 1610; "
        "restano fermi il DM 298/2021 e la nota prot. n. 214 del 13 marzo 2018."
    )
    refs = parse_acts(text)
    assert [r.key for r in refs] == ["DD:1654", "DD:1610", "DM:298", "NOTA:214"]
    assert text[refs[1].start : refs[1].end] == "decreto direttoriale 3 agosto 2016, n. 1610"
    assert act_keys(text + " Il DM 298/2021 è citato due volte.") == [
        "DD:1654",
        "DD:1610",
        "DM:298",
        "NOTA:214",
    ]


def test_decree_named_only_by_its_date_has_a_date_but_no_key() -> None:
    refs = parse_acts("il decreto 26 luglio 2017 individua i nuovi cluster")
    assert len(refs) == 1
    assert (refs[0].type, refs[0].date, refs[0].key) == ("DECREE", "2017-07-26", None)


@pytest.mark.parametrize(
    "text", ["la nota del Ministero", "la legge e il decreto", "law and order", "nota bene"]
)
def test_words_that_only_look_like_acts_are_not_references(text: str) -> None:
    assert parse_acts(text) == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("30 maggio 2012", "2012-05-30"),
        ("1° gennaio 2020", "2020-01-01"),
        ("30 May 2012", "2012-05-30"),
        ("May 30, 2012", "2012-05-30"),
        ("March 13th, 2018", "2018-03-13"),
        ("30/05/2012", "2012-05-30"),
        ("13.03.2018", "2018-03-13"),
        ("2012-05-30", "2012-05-30"),
    ],
)
def test_date_is_parsed_to_iso(text: str, iso: str) -> None:
    found = parse_dates(f"Data: {text}.")
    assert [d for d, _s, _e in found] == [iso]
    _d, start, end = found[0]
    assert f"Data: {text}."[start:end] == text


def test_impossible_dates_are_skipped() -> None:
    """``parse_dates`` promises that invalid dates are skipped: 31 February is not a date."""
    impossible = [
        "31 febbraio 2012",
        "30/02/2021",
        "31 April 2019",
        "2019-02-29",
        "32 maggio 2012",
        "15/13/2012",
    ]
    found = {text: parse_dates(text) for text in impossible}
    assert found == {text: [] for text in impossible}


def test_leap_day_is_a_valid_date() -> None:
    assert [d for d, _s, _e in parse_dates("29 febbraio 2020")] == ["2020-02-29"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Le domande devono pervenire entro il termine perentorio del 17 novembre 2031.", "it"),
        ("Qual è la dotazione finanziaria dell'avviso del 2012?", "it"),
        ("Chi può partecipare al bando?", "it"),
        ("Applications must be submitted by 17 November 2031.", "en"),
        ("What is the budget of the 2012 call?", "en"),
        ("Who can apply?", "en"),
    ],
)
def test_language_of_a_text_is_detected(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_text_too_short_to_tell_gets_the_default_language() -> None:
    assert detect_language("Cluster", default="it") == "it"
    assert detect_language("", default="en") == "en"


def test_catalog_fields_win_over_what_the_text_says(tmp_path) -> None:
    text = "Decreto direttoriale 3 agosto 2016, n. 1610. Il presente avviso sostiene i cluster."
    from_text = build_metadata(None, "Avviso DD 1610", text, tmp_path / "avviso.pdf")
    assert from_text["doc_language"] == "it"
    assert from_text["year"] == 2016
    assert from_text["act_key"] == "DD:1610"
    assert "DD:1610" in from_text["acts_mentioned"]
    assert from_text["doc_type"] == "notice"
    entry = {
        "title": "Official title",
        "doc_type": "decree",
        "language": "en",
        "act_type": "DM",
        "act_number": "298/2021",
        "act_date": "2021-03-26",
        "amended_by": ["x-doc"],
    }
    curated = build_metadata(entry, "Avviso DD 1610", text, tmp_path / "avviso.pdf")
    assert (curated["title"], curated["doc_type"], curated["doc_language"]) == (
        "Official title",
        "decree",
        "en",
    )
    assert (curated["act_key"], curated["year"], curated["act"]) == (
        "DM:298",
        2021,
        "DM 298/2021 of 2021-03-26",
    )
    assert curated["amended_by"] == ["x-doc"]
    assert act_key_for({"act_type": "Legge", "act_number": "123"}, "", "") == "L:123"
