"""The kinds of values a text carries (a date, an amount, a count, a name, ...), and where they are.

Used on both sides of a question: the answerer compares the kinds a question asks for (predicted by a model
trained on question sets, ``rag.answering.kinds``) with the kinds a passage carries, and quotes the asked-for
value from the best passage as the direct answer. The patterns are data (``rag/data/values.yaml``); dates
and act references come from ``rag.acts``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from rag.acts import DATE_RE, parse_acts

VALUES_PATH = Path(__file__).parent / "data" / "values.yaml"
KINDS = ("date", "year", "time", "amount", "percent", "fraction", "duration", "count", "contact", "gazette", "name",
         "act")
YEAR = re.compile(r"\b(?:19|20)\d\d\b")  # a year as a word, wherever it stands ("1654/2016" included)
_YEAR = re.compile(r"(?<![\d/.,-])(?:19|20)\d\d(?![\d/.,-]\d)")  # a year as a value of its own
_MONTH_YEAR = re.compile(
    r"\b(?:gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|january"
    r"|february|march|april|may|june|july|august|september|october|november|december)\s+(?:19|20)\d\d\b",
    re.IGNORECASE)


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    data = yaml.safe_load(VALUES_PATH.read_text(encoding="utf-8"))
    numbers = data["numbers"]
    out = {}
    for kind, pattern in data["kinds"].items():
        flags = 0 if kind == "name" else re.IGNORECASE
        out[kind] = re.compile(pattern.replace("{numbers}", numbers), flags)
    return out


Span = tuple[int, int]


@lru_cache(maxsize=8192)
def value_spans(text: str) -> dict[str, list[Span]]:
    """For each kind, the (start, end) of its values in ``text``; a count never overlaps a date, an amount,
    a percentage, a time, a fraction or an act number. Cached: the same passages come back question after
    question (callers must not change what it returns)."""
    pats = _patterns()
    spans: dict[str, list[Span]] = {k: [] for k in KINDS}
    spans["date"] = [(m.start(), m.end()) for m in DATE_RE.finditer(text)]
    spans["date"] += [(m.start(), m.end()) for m in _MONTH_YEAR.finditer(text)
                      if not any(a <= m.start() < b for a, b in spans["date"])]
    spans["act"] = [(r.start, r.end) for r in parse_acts(text)]
    spans["year"] = [(m.start(), m.end()) for m in _YEAR.finditer(text)
                     if not any(a <= m.start() < b for a, b in spans["date"] + spans["act"])]
    for kind in ("amount", "percent", "fraction", "time", "contact", "gazette", "name"):
        spans[kind] = [(m.start(), m.end()) for m in pats[kind].finditer(text)]
    taken = [s for k in ("date", "act", "amount", "percent", "fraction", "time", "contact", "gazette") for s in spans[k]]

    def free(m: re.Match[str]) -> bool:
        # "1." or "a)" opening a line numbers a comma; it is no value
        numbered = text[m.end():m.end() + 1] in (".", ")") and (m.start() == 0 or text[m.start() - 1] == "\n")
        return not numbered and not any(a <= m.start() < b or a < m.end() <= b for a, b in taken)

    spans["duration"] = [(m.start(), m.end()) for m in pats["duration"].finditer(text) if free(m)]
    spans["count"] = [(m.start(), m.end()) for m in pats["count"].finditer(text) if free(m)]
    return spans


def kinds_in(text: str) -> set[str]:
    return {k for k, v in value_spans(text).items() if v}


def kinds_of_fact(alternatives: tuple[str, ...] | list[str]) -> set[str]:
    """The kinds of a key fact (its alternative forms): a kind whose values make up at least half of an
    alternative ("ottobre 1973" is a date, "36 mesi" a duration, "in risposta agli aiuti a Israele" a phrase
    however capitalised its last word); "text" when no kind does."""
    found: set[str] = set()
    for alt in alternatives:
        text = f"x {alt.strip()}"  # a name needs something before it (it never opens a sentence)
        size = max(len(alt.strip()), 1)
        for kind, spans in value_spans(text).items():
            covered = sum(b - a for a, b in spans)
            if spans and covered >= 0.5 * size:
                found.add(kind)
    return found or {"text"}
