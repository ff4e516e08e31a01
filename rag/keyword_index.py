"""The in-process BM25 index (bm25s) over exactly the chunk ids of the Chroma collection.

Chroma's local mode has no sparse index, so keyword search lives here. The index is persisted next to
the version stamp of the collection it was built from; it is loaded at start and rebuilt only when the
collection's stamp differs, never on a query.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import bm25s
import numpy as np

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s logs every index build at DEBUG to stdout


class KeywordIndex:
    def __init__(self, retriever: bm25s.BM25 | None, size: int) -> None:
        self._bm25 = retriever
        self.size = size
        self._vocab: dict[str, int] = dict(retriever.vocab_dict) if retriever is not None else {}

    @classmethod
    def build(cls, analyzed: list[list[str]]) -> KeywordIndex:
        if not analyzed:
            return cls(None, 0)
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [toks if toks else ["\u2205"] for toks in analyzed]
        retriever.index(corpus, show_progress=False)
        return cls(retriever, len(analyzed))

    def scores(self, terms: list[str], weights: dict[str, float] | None = None) -> np.ndarray:
        """BM25 score of every chunk for the terms (zeros when nothing matches)."""
        out = np.zeros(self.size, dtype=np.float32)
        if self._bm25 is None:
            return out
        known = [t for t in dict.fromkeys(terms) if t in self._vocab]
        if not known:
            return out
        if not weights:
            return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        for term in known:
            w = weights.get(term, 1.0)
            if w:
                out += w * np.asarray(self._bm25.get_scores([term]), dtype=np.float32)
        return out

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many chunks contain each term (0 for unknown terms)."""
        out = dict.fromkeys(terms, 0)
        if self._bm25 is None:
            return out
        indptr = self._bm25.scores["indptr"]
        for term in terms:
            tid = self._vocab.get(term)
            if tid is not None:
                out[term] = int(indptr[tid + 1] - indptr[tid])
        return out

    def save(self, directory: Path) -> None:
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp / "bm25"), show_progress=False)
        (tmp / "meta.json").write_text(json.dumps({"size": self.size, "empty": self._bm25 is None}))
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        meta = json.loads((directory / "meta.json").read_text())
        if meta.get("empty"):
            return cls(None, 0)
        retriever = bm25s.BM25.load(str(directory / "bm25"), show_progress=False)
        return cls(retriever, int(meta["size"]))
