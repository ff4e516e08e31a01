"""Sentence boundaries for Italian and English administrative text.

Chunks never end inside a sentence and the extractive answerer quotes whole sentences, so both use
this one splitter. Abbreviations common in Italian acts ("n.", "art.", "D.D.", "lett.") are not ends.
"""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "n", "nn", "art", "artt", "lett", "prot", "pag", "pagg", "p", "pp", "sig", "sigg", "dott", "prof", "ing",
    "avv", "ecc", "es", "cfr", "co", "c", "vol", "cap", "par", "no", "nos", "nr", "num", "e.g", "i.e", "vs",
    "st", "mr", "mrs", "dr", "fig", "tab", "all", "reg", "sez", "cd", "d", "l", "dl", "dd", "dm", "gu",
    "spa", "srl", "etc", "approx", "inc", "ltd", "jr", "sr", "ca", "min", "max", "mln", "mld", "tel",
}
_CANDIDATE = re.compile(r"[.!?](?:[\"'»”)\]]*)\s+(?=[\"'«“(\[]?[A-ZÀÈÉÌÒÙ0-9])")
_NEWLINES = re.compile(r"\n\s*\n|\n(?=\s*(?:[-•*–]|\d+[.)]|[a-z]\))\s)")


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "."):
        start -= 1
    token = text[start:dot].lower().rstrip(".")
    if not token:
        return False
    if token in ABBREVIATIONS or token.replace(".", "") in ABBREVIATIONS:
        return True
    if "." in token and all(len(part) <= 2 for part in token.split(".")):
        return True  # D.D., G.U., S.p.A.
    if len(token) == 1 and token.isalpha():
        return True  # an initial
    if token.isdigit():
        line_start = text.rfind("\n", 0, start) + 1
        if not text[line_start:start].strip():
            return True  # "1." opening a numbered paragraph (comma)
    return False


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    cuts = [start]
    segment = text[start:end]
    for m in _NEWLINES.finditer(segment):
        cuts.append(start + m.start())
    for m in _CANDIDATE.finditer(segment):
        if not _is_abbreviation(text, start + m.start()):
            cuts.append(start + m.start() + 1 + len(m.group(0)) - 1 - len(m.group(0).lstrip(".!?").lstrip("\"'»”)]")))
    cuts = sorted(set(cuts)) + [end]
    return trim_spans(text, list(zip(cuts, cuts[1:], strict=False)))


def trim_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans without surrounding whitespace; empty ones dropped."""
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]
