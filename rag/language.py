"""The language of a question or a text: py3langid restricted to the languages users write in.

Used at query time (the question's language decides stemming, the answer's language and the phrases) and by
ingestion (a document's language); it lives here so that ``rag`` never imports ``ingest``.
"""

from __future__ import annotations

import re
from functools import lru_cache

LANGUAGES = ["it", "en", "fr", "de", "es", "pt"]


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - a py3langid LanguageIdentifier
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=LANGUAGES)


def detect_language(text: str, default: str = "en") -> str:
    sample = text[:4000]
    if len(re.findall(r"\w+", sample)) < 2:
        return default
    lang, _prob = _identifier().classify(sample)
    return str(lang)


def detect_language_with_confidence(text: str) -> tuple[str, float]:
    lang, prob = _identifier().classify(text[:4000])
    return str(lang), float(prob)


def question_language(question: str, history: list[str] | None = None) -> tuple[str | None, float]:
    """The question's language (it or en) and the identifier's confidence; an unsure short question takes the
    language of the latest earlier turn that is sure. None when neither Italian nor English."""
    lang, prob = detect_language_with_confidence(question)
    if lang not in ("it", "en") or prob < 0.7:
        for earlier in reversed(history or []):
            lang2, prob2 = detect_language_with_confidence(earlier)
            if lang2 in ("it", "en") and prob2 >= 0.7:
                return lang2, prob2
    return (lang, prob) if lang in ("it", "en") and prob >= 0.5 else (None, prob)
