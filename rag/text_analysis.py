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
    # Interrogatives carry no content: "qual è la dotazione" must match "la dotazione è".
    "it": frozenset(STOPWORDS_ITALIAN) | {"dell", "all", "dall", "nell", "sull", "cui", "essere", "ogni", "qual",
                                          "quale", "quali", "quando", "quanto", "quanta", "quanti", "quante",
                                          "chi", "come", "cosa", "dove", "perche", "era", "erano", "sono", "stato",
                                          "stata", "stati", "puo", "possono", "sapere", "vorrei", "dire"},
    "en": frozenset(STOPWORDS_EN) | {"also", "would", "could", "which", "what", "who", "how", "when", "where",
                                     "why", "much", "many", "does", "did", "was", "were", "tell", "know", "have", "has", "had", "having",
                                     "out", "get", "got", "make", "made", "its", "it", "they", "them", "their",
                                     "there", "these", "those", "this", "that", "any", "some", "just", "about",
                                     "should", "shall", "might", "must", "may", "do", "done", "up"},
}
LANGS = ("it", "en")
# How help-desk requests are phrased, not what they ask: dropped from questions only.
QUERY_NOISE = {
    "it": {"cittadino", "cittadina", "scrive", "scrivono", "chiede", "chiedono", "chiedendo", "rispondo",
           "rispondiamo", "rispondere", "risposta", "giornalista", "azienda", "pmi", "utente", "email", "mail",
           "gentile", "buongiorno", "grazie", "trovo", "ho", "trovato", "cosa", "dico",
           "diciamo", "sapere", "vorremmo", "vorrei"},
    "en": {"citizen", "writes", "wrote", "asks", "asked", "asking", "answer", "reply", "journalist", "company",
           "email", "emails", "mail", "us", "tell", "say", "hello", "thanks", "found", "should", "can", "could",
           "need", "know", "want", "like", "please", "help", "desk", "helpdesk", "someone", "member"},
}


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
    noise = set().union(*(QUERY_NOISE[lg] for lg in langs))
    words = " ".join(w for w in raw_tokens(text) if w not in noise)
    terms: dict[str, None] = {}
    for lg in langs:
        for term in analyze(words, lg):
            terms.setdefault(term, None)
    return list(terms)
