"""Split a loaded document by its structure into chunks the embedding model reads whole.

Structure first: headings, Italian act units (Capo, Art. N, commi "1.", letters "a)"), FAQ question and
answer pairs. Size second: measured in the model's own word pieces, so that no chunk is silently
truncated by the model, and never cut inside a sentence unless a single sentence is longer than the
model can read (then it is cut at clause boundaries and a warning is logged).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.blocks import Block, LoadedDocument
from rag.sentences import sentence_spans, trim_spans

log = logging.getLogger(__name__)

ARTICLE = re.compile(r"^(?:Art\.|Articolo|Article)\s*(\d+[\w-]*)", re.IGNORECASE)
CAPO = re.compile(r"^(Capo|Titolo)\s+([IVXLC\d]+)", re.IGNORECASE)
COMMA = re.compile(r"^(\d{1,2})\.\s+\S")
LETTER = re.compile(r"^([a-z])\)\s")
FAQ_Q = re.compile(r"^(?:D|Q|Domanda|Question|FAQ)\s*\d*\s*[:.)-]\s*(.+)$", re.IGNORECASE)


@dataclass
class Unit:
    """Consecutive blocks that belong together (a comma with its letters, a FAQ answer, a paragraph)."""

    path: list[str]
    block_ids: list[int]
    boundary: bool  # starts a new chunk (a comma, a FAQ pair) rather than packing with neighbours


@dataclass
class Piece:
    section: str
    start: int
    end: int
    page: int | None
    page_end: int | None


def _short(text: str, limit: int = 80) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _heading_label(text: str) -> str:
    m = ARTICLE.match(text)
    if m:
        return f"Art. {m.group(1)}" + (f" - {_short(text[m.end():].lstrip(' -–.:'), 60)}"
                                       if text[m.end():].strip(" -–.:") else "")
    return _short(text)


def build_units(blocks: list[Block], act_like: bool = False) -> list[Unit]:
    """Group blocks into units. In an act (``act_like``) numbered paragraphs are commi under any
    heading; elsewhere only under an "Art. N" heading."""
    units: list[Unit] = []
    stack: list[tuple[int, str]] = []  # (level, label) of open headings
    in_article = False
    current: Unit | None = None

    def path() -> list[str]:
        return [label for _, label in stack]

    for i, block in enumerate(blocks):
        text = block.text
        if block.kind == "heading":
            level = block.level or 2
            if ARTICLE.match(text):
                level = max(level, 3) if any(CAPO.match(lbl) for _, lbl in stack) else level
                in_article = True
            elif CAPO.match(text):
                in_article = False
            elif not ARTICLE.match(text) and level <= 2:
                in_article = False
            faq = FAQ_Q.match(text)
            if level == 1:
                # The document's title: repeated in every chunk's embedded text, not part of the path.
                stack.clear()
                current = Unit([], [i], True)
                units.append(current)
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            label = ("Q: " + _short(faq.group(1), 70)) if faq else _heading_label(text)
            stack.append((level, label))
            current = Unit(path(), [i], True)
            units.append(current)
            continue
        comma = COMMA.match(text) if (in_article or (act_like and stack)) else None
        letter = LETTER.match(text)
        faq = FAQ_Q.match(text) if block.kind == "paragraph" else None
        if comma:
            current = Unit(path() + [f"comma {comma.group(1)}"], [i], True)
            units.append(current)
        elif letter and current is not None and current.block_ids and units:
            current.block_ids.append(i)  # letters stay with their comma or lead-in
        elif faq:
            current = Unit(path() + ["Q: " + _short(faq.group(1), 70)], [i], True)
            units.append(current)
        elif (current is not None and current.path and current.path[-1].startswith("Q: ")
              and blocks[current.block_ids[-1]].kind != "heading" and FAQ_Q.match(blocks[current.block_ids[0]].text)):
            current.block_ids.append(i)  # the answer of a "D: ..." paragraph
        elif current is not None and len(current.block_ids) == 1 and blocks[current.block_ids[0]].kind == "heading":
            current.block_ids.append(i)  # the first body block joins its heading
        elif current is not None and current.path and current.path[-1].startswith("comma "):
            current.block_ids.append(i)  # continuation of a comma
        else:
            current = Unit(path(), [i], False)
            units.append(current)
    return _headings_into_bodies(units, blocks)


def _headings_into_bodies(units: list[Unit], blocks: list[Block]) -> list[Unit]:
    """A heading with no text of its own ("Articolo 2 - Aree tecnologiche", a title, an annex heading before
    its first comma) opens the next unit instead of standing alone: a chunk holding only a heading matches
    the question's words best and answers nothing."""
    out: list[Unit] = []
    carry: list[int] = []
    for unit in units:
        if all(blocks[i].kind == "heading" for i in unit.block_ids):
            carry += unit.block_ids
            continue
        if carry:
            unit = Unit(unit.path, carry + unit.block_ids, True)
            carry = []
        out.append(unit)
    if carry:
        out.append(Unit([], carry, True))
    return out


class Splitter:
    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int) -> None:
        self.count_tokens = count_tokens
        self.max_tokens = max_tokens

    def split(self, doc: LoadedDocument, act_like: bool = False) -> tuple[str, list[Piece]]:
        text, spans = doc.layout()
        units = build_units(doc.blocks, act_like)
        pieces: list[Piece] = []
        pending: list[tuple[int, int, str, int | None, int | None]] = []  # start, end, section, pages
        pending_tokens = 0

        def flush() -> None:
            nonlocal pending_tokens
            if pending:
                first, last = pending[0], pending[-1]
                pieces.append(Piece(first[2], first[0], last[1], first[3], last[4]))
                pending.clear()
                pending_tokens = 0

        for unit in units:
            section = " > ".join(unit.path)
            start = spans[unit.block_ids[0]][0]
            end = spans[unit.block_ids[-1]][1]
            p0 = doc.blocks[unit.block_ids[0]].page
            p1 = doc.blocks[unit.block_ids[-1]].page
            tokens = self.count_tokens(text[start:end])
            if unit.boundary or (pending and pending[0][2] != section):
                flush()
            if tokens > self.max_tokens:
                flush()
                for a, b in self._split_long(text, start, end):
                    pieces.append(Piece(section, a, b, self._page_at(doc, spans, a), self._page_at(doc, spans, b - 1)))
                continue
            if pending and pending_tokens + tokens > self.max_tokens:
                flush()
            pending.append((start, end, section, p0, p1))
            pending_tokens += tokens + 1
        flush()
        return text, pieces

    @staticmethod
    def _page_at(doc: LoadedDocument, spans: list[tuple[int, int]], offset: int) -> int | None:
        for (a, b), block in zip(spans, doc.blocks, strict=True):
            if a <= offset < b + 2:
                return block.page
        return doc.blocks[-1].page if doc.blocks else None

    def _split_long(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Pack whole sentences up to the budget; cut a single over-long sentence at clause marks."""
        spans: list[tuple[int, int]] = []
        for a, b in sentence_spans(text, start, end):
            if self.count_tokens(text[a:b]) <= self.max_tokens:
                spans.append((a, b))
            else:
                log.warning("a sentence of %d characters is longer than the model reads; cut at clauses", b - a)
                spans.extend(self._cut_sentence(text, a, b))
        out: list[tuple[int, int]] = []
        cur_a = cur_b = None
        cur_tokens = 0
        for a, b in spans:
            t = self.count_tokens(text[a:b])
            if cur_a is not None and cur_tokens + t > self.max_tokens:
                out.append((cur_a, cur_b))
                cur_a = None
            if cur_a is None:
                cur_a, cur_tokens = a, 0
            cur_b = b
            cur_tokens += t + 1
        if cur_a is not None:
            out.append((cur_a, cur_b))
        return out

    def _cut_sentence(self, text: str, a: int, b: int) -> list[tuple[int, int]]:
        """Cut an over-long sentence at clause marks (; , :), and at spaces only inside a clause that is
        itself too long."""
        pieces = self._pack(text, a, b, r"[;,:]\s+")
        out: list[tuple[int, int]] = []
        for x, y in pieces:
            if self.count_tokens(text[x:y]) > self.max_tokens:
                out.extend(self._pack(text, x, y, r"\s+"))
            else:
                out.append((x, y))
        return [(x, y) for x, y in out if text[x:y].strip()]

    def _pack(self, text: str, a: int, b: int, boundary: str) -> list[tuple[int, int]]:
        cuts = [a + m.end() for m in re.finditer(boundary, text[a:b])] + [b]
        out: list[tuple[int, int]] = []
        seg_start = last_ok = a
        for c in cuts:
            if self.count_tokens(text[seg_start:c]) > self.max_tokens and last_ok > seg_start:
                out.append((seg_start, last_ok))
                seg_start = last_ok
            last_ok = c
        out.append((seg_start, b))
        return trim_spans(text, out)
