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
    clusters: list[dict]

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls, path: Path = GLOSSARY_PATH) -> Glossary:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(data.get("terms", []), data.get("acts", []), data.get("clusters", []))

    def expansions(self, question: str, lang: str) -> list[str]:
        """Stems of the glossary terms equivalent to those the question contains: the other language's
        (so an English question reaches an Italian act) and the same language's synonyms."""
        # "dell'avviso" must match "avviso": an elided article is split off its noun.
        text = " " + " ".join(re.findall(r"[a-z0-9'-]+", fold(question).replace("'", "' "))) + " "
        other = "it" if lang == "en" else "en"
        out: dict[str, None] = {}
        for entry in self.terms:
            mine = entry.get(lang, [])
            if any(f" {fold(term).replace(chr(39), chr(39) + ' ')} " in text for term in mine):
                for lg in (other, lang):
                    for term in entry.get(lg, []):
                        for stem in analyze(term, lg):
                            out.setdefault(stem, None)
        return list(out)

    def equivalents(self, question: str, lang: str) -> dict[str, list[str]]:
        """For each stem of a glossary term the question uses, the stems of its equivalents (the same
        entries as ``expansions``): "promosso" → ["promot", "promotor"]. Evidence scoring counts an
        equivalent as the question's own word, so a question whose word no document uses ("promosso")
        is still matched by the other language's sentence that says it ("promoted")."""
        text = " " + " ".join(re.findall(r"[a-z0-9'-]+", fold(question).replace("'", "' "))) + " "
        other = "it" if lang == "en" else "en"
        out: dict[str, dict[str, None]] = {}
        for entry in self.terms:
            used = [term for term in entry.get(lang, [])
                    if f" {fold(term).replace(chr(39), chr(39) + ' ')} " in text]
            if not used:
                continue
            alternatives = [stem for lg in (other, lang) for term in entry.get(lg, []) for stem in analyze(term, lg)]
            for term in used:
                for stem in analyze(term, lang):
                    for alt in alternatives:
                        if alt != stem:
                            out.setdefault(stem, {}).setdefault(alt, None)
        return {k: list(v) for k, v in out.items()}

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

    def cluster_keys(self, question: str) -> list[str]:
        """Clusters the question names, by acronym or by area name, in either language."""
        folded = " " + " ".join(re.findall(r"[a-z0-9.,]+", fold(question))) + " "
        keys: dict[str, None] = {}
        for entry in self.clusters:
            if any(re.search(rf"(?<![a-z0-9]){re.escape(fold(p))}(?![a-z0-9])", folded) for p in entry["phrases"]):
                keys.setdefault(entry["key"], None)
        return list(keys)
