"""Checks on produced answers: key facts, citation validity, gold answer spans.

Numbers are compared as digit groups: "242,500", "242.500" and "242500" are the same number once the
thousand separators are removed, and leading zeros are dropped ("05" is "5"), so an Italian date in a
quote supports the same figure written the English way in the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evals import norm

MARKER = re.compile(r"\[(\d+)\]")
MARKER_GROUP = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")
NUMBER = re.compile(r"(?<!\d)\d{1,3}(?:[.,\u00a0\u202f]\d{3})+(?!\d)|\d+")


def numbers_in(text: str) -> list[str]:
    """Digit groups of ``text``, thousand separators removed and leading zeros dropped."""
    out = []
    for m in NUMBER.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        out.append(digits.lstrip("0") or "0")
    return out


def markers_in(text: str) -> list[int]:
    """Citation numbers referenced in ``text``: ``[1]``, ``[1, 2]`` and ``[1][2]`` all count."""
    found: list[int] = []
    for group in MARKER_GROUP.finditer(text):
        found += [int(n) for n in re.findall(r"\d+", group.group(0))]
    return found


def key_facts_found(key_facts: Sequence[Sequence[str]], text: str) -> list[bool]:
    """For each key-fact group: is at least one of its alternatives in ``text``?"""
    haystack = norm(text)
    return [any(norm(alt) in haystack for alt in group) for group in key_facts]


def all_key_facts(key_facts: Sequence[Sequence[str]], text: str) -> bool:
    return bool(key_facts) and all(key_facts_found(key_facts, text))


def contains_span(spans: Iterable[str], text: str) -> bool:
    haystack = norm(text)
    return any(norm(s) and norm(s) in haystack for s in spans)


@dataclass
class CitationCheck:
    """What is wrong with an answer's citations; an empty check means the citations are valid."""

    bad_markers: list[int] = field(default_factory=list)       # [n] with no citation n
    non_verbatim: list[int] = field(default_factory=list)      # citation n whose quote is not in its chunk
    missing_chunks: list[int] = field(default_factory=list)    # citation n whose chunk is not in the store
    unsupported_numbers: list[str] = field(default_factory=list)  # numbers of the text in no cited quote

    @property
    def markers_ok(self) -> bool:
        return not self.bad_markers

    @property
    def quotes_ok(self) -> bool:
        return not self.non_verbatim and not self.missing_chunks

    @property
    def numbers_ok(self) -> bool:
        return not self.unsupported_numbers

    @property
    def ok(self) -> bool:
        return self.markers_ok and self.quotes_ok and self.numbers_ok

    def describe(self) -> str:
        parts = []
        if self.bad_markers:
            parts.append("markers without a citation: " + ", ".join(f"[{n}]" for n in self.bad_markers))
        if self.missing_chunks:
            parts.append("citations whose chunk is not stored: " + ", ".join(map(str, self.missing_chunks)))
        if self.non_verbatim:
            parts.append("quotes not verbatim in their chunk: " + ", ".join(map(str, self.non_verbatim)))
        if self.unsupported_numbers:
            parts.append("numbers in no cited quote: " + ", ".join(self.unsupported_numbers))
        return "; ".join(parts) or "ok"


def check_citations(answer: Mapping[str, Any], chunk_text: Callable[[list[str]], Mapping[str, str]]
                    ) -> CitationCheck:
    """Check one answer (the answer JSON as a dict).

    ``chunk_text`` maps chunk ids to the stored chunk texts (ids it cannot find are left out); the
    harness passes a function reading the store, the tests a dictionary lookup.
    """
    text = str(answer.get("answer", ""))
    citations = list(answer.get("citations") or [])
    check = CitationCheck()
    numbers = {int(c.get("n", -1)) for c in citations}
    check.bad_markers = sorted({n for n in markers_in(text) if n not in numbers})
    stored = chunk_text(sorted({str(c.get("chunk_id", "")) for c in citations})) if citations else {}
    for c in citations:
        chunk = stored.get(str(c.get("chunk_id", "")))
        quote = str(c.get("quote") or "")
        if chunk is None:
            check.missing_chunks.append(int(c.get("n", -1)))
        elif not quote or quote not in chunk:
            check.non_verbatim.append(int(c.get("n", -1)))
    # A number may stand in a quote, or in the act a quote is cited from ("«...» [1] (DD 18 del 14
    # dicembre 2012)" names the act that the citation's ``act`` field records).
    quoted = {n for c in citations for n in numbers_in(str(c.get("quote") or "") + " " + str(c.get("act") or ""))}
    # “...” restating the user's own question ("On “When was DD 1610 ...” the documents say nothing") is
    # not a claim: the figures it shares with the question are the user's. Anything else outside a quote
    # must be supported.
    asked = set(re.findall(r"\d[\d.,/-]*\d|\d", str(answer.get("question") or "")))
    text = re.sub(r"“[^”]*”", lambda m: re.sub(r"\d[\d.,/-]*\d|\d",
                                                lambda n: " " if n.group(0) in asked else n.group(0), m.group(0)), text)
    in_text = numbers_in(MARKER_GROUP.sub(" ", text))
    check.unsupported_numbers = sorted({n for n in in_text if n not in quoted}, key=lambda n: (len(n), n))
    return check
