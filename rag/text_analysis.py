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

_TOKEN = re.compile(r"[a-z0-9]+")
STOPWORDS = {
    "it": frozenset(STOPWORDS_ITALIAN) | {"dell", "all", "dall", "nell", "sull", "cui", "essere", "ogni"},
    "en": frozenset(STOPWORDS_EN) | {"also", "would", "could", "which", "what", "who", "how", "when"},
}
LANGS = ("it", "en")


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer({"it": "italian", "en": "english"}[lang])


def fold(text: str) -> str:
    """Lowercase and strip accents ("è" and "e'" both become "e")."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


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
    terms: dict[str, None] = {}
    for lg in langs:
        for term in analyze(text, lg):
            terms.setdefault(term, None)
    return list(terms)
