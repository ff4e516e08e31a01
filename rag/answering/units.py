"""Units of evidence, as documents have them: sentences, a list item with its lead-in, a table row with its
caption, an FAQ answer with its question.

A unit is what the answer quotes (a verbatim span of its chunk); its ``lead`` is the text that gives it its
meaning without being part of it: "Sono ammissibili le seguenti spese:" for the item "b) strumenti e
attrezzature", the table's caption for a row (each row already names its columns, ``ingest.tables``), the
FAQ's question for the sentences of its answer. Headings and questions are never units themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.models import StoredChunk
from rag.sentences import sentence_spans

LIST_ITEM = re.compile(r"^\s*(?:[-•*–]|[a-z]{1,2}\)|\([a-z0-9]{1,2}\))\s+")  # a bullet or a lettered point
NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+")  # a comma, or an item when a lead-in introduces it
MIN_CHARS = 12
MAX_CHARS = 420  # a longer sentence (acts have sentences of a page) is quoted clause by clause
MAX_LEAD = 300


@dataclass
class Unit:
    chunk: StoredChunk
    rank: int  # the rank of its chunk among those retrieved
    start: int  # offsets of the quote in chunk.text
    end: int
    kind: str  # sentence | item | row
    lead: str = ""  # what gives it meaning: a lead-in, a caption, a question
    lead_kind: str = ""  # lead_in | caption | question | ""
    position: int = 0  # its index among the chunk's units

    @property
    def text(self) -> str:
        return self.chunk.text[self.start:self.end]


def _is_heading(block: str) -> bool:
    text = block.strip()
    return (len(text.split()) <= 20 and not re.search(r"[.;:!?»\")]$", text)) or bool(
        re.match(r"^(?:Art\.|Articolo|Article|Allegato|Annex)\s*\d+[\w-]*\s*[-–—:.]?\s*[^.;]*$", text))


def _blocks(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for part in re.split(r"(\n\s*\n)", text):
        if part and not re.fullmatch(r"\n\s*\n", part):
            a = pos + len(part) - len(part.lstrip())
            b = pos + len(part.rstrip())
            if b > a:
                spans.append((a, b))
        pos += len(part)
    return spans


def _clauses(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """An over-long sentence in pieces that end at "; " or ": " (verbatim, in order)."""
    if b - a <= MAX_CHARS:
        return [(a, b)]
    out, start = [], a
    for m in re.finditer(r"[;:]\s+", text[a:b]):
        cut = a + m.start() + 1
        if cut - start >= MIN_CHARS * 4:
            out.append((start, cut))
            start = a + m.end()
    out.append((start, b))
    return [(x, y) for x, y in out if y - x >= MIN_CHARS]


def units_of(chunk: StoredChunk, rank: int = 0) -> list[Unit]:
    text = chunk.text
    units: list[Unit] = []
    question = ""  # the FAQ question the following blocks answer
    lead_in = ""  # a sentence ending with ":" that the following items complete
    for a, b in _blocks(text):
        block = text[a:b]
        if "\n" in block.strip():  # table rows (loaders join every other block's lines)
            lines, pos = [], a
            for line in block.split("\n"):
                start = text.index(line, pos) if line else pos
                lines.append((start, start + len(line)))
                pos = start + len(line)
            caption = ""
            for x, y in lines:
                row = text[x:y].strip()
                if not row:
                    continue
                if ": " not in row and not caption:
                    caption = row
                    continue
                x += len(text[x:y]) - len(text[x:y].lstrip())
                units.append(Unit(chunk, rank, x, x + len(row), "row", caption or chunk.section.split(" > ")[-1],
                                  "caption"))
            continue
        if block.rstrip().endswith("?"):
            question, lead_in = block.strip(), ""
            continue
        if _is_heading(block):
            lead_in = question = ""
            continue
        item = bool(LIST_ITEM.match(block)) or bool(lead_in and NUMBERED.match(block))
        spans = sentence_spans(text, a, b)
        for i, (x, y) in enumerate(spans):
            for cx, cy in _clauses(text, x, y):
                if cy - cx < MIN_CHARS:
                    continue
                if item and lead_in:
                    units.append(Unit(chunk, rank, cx, cy, "item", lead_in[-MAX_LEAD:], "lead_in"))
                elif question:
                    units.append(Unit(chunk, rank, cx, cy, "sentence", question[-MAX_LEAD:], "question"))
                else:
                    units.append(Unit(chunk, rank, cx, cy, "item" if item else "sentence"))
            if i == len(spans) - 1 and text[x:y].rstrip().endswith(":"):
                lead_in = text[x:y].strip()
        if not item and not text[a:b].rstrip().endswith(":"):
            lead_in = ""
    for i, u in enumerate(units):
        u.position = i
    return units


def following_items(unit: Unit, limit: int = 8) -> list[Unit]:
    """The items a lead-in unit introduces, in the same chunk (a list question is answered by them)."""
    if not unit.text.rstrip().endswith(":"):
        return []
    items = [u for u in units_of(unit.chunk, unit.rank) if u.start > unit.start and u.kind == "item"
             and u.lead.endswith(unit.text.strip()[-MAX_LEAD:])]
    return items[:limit]
