"""The trained models of the extractive answerer, read from a small portable artifact (``rag/data/model/``).

``ctn train`` fits them with scikit-learn and writes plain arrays (``answerer.npz``) and a manifest
(``answerer.json``: what data and which code version they were trained on, the feature order, the chosen
thresholds, the figures of the training run). Inference here is numpy only, so the product never unpickles
anything and does not depend on the training library's version:

- ``KindModel``: which kinds of value a question asks for (a date, an amount, a name, ...): one-vs-rest
  logistic regressions over hashed words and word pairs of the question;
- ``TreeModel``: gradient-boosted trees (the unit scorer: does this unit answer this question part?);
- ``LinearModel``: a standardised logistic regression (the calibrator: is the answer right?, and the
  linear unit scorer kept for comparison).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.text_analysis import fold

MODEL_DIR = Path(__file__).resolve().parents[1] / "data" / "model"
HASH_DIM = 1 << 18


class ModelError(RuntimeError):
    """The artifact is missing, damaged or was trained for other features: retrain with ``ctn train``."""


def question_features(text: str) -> list[str]:
    """The hashed features of a question for the kind model: its words, their stems (Italian and English),
    word pairs, first words."""
    from rag.text_analysis import _stemmer

    toks = re.findall(r"[a-z0-9]+", fold(text))
    feats = [f"w:{t}" for t in toks] + [f"b:{a}_{b}" for a, b in zip(toks, toks[1:], strict=False)]
    feats += [f"s:{t}" for lang in ("it", "en") for t in _stemmer(lang).stemWords(toks)]
    if toks:
        feats += [f"f:{toks[0]}", f"f2:{'_'.join(toks[:2])}", f"f3:{'_'.join(toks[:3])}", "bias"]
    return feats


def hashed(feats: list[str]) -> np.ndarray:
    return np.array([zlib.crc32(f.encode()) % HASH_DIM for f in feats], dtype=np.int64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


@dataclass
class KindModel:
    """Over the question's hashed words and, when given, its sentence embedding (the query vector retrieval
    computed anyway): words say "quando", the embedding says "closing date" is about a date too."""

    classes: list[str]
    buckets: np.ndarray  # sorted hash buckets with weights
    weights: np.ndarray  # (len(buckets), len(classes))
    bias: np.ndarray  # (len(classes),)
    dense: np.ndarray | None = None  # (embedding size, len(classes))

    def predict(self, text: str, vector: np.ndarray | None = None) -> dict[str, float]:
        idx = hashed(question_features(text))
        pos = np.searchsorted(self.buckets, idx)
        inside = pos < len(self.buckets)
        pos, idx = pos[inside], idx[inside]
        hit = pos[self.buckets[pos] == idx]
        raw = self.bias + (self.weights[hit].sum(axis=0) if len(hit) else 0.0)
        if self.dense is not None and vector is not None and len(vector) == self.dense.shape[0]:
            raw = raw + np.asarray(vector, dtype=np.float32) @ self.dense
        return dict(zip(self.classes, sigmoid(raw).tolist(), strict=True))


@dataclass
class TreeModel:
    """Gradient-boosted trees as flat arrays; every tree is walked at once, one level per step."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    missing_left: np.ndarray
    roots: np.ndarray
    depth: int
    baseline: float

    def raw(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth):
            v = x[rows, self.feature[node]]
            go_left = (v <= self.threshold[node]) | (np.isnan(v) & self.missing_left[node])
            node = np.where(self.leaf[node], node, np.where(go_left, self.left[node], self.right[node]))
        return self.baseline + self.value[node].sum(axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(self.raw(x))


@dataclass
class LinearModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        return sigmoid(((x - self.mean) / self.scale) @ self.coef + self.intercept)


@dataclass
class AnswererModel:
    """Everything the extractive answerer learned, and the manifest that says how."""

    kinds: KindModel
    scorer: TreeModel | LinearModel
    calibrator: LinearModel | TreeModel
    features: list[str]
    answer_features: list[str]
    params: dict[str, float]  # thresholds and selection parameters chosen on data
    manifest: dict[str, Any] = field(default_factory=dict)
    scope: LinearModel | None = None  # P(the question is outside the documents' domain), for the route step

    def unit_scores(self, x: np.ndarray) -> np.ndarray:
        return self.scorer.predict(x)

    def confidence(self, x: np.ndarray) -> np.ndarray:
        return self.calibrator.predict(x)


def _tree(arrays: dict[str, np.ndarray], prefix: str) -> TreeModel:
    return TreeModel(*(arrays[f"{prefix}.{k}"] for k in ("feature", "threshold", "left", "right", "leaf", "value",
                                                          "missing_left", "roots")),
                     depth=int(arrays[f"{prefix}.depth"]), baseline=float(arrays[f"{prefix}.baseline"]))


def _linear(arrays: dict[str, np.ndarray], prefix: str) -> LinearModel:
    return LinearModel(arrays[f"{prefix}.mean"], arrays[f"{prefix}.scale"], arrays[f"{prefix}.coef"],
                       float(arrays[f"{prefix}.intercept"]))


def save(path: Path, arrays: dict[str, np.ndarray], manifest: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path.with_suffix(".npz"), **arrays)
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                                         encoding="utf-8")


def load(path: Path = MODEL_DIR / "answerer") -> AnswererModel:
    from rag.answering.extractive import ANSWER_FEATURES
    from rag.answering.features import FEATURES
    from rag.steps.route import SCOPE_FEATURES

    try:
        manifest = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(path.with_suffix(".npz")) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"the answerer's model at {path} cannot be read ({exc}); run `ctn train`") from exc
    if (manifest.get("features") != list(FEATURES) or manifest.get("answer_features") != list(ANSWER_FEATURES)
            or manifest.get("scope_features") != list(SCOPE_FEATURES)):
        raise ModelError("the answerer's model was trained on other features than this code computes; "
                         "run `ctn train`")
    kinds = KindModel(manifest["kind_classes"], arrays["kinds.buckets"], arrays["kinds.weights"],
                      arrays["kinds.bias"], arrays.get("kinds.dense"))
    scorer: TreeModel | LinearModel = (_tree(arrays, "scorer") if manifest["scorer"] == "trees"
                                       else _linear(arrays, "scorer"))
    scope = _linear(arrays, "scope") if "scope.coef" in arrays else None
    calibrator = _tree(arrays, "calibrator") if manifest.get("calibrator") == "trees" else _linear(arrays, "calibrator")
    return AnswererModel(kinds, scorer, calibrator, manifest["features"],
                         manifest["answer_features"], manifest["params"], manifest, scope)


@lru_cache(maxsize=2)
def default_model(path: str = str(MODEL_DIR / "answerer")) -> AnswererModel:
    return load(Path(path))
