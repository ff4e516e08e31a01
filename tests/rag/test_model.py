"""The answerer's model artifact: numpy inference equals scikit-learn's, the manifest says what it was
trained on, and a model trained on other features is refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from evals import ROOT
from evals.train import fit_kinds, fit_linear, fit_trees, predict_kinds, tree_arrays
from rag.answering.features import FEATURES
from rag.answering.model import MODEL_DIR, LinearModel, ModelError, _tree, default_model, load


def test_exported_trees_predict_what_scikit_learn_predicts() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5)).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the trees' missing branch
    y = ((np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) ** 2) > 0.3).astype(float)
    clf = fit_trees(x, y, np.ones(len(y)))
    mine = _tree(tree_arrays(clf, "t"), "t").predict(x)
    assert np.allclose(mine, clf.predict_proba(x)[:, 1], atol=1e-6)


def test_a_linear_model_is_a_standardised_logistic_regression() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 3)) * [1, 10, 100]
    y = (x[:, 0] + x[:, 1] / 10 > 0).astype(float)
    arrays = fit_linear(x, y)
    model = LinearModel(arrays["mean"], arrays["scale"], arrays["coef"], float(arrays["intercept"]))
    p = model.predict(x)
    assert ((p > 0.5) == (y > 0.5)).mean() > 0.95


def test_the_kind_model_learns_what_kind_of_value_a_question_asks_for() -> None:
    texts = ["Quando scade il bando?", "Entro quando si presenta la domanda?", "When is the deadline?",
             "Quanto vale il bando?", "How much money is there?", "Qual è la dotazione?"] * 10
    labels = [{"date"}, {"date"}, {"date"}, {"amount"}, {"amount"}, {"amount"}] * 10

    class Part:
        def __init__(self, text: str) -> None:
            self.text, self.vector = text, None

    arrays = fit_kinds(texts, labels)
    date_q, amount_q = predict_kinds(arrays, [Part("Quando scade?"), Part("Quanto vale?")])
    assert date_q["date"] > 0.5 > date_q["amount"]
    assert amount_q["amount"] > 0.5 > amount_q["date"]


def test_the_packaged_model_loads_and_its_manifest_names_its_training_data() -> None:
    model = default_model()
    manifest = model.manifest
    assert model.features == list(FEATURES)
    assert 0.0 < model.params["threshold"] < 1.0
    assert manifest["code_version"] and manifest["trained_at"] and manifest["libraries"]["scikit-learn"]
    tuning = {name: d for name, d in manifest["data"].items() if d["purpose"] == "tuning"}
    assert tuning
    for d in tuning.values():  # the training data is the data of this checkout: retrain after changing it
        assert hashlib.sha256((ROOT / d["file"]).read_bytes()).hexdigest() == d["sha256"], d["file"]


def test_a_model_trained_on_other_features_is_refused(tmp_path: Path) -> None:
    manifest = json.loads((MODEL_DIR / "answerer.json").read_text(encoding="utf-8"))
    manifest["features"] = manifest["features"][:-1]
    (tmp_path / "answerer.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "answerer.npz").write_bytes((MODEL_DIR / "answerer.npz").read_bytes())
    with pytest.raises(ModelError, match="ctn train"):
        load(tmp_path / "answerer")


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot be read"):
        load(tmp_path / "nothing")
