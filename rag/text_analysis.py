"""Keyword analysis: accent folding, stop words and Snowball stemming for Italian and English.

Documents are stemmed in their own language; a question is stemmed in its language, and the
glossary's translations of its terms in the other language, so an English question reaches an
Italian act through the keyword side (the packaged embedding model is English-centred).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_ITALIAN

from rag.lexicon import lexicon

_TOKEN = re.compile(r"[a-z0-9]+")
LANGS = ("it", "en")
# The stemmer's stop words plus the data file's (interrogatives and auxiliaries carry no content: "qual è la
# dotazione" must match "la dotazione è"); QUERY_NOISE: how help-desk requests are phrased, not what they ask
# (dropped from questions only).
STOPWORDS = {"it": frozenset(STOPWORDS_ITALIAN) | set(lexicon("it")["stopwords"]),
             "en": frozenset(STOPWORDS_EN) | set(lexicon("en")["stopwords"])}
QUERY_NOISE = {lg: frozenset(lexicon(lg)["query_noise"]) for lg in LANGS}


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer({"it": "italian", "en": "english"}[lang])


def _fold_table() -> dict[int, str]:
    """Accented Latin letters to their base letters (what NFKD decomposition and dropping the accent give),
    computed once: folding is on the hot path of every query (measured: NFKD per call cost a third of it)."""
    table = {}
    for code in range(0x00C0, 0x0250):
        base = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        if base != chr(code):
            table[code] = base
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lowercase and strip accents ("è" and "e'" both become "e")."""
    folded = text.lower().translate(_FOLD)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)  # what the table does not hold (rare)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def raw_tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def analyze(text: str, lang: str) -> list[str]:
    """Index terms of a text in a known language."""
    lang = lang if lang in LANGS else "en"
    stop = STOPWORDS[lang]
    words = [w for w in raw_tokens(text) if w not in stop and (len(w) > 1 or w.isdigit())]
    return _stemmer(lang).stemWords(words)


def analyze_query(text: str, lang: str | None) -> list[str]:
    """Terms of a question: stemmed in its language, or in both when the language is unsure."""
    langs = [lang] if lang in LANGS else list(LANGS)
    noise = set().union(*(QUERY_NOISE[lg] for lg in langs))
    words = " ".join(w for w in raw_tokens(text) if w not in noise)
    terms: dict[str, None] = {}
    for lg in langs:
        for term in analyze(words, lg):
            terms.setdefault(term, None)
    return list(terms)


def stems_with_positions(text: str, lang: str) -> list[tuple[int, str]]:
    """The index terms of a text with where each starts (in the folded text, which keeps the original's
    offsets for unaccented text and shifts them a little after accented letters)."""
    lang = lang if lang in LANGS else "en"
    stop = STOPWORDS[lang]
    found = [(m.start(), m.group(0)) for m in _TOKEN.finditer(fold(text))
             if m.group(0) not in stop and (len(m.group(0)) > 1 or m.group(0).isdigit())]
    stems = _stemmer(lang).stemWords([w for _, w in found])
    return [(pos, stem) for (pos, _), stem in zip(found, stems, strict=True)]


PREFIX = 5  # letters of a word kept in the cognate index ("ministero"/"ministry" → "minis")


def prefixes(text: str) -> list[str]:
    """Language-neutral index terms: the first letters of every content word. Italian and English share
    most of this program's vocabulary as cognates (proposta/proposal, ministero/ministry, regione/region),
    which stems of one language do not match but prefixes do; the packaged embedding model is English-centred,
    so this is the cross-language path of the keyword side."""
    stop = STOPWORDS["it"] | STOPWORDS["en"]
    return [t[:PREFIX] for t in raw_tokens(text) if t not in stop and len(t) > 2]
