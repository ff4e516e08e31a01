"""The per-language word lists of the answering core (``rag/data/it.yaml``, ``rag/data/en.yaml``), loaded once.

Code holds mechanisms; these files hold the words (question words, request cues, greetings, recital openings,
...), each list with a line in its file on what it is for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"
LANGS = ("it", "en")


@dataclass(frozen=True)
class Lexicon:
    lang: str
    lists: dict[str, tuple[str, ...]]

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return self.lists.get(name, ())


@lru_cache(maxsize=4)
def lexicon(lang: str) -> Lexicon:
    lang = lang if lang in LANGS else "en"
    data = yaml.safe_load((DATA / f"{lang}.yaml").read_text(encoding="utf-8")) or {}
    return Lexicon(lang, {k: tuple(str(w).lower() for w in v) for k, v in data.items()})


def words(name: str, lang: str | None = None) -> tuple[str, ...]:
    """A list in one language, or in both (Italian first) when the language is not known."""
    if lang in LANGS:
        return lexicon(lang)[name]
    return lexicon("it")[name] + lexicon("en")[name]
