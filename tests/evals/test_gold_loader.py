"""The gold loader: the real file loads, and malformed items are reported, not skipped."""

from __future__ import annotations

import copy

import pytest

from evals import GOLD_PATH
from evals.gold import GoldFormatError, load_gold, parse_gold

GOOD = [
    {"id": "q001", "question": "Qual è la dotazione dell'avviso del 2012?", "lang": "it", "user": "applicant",
     "tags": ["factual"], "answerable": True, "key_facts": [["408 milioni", "408 million"]],
     "supporting_docs": ["dd-257-ric-2012-avviso"], "history": []},
    {"id": "q002", "question": "E la scadenza?", "lang": "it", "user": "applicant", "tags": ["follow_up"],
     "answerable": True, "key_facts": [["28 settembre 2012"]], "supporting_docs": ["dd-257-ric-2012-avviso"],
     "history": ["Qual è la dotazione dell'avviso del 2012?"]},
    {"id": "q003", "question": "What is the capital of France?", "lang": "en", "user": "staff",
     "tags": ["out_of_domain"], "answerable": False, "key_facts": [], "supporting_docs": [], "history": []},
]


def broken(index: int, **changes):
    items = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            del items[index][key]
        else:
            items[index][key] = value
    return items


def test_the_project_gold_file_loads():
    items = load_gold(GOLD_PATH)
    assert len(items) >= 100
    assert len({i.id for i in items}) == len(items)
    assert any(not i.answerable for i in items) and any(i.history for i in items)
    for item in items:
        assert item.lang in ("it", "en")
        assert item.answerable == bool(item.key_facts) == bool(item.supporting_docs)


def test_a_well_formed_set_parses_into_items():
    items = parse_gold(GOOD)
    assert [i.id for i in items] == ["q001", "q002", "q003"]
    assert items[0].key_facts == (("408 milioni", "408 million"),)
    assert items[1].history == ("Qual è la dotazione dell'avviso del 2012?",)


@pytest.mark.parametrize("items, expected", [
    (broken(0, lang="fr"), "lang"),
    (broken(0, question=None), "missing field 'question'"),
    (broken(0, tags=["trivia"]), "tags"),
    (broken(0, answerable="yes"), "answerable"),
    (broken(0, key_facts=[["408"], []]), "key_facts"),
    (broken(0, supporting_docs=[]), "answerable item needs"),
    (broken(2, key_facts=[["Paris"]]), "unanswerable item"),
    (broken(1, history=["a question never asked before"]), "follow_up"),
    (broken(1, id="q001"), "duplicate id"),
    (broken(2, id="q007"), "sequential"),
    ("not a list", "non-empty YAML list"),
])
def test_malformed_items_are_reported(items, expected):
    with pytest.raises(GoldFormatError) as info:
        parse_gold(items)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_invalid_yaml_is_a_format_error(tmp_path):
    path = tmp_path / "questions.yaml"
    path.write_text("- id: q001\n  question: [unclosed\n")
    with pytest.raises(GoldFormatError):
        load_gold(path)


@pytest.mark.parametrize("name, prefix", [("HELDOUT_PATH", "h"), ("HELDOUT2_PATH", "t")])
def test_the_held_out_files_load_with_their_own_id_prefix_and_pass_the_checker(name, prefix):
    import subprocess
    import sys

    import evals

    path = getattr(evals, name)
    items = load_gold(path)
    assert [i.id for i in items] == [f"{prefix}{n:03d}" for n in range(1, len(items) + 1)]
    assert {i.lang for i in items} == {"it", "en"} and any(not i.answerable for i in items)
    checker = path.parent / "check_gold.py"
    run = subprocess.run([sys.executable, str(checker), "--heldout", str(path)], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_ids_must_follow_the_files_own_prefix_in_sequence():
    items = copy.deepcopy(GOOD)
    items[0]["id"], items[1]["id"], items[2]["id"] = "h001", "h002", "q003"
    with pytest.raises(GoldFormatError, match="h003"):
        parse_gold(items)
    items[2]["id"] = "h003"
    assert [i.id for i in parse_gold(items)] == ["h001", "h002", "h003"]
