"""Turn an elliptical follow-up ("E la scadenza?", "And how much funding?") into a full question.

Rule-based for the extractive mode: when the new question names no act, cluster or year of its own and
looks elliptical, the subject (acts, act aliases, clusters, years, capitalised names) of the latest
earlier question that had one is appended.
"""

from __future__ import annotations

import re

from rag.glossary import Glossary
from rag.text_analysis import fold

ELLIPTICAL = re.compile(
    r"^(e|ed|and|what about|how about|e invece|invece|anche|also|e per|and for|e il|e la|e i|e le|e lo|e gli"
    r"|and the|quanto|quanti|quando|chi|who|when|how much|how many|which|quale|quali)\b",
    re.IGNORECASE,
)
# A pronoun pointing back to an earlier question ("What's its protocol number?", "Chi lo ha firmato?").
BACK_REFERENCE = re.compile(
    r"\b(?:its|it|this one|that one|these|those|they|them|their)\b"
    r"|\b(?:suo|sua|suoi|sue|esso|essa|quest'ultim[oa]|lo ha|la ha|li ha|le ha)\b|\bl'ha\b|\bl'hanno\b",
    re.IGNORECASE)
_SUBJECT_PATTERNS = [
    re.compile(r"\b(?:D\.?D\.?|D\.?M\.?|D\.?L\.?|DL|DM|DD|decreto(?:-legge| direttoriale| ministeriale)?|decree(?:-law)?"
               r"|legge|law|nota|note)\s*(?:n\.\s*)?\d+(?:/\w+)?(?:/\d{4})?", re.IGNORECASE),
    re.compile(r"\b(?:avviso|bando|notice|call|decreto|decree|graduatoria|ranking)\s+(?:del|of|dell'|from)?\s*(?:19|20)\d\d",
               re.IGNORECASE),
    re.compile(r"\b(?:19|20)\d\d\s+(?:notice|call|decree|ranking|amendment)", re.IGNORECASE),
    re.compile(r"\b(?:19|20)\d\d\b"),
    re.compile(r"\b[A-Z][A-Za-z.]*[A-Z][A-Za-z.]*\b|\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b"),
    # A single capitalised name inside the sentence ("il bando Zefiro"), not the sentence's first word.
    re.compile(r"(?<=[a-zà-ù,;] )[A-Z][a-zà-ù]{2,}\b"),
]


def subject_of(question: str) -> list[str]:
    found: list[str] = []
    for pattern in _SUBJECT_PATTERNS:
        for m in pattern.finditer(question):
            text = m.group(0).strip()
            if text and not any(text.lower() in f.lower() for f in found):
                found.append(text)
    glossary = Glossary.load()
    folded = fold(question)
    for entry in glossary.acts:
        for phrase in entry["phrases"]:
            if fold(phrase) in folded and not any(fold(phrase) in fold(f) for f in found):
                found.append(phrase)
    return found


def needs_context(question: str) -> bool:
    words = re.findall(r"\w+", question)
    own_subject = [s for s in subject_of(question) if not re.fullmatch(r"[A-Z][a-z]+", s)]
    if own_subject and len(words) > 3:
        return False
    return len(words) <= 6 or bool(ELLIPTICAL.match(question.strip()) or BACK_REFERENCE.search(question))


def rewrite(question: str, history: list[str]) -> str | None:
    """The full question, or None when the question stands alone (or there is no history)."""
    if not history or not needs_context(question):
        return None
    for earlier in reversed(history):
        subject = subject_of(earlier)
        if subject:
            return f"{question.rstrip()} ({'; '.join(subject)})"
    return f"{question.rstrip()} ({history[-1].strip()})"
