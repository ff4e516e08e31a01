"""Cross-lingual keyword expansion and act aliases from the curated glossary (``rag/data/glossary.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from rag.acts import parse_acts
from rag.text_analysis import analyze, fold

GLOSSARY_PATH = Path(__file__).parent / "data" / "glossary.yaml"


@dataclass(frozen=True)
class Glossary:
    terms: list[dict[str, list[str]]]
    acts: list[dict]

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls, path: Path = GLOSSARY_PATH) -> Glossary:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(data.get("terms", []), data.get("acts", []))

    def expansions(self, question: str, lang: str) -> list[str]:
        """Stems, in the other language, of the glossary terms the question contains."""
        text = " " + " ".join(re.findall(r"[a-z0-9'-]+", fold(question))) + " "
        other = "it" if lang == "en" else "en"
        out: dict[str, None] = {}
        for entry in self.terms:
            mine = entry.get(lang, [])
            if any(f" {fold(term)} " in text for term in mine):
                for term in entry.get(other, []):
                    for stem in analyze(term, other):
                        out.setdefault(stem, None)
        return list(out)

    def act_keys(self, question: str) -> list[str]:
        """Acts the question names: by reference ("DD 257/Ric", "decreto 1610") or by alias ("the 2016 notice")."""
        keys: dict[str, None] = {}
        for ref in parse_acts(question):
            if ref.key:
                keys.setdefault(ref.key, None)
        folded = fold(question)
        for entry in self.acts:
            if any(fold(p) in folded for p in entry["phrases"]):
                keys.setdefault(entry["key"], None)
        return list(keys)
