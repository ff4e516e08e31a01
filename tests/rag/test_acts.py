"""rag.acts: the act references and dates that both ingestion and retrieval normalise the same way.

(Impossible dates such as 31 February are covered in tests/ingest/test_acts_and_dates.py.)
"""

from __future__ import annotations

import pytest

from rag.acts import ActRef, act_keys, parse_acts, parse_dates


@pytest.mark.parametrize(("text", "key", "suffix", "date", "year"), [
    ("D.D. n. 257/Ric del 30 maggio 2012", "DD:257", "Ric", "2012-05-30", 2012),
    ("decreto direttoriale 3 agosto 2016, n. 1610", "DD:1610", None, "2016-08-03", 2016),
    ("directorial decree no. 1735 of 13 July 2017", "DD:1735", None, "2017-07-13", 2017),
    ("DM 298/2021", "DM:298", None, None, 2021),
    ("D.L. 20 giugno 2017, n. 91", "DL:91", None, "2017-06-20", 2017),
    ("legge n. 123/2017", "L:123", None, None, 2017),
    ("Law 123/2017", "L:123", None, None, 2017),
    ("nota prot. n. 214 del 13 marzo 2018", "NOTA:214", None, "2018-03-13", 2018),
    ("Regolamento (UE) n. 651/2014", "REG:651", None, None, 2014),
    ("DD 1654", "DD:1654", None, None, None),
])
def test_act_reference_is_normalised_to_type_number_date_and_year(
        text: str, key: str, suffix: str | None, date: str | None, year: int | None) -> None:
    refs = parse_acts(text)
    assert len(refs) == 1, refs
    ref = refs[0]
    assert (ref.key, ref.suffix, ref.date, ref.year) == (key, suffix, date, year)
    assert text[ref.start:ref.end].strip(" ,") == text.strip()


def test_question_naming_two_acts_gives_both_keys_once_in_order_of_mention() -> None:
    text = "Il DD 1610 è stato modificato dal DD 1654; il D.D. 1610/2016 resta l'avviso."
    assert act_keys(text) == ["DD:1610", "DD:1654"]


@pytest.mark.parametrize("text", [
    "the 2016 notice",
    "nota 214",  # a note needs "prot." or "n." before its number
    "la legge di conversione",
    "Law and order in 2017",
    "decreto",
])
def test_words_without_a_numbered_act_give_no_act_key(text: str) -> None:
    assert act_keys(text) == []


def test_label_reads_as_type_number_and_date() -> None:
    ref = parse_acts("D.D. n. 257/Ric del 30 maggio 2012")[0]
    assert ref.label == "DD 257/Ric of 2012-05-30"
    assert parse_acts("DM 298/2021")[0].label == "DM 298 (2021)"


@pytest.mark.parametrize(("act_type", "number", "year", "expected"), [
    ("DD", "1610", 2016, True),
    ("DD", "1610/2016", None, True),
    ("DM", "1610", 2016, True),  # DD and DM are often confused in sources: they match each other
    ("DD", "1654", 2016, False),
    ("DD", "1610", 2017, False),
    ("L", "1610", 2016, False),
])
def test_reference_matches_an_act_by_number_kind_and_year(
        act_type: str, number: str, year: int | None, expected: bool) -> None:
    ref = parse_acts("decreto direttoriale n. 1610 del 3 agosto 2016")[0]
    assert ref.matches(act_type, number, year) is expected


def test_reference_without_a_number_matches_nothing() -> None:
    ref = ActRef("DECREE", None, None, "2017-07-26", 2017)
    assert ref.key is None
    assert not ref.matches("DECREE", "26", 2017)


def test_dates_in_italian_english_and_numeric_forms_are_iso_with_offsets() -> None:
    text = "entro il 28 settembre 2012, poi 20/10/2016, 2016-08-18 e October 20th, 2016"
    found = parse_dates(text)
    assert [d for d, _, _ in found] == ["2012-09-28", "2016-10-20", "2016-08-18", "2016-10-20"]
    assert [text[a:b] for _, a, b in found] == ["28 settembre 2012", "20/10/2016", "2016-08-18",
                                                "October 20th, 2016"]


def test_numbers_that_are_not_dates_are_not_parsed_as_dates() -> None:
    assert parse_dates("45/13/2020, art. 11 comma 1, 408 milioni, 2012") == []
