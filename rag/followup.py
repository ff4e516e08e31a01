"""Turn an elliptical follow-up ("E la scadenza?", "And who signed it?") into a full question.

For the extractive mode: a follow-up that names no act, cluster or year of its own and is short, opens with
a follow-up word or points back with a pronoun (word lists in ``rag/data/<lang>.yaml``) gets the subject of
the latest earlier question that has one: its acts, years, names and the glossary's act and cluster names.
"""

from __future__ import annotations

import re

from rag.acts import parse_acts
from rag.glossary import Glossary
from rag.lexicon import words
from rag.text_analysis import fold
from rag.values import YEAR, value_spans


def subject_of(question: str) -> list[str]:
    """What the question is about, as written: act references, years, proper names, glossary names."""
    found: list[str] = []

    def add(text: str) -> None:
        text = text.strip(" ,;:.?")
        if text and not any(fold(text) in fold(f) for f in found):
            found.append(text)

    for ref in parse_acts(question):
        add(question[ref.start:ref.end])
    for a, b in value_spans(question)["name"]:
        add(question[a:b])
    for m in YEAR.finditer(question):
        add(m.group(0))
    glossary = Glossary.load()
    folded = fold(question)
    for entry in glossary.acts + glossary.clusters:
        for phrase in entry["phrases"]:
            if re.search(rf"(?<![a-z0-9]){re.escape(fold(phrase))}(?![a-z0-9])", folded):
                add(phrase)
    return found


def _has_any(text: str, phrases: tuple[str, ...], at_start: bool = False) -> bool:
    folded = " " + " ".join(re.findall(r"[\w']+", fold(text))) + " "
    for phrase in phrases:
        p = " " + fold(phrase) + " "
        if (folded.startswith(p) if at_start else p in folded):
            return True
    return False


def needs_context(question: str, lang: str | None = None) -> bool:
    tokens = re.findall(r"\w+", question)
    if subject_of(question) and len(tokens) > 3:
        return False
    return (len(tokens) <= 6 or _has_any(question, words("follow_up_openers", lang), at_start=True)
            or _has_any(question, words("back_references", lang)))


def rewrite(question: str, history: list[str], lang: str | None = None) -> str | None:
    """The full question, or None when the question stands alone (or there is no history)."""
    if not history or not needs_context(question, lang):
        return None
    for earlier in reversed(history):
        subject = subject_of(earlier)
        if subject:
            return f"{question.rstrip()} ({'; '.join(subject)})"
    return f"{question.rstrip()} ({history[-1].strip()})"
