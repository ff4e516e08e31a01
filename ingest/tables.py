"""Tables as text a reader (and a quote) can use: one line per row, each cell named by its column header.

A flattened table ("Fonte Forma Importo FAR Contributo 63.000.000,00 ...") separates a row's label from its
figure; no sentence then carries both. Every loader (PDF, DOCX, HTML, Markdown) hands its rows to
``table_text``, which writes each data row as ``Header: value; Header: value`` under the table's caption.
"""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")


def _cell(value: object) -> str:
    return _WS.sub(" ", str(value or "")).strip()


def _dedupe_merged(cells: list[str]) -> list[str]:
    """A merged cell is reported once per column it spans: keep the first copy."""
    return [c if i == 0 or c != cells[i - 1] else "" for i, c in enumerate(cells)]


def _is_header(row: list[str]) -> bool:
    filled = [c for c in row if c]
    if len(filled) < 2:
        return False
    numeric = sum(bool(re.fullmatch(r"[\d.,%€\s-]+", c)) for c in filled)
    return numeric == 0


def table_text(rows: list[list[object]], caption: str | None = None) -> str:
    """The table's text: its caption (when given) on the first line, then one line per data row."""
    clean = [_dedupe_merged([_cell(c) for c in row]) for row in rows]
    clean = [r for r in clean if any(r)]
    lines = [_cell(caption)] if caption and _cell(caption) else []
    if not clean:
        return "\n".join(lines)
    header = clean[0] if len(clean) > 1 and _is_header(clean[0]) else None
    body = clean[1:] if header else clean
    for row in body:
        if header:
            pairs = [f"{h}: {v}" if h else v for h, v in zip(header, row, strict=False) if v]
            pairs += [v for v in row[len(header):] if v]
            lines.append("; ".join(pairs))
        else:
            lines.append("; ".join(c for c in row if c))
    return "\n".join(lines)
