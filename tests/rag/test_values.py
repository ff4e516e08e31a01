"""The kinds of value a text carries, and the kinds of a key fact."""

from __future__ import annotations

import pytest

from rag.values import kinds_of_fact, value_spans


def found(text: str, kind: str) -> list[str]:
    return [text[a:b] for a, b in value_spans(text)[kind]]


def test_values_of_an_act_are_found_by_kind() -> None:
    text = ("1. Sono rese disponibili risorse pari a euro 408.000.000,00 entro le ore 17:00 del 28 settembre 2012, "
            "per progetti di 36 mesi, con un contributo del 50% e 1/12 della quota, come previsto dal DD 1610 del "
            "3 agosto 2016, pubblicato nella GU n. 133, gestito da Fondazione Torino Wireless.")
    assert found(text, "amount") == ["euro 408.000.000,00"]
    assert found(text, "time") == ["ore 17:00"]
    assert "28 settembre 2012" in found(text, "date")
    assert found(text, "duration") == ["36 mesi"]
    assert found(text, "percent") == ["50%"]
    assert found(text, "fraction") == ["1/12"]
    assert found(text, "gazette") == ["GU n. 133"]
    assert found(text, "act") == ["DD 1610 del 3 agosto 2016"]
    assert "Fondazione Torino Wireless" in " ".join(found(text, "name"))
    assert "1" not in found(text, "count")  # "1." opens the comma: it is no value


def test_a_bare_year_is_a_year_not_a_count() -> None:
    assert found("Il cluster è nato nel 2013 con 47 soci.", "year") == ["2013"]
    assert found("Il cluster è nato nel 2013 con 47 soci.", "count") == ["47"]


@pytest.mark.parametrize(("fact", "kinds"), [
    (["28 settembre 2012", "28 September 2012"], {"date"}),
    (["408 milioni", "408 million"], {"amount"}),
    (["17:00"], {"time"}),
    (["36 mesi"], {"duration"}),
    (["2016"], {"year"}),
    (["Diana Bracco"], {"name"}),
    (["economia del mare"], {"text"}),
    (["in risposta agli aiuti concessi a Israele"], {"text"}),  # one capitalised word does not make a name
])
def test_the_kind_of_a_key_fact_is_what_makes_up_most_of_it(fact: list[str], kinds: set[str]) -> None:
    assert kinds_of_fact(fact) == kinds
