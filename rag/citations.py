"""Citation checks, one implementation for the product (the ``verify_citations`` step) and the evaluation.

An answer's citations are valid when every ``[n]`` marker has a citation n, every quote is a verbatim piece
of its stored chunk, and every number written in the answer stands in a cited quote or in the act a quote is
cited from. A “...” segment restating the user's own question (a part not found) is the user's words: the
figures it shares with the question are not claims.

Numbers are compared as digit groups: "242,500", "242.500" and "242500" are the same number once the thousand
separators are removed, and leading zeros are dropped ("05" is "5"), so an Italian date in a quote supports
the same figure written the English way in the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MARKER = re.compile(r"\[(\d+)\]")
MARKER_GROUP = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")
NUMBER = re.compile(r"(?<!\d)\d{1,3}(?:[.,\u00a0\u202f]\d{3})+(?!\d)|\d+")
QUOTE = re.compile(r"«[^»]*»")
RESTATED = re.compile(r"“[^”]*”")
_FIGURE = re.compile(r"\d[\d.,/-]*\d|\d")


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


def without_restated(text: str, question: str) -> str:
    """The text with the user's own figures removed from “...” restatements of the question."""
    asked = set(_FIGURE.findall(question or ""))
    return RESTATED.sub(lambda m: _FIGURE.sub(lambda n: " " if n.group(0) in asked else n.group(0), m.group(0)),
                        text)


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
    """Check one answer (the answer JSON as a dict); ``chunk_text`` maps chunk ids to stored chunk texts."""
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
    quoted = {n for c in citations for n in numbers_in(str(c.get("quote") or "") + " " + str(c.get("act") or ""))}
    outside = MARKER_GROUP.sub(" ", without_restated(text, str(answer.get("question") or "")))
    check.unsupported_numbers = sorted({n for n in numbers_in(outside) if n not in quoted}, key=lambda n: (len(n), n))
    return check
