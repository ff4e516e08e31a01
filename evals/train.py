"""``ctn train``: fit the extractive answerer's models on the tuning sets, choose its threshold on the
development sets, and write the artifact (``rag/data/model/answerer.npz`` + ``answerer.json``).

One reproducible command, from the question sets of ``evals/sets.yaml`` and a training split of SQuAD-it:

1. every question goes through the product's own pipeline up to ``rerank`` (the same analysis, retrieval and
   units the answerer sees at run time);
2. the kind model learns which kinds of value a question asks for from the kinds of its key facts (and of
   SQuAD-it's answer spans); its out-of-fold predictions feed the features, so training sees what a new
   question gets;
3. the unit scorer (gradient-boosted trees; a linear model is fitted beside it for comparison) learns which
   units hold a key fact, with out-of-fold predictions by question;
4. the quote selection parameters are chosen on those out-of-fold predictions, and the calibrator learns
   from them whether an answer built that way holds every key fact (unanswerable questions never do);
5. the answer threshold is chosen on the development sets (never trained on): the one that maximises key-fact
   accuracy plus refusal accuracy there, among those that refuse at most 10% of the answerable questions (the
   false-refusal bar; a penalty for false refusals beyond it also weighs in the objective; the whole curve is in the
   manifest); the scope model learns from
   the in-domain and out-of-domain questions whether the documents have anything to do with a question.

The manifest records the data (files and their SHA-256), the code version (git commit), the library versions,
the parameters, and the figures of the run.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from evals import ROOT, norm
from evals.progress import Bars
from evals.sets import Services, load_sets
from rag.answering.compose import MAX_QUOTE, quote_of
from rag.answering.draft import PartDraft
from rag.answering.extractive import ANSWER_FEATURES, decide, part_context
from rag.answering.features import ANSWER_KINDS, FEATURES, PartContext, featurize
from rag.answering.model import HASH_DIM, MODEL_DIR, hashed, question_features, save
from rag.answering.units import Unit, following_items, units_of
from rag.state import AnswerState
from rag.steps.route import SCOPE_FEATURES, scope_features
from rag.values import kinds_of_fact

log = logging.getLogger(__name__)

SEED = 13
FOLDS = 5
SQUAD_TRAIN_QUESTIONS = 1500  # spread over the training articles (even-numbered ones)
SQUAD_WEIGHT = 0.3  # SQuAD-it's share of the unit scorer's training weight (its questions are easier)
SQUAD_WITHHELD_EVERY = 2  # every second SQuAD-it question also trains as unanswerable, its passage withheld
GRID = {"quote_ratio": (0.35, 0.5, 0.65, 0.8), "quote_min": (0.05, 0.15, 0.3), "max_quotes": (2, 3, 4),
        "part_quotes": (2, 3)}  # max_quotes for a one-part question, part_quotes for each part of several
KIND_DENSE_SCALE = 3.0  # the embedding's columns scaled up to weigh against the word counts under one penalty
KIND_OWN_WEIGHT = 3.0  # a question of ours counts three SQuAD-it questions in the kind model (our kinds are rarer)
SCOPE_MIN_THRESHOLD = 0.8  # out of scope only when sure: otherwise the calibrated abstention decides
IDLE_QUOTE_COST = 0.05  # per quote holding no key fact, against the share of answers holding every key fact
FALSE_REFUSAL_BAR = 0.10
FALSE_REFUSAL_PENALTY = 2.0
SMOOTH = 3  # thresholds on each side averaged when choosing the threshold


@dataclass
class PartData:
    text: str
    query: str
    base: dict[str, Any]  # PartContext arguments except the kinds
    units: list[Unit]
    vector: np.ndarray | None = None  # the embedding of ``query`` (retrieval computed it): the kind model reads it
    x: np.ndarray | None = None
    y: np.ndarray | None = None


@dataclass
class Example:
    set_name: str
    purpose: str
    qid: str
    question: str
    answerable: bool
    key_facts: tuple[tuple[str, ...], ...]
    out_of_domain: bool
    parts: list[PartData]
    scope_x: np.ndarray
    kind_text: str  # the text the kind model reads (the question's core)
    kind_labels: set[str] = field(default_factory=set)
    squad: bool = False


def _contains_fact(text: str, group: tuple[str, ...]) -> bool:
    """The metric's match (``evals.answers``): an alternative inside the text."""
    t = norm(text)
    return any(norm(a) and norm(a) in t for a in group)


def _holds_fact(text: str, group: tuple[str, ...]) -> bool:
    """The training label's match: as the metric, but a short number ("8", "11") must stand as a number of its
    own, not inside "2018" or "118", or every unit with digits would be labelled an answer."""
    import re

    t = norm(text)
    for a in (norm(x) for x in group):
        if not a:
            continue
        if re.fullmatch(r"\d{1,3}", a):
            if re.search(rf"(?<![\d.,]){a}(?![\d]|[.,]\d)", t):
                return True
        elif a in t:
            return True
    return False


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _collect_state(pipe, svc, question: str, history: list[str]) -> AnswerState:  # noqa: ANN001
    return pipe.state(question, history=history or None, until="rerank")


def _parts_of(s: AnswerState, snapshot, vectors) -> list[PartData]:  # noqa: ANN001 - a Snapshot, query_vector
    out = []
    for ev in s.evidence:
        ctx = part_context(snapshot, s, ev, {})
        base = {"text": ctx.text, "language": ctx.language, "weights": ctx.weights, "df": ctx.df,
                "n_chunks": ctx.n_chunks, "equivalents": ctx.equivalents, "numbers": ctx.numbers, "parts": ctx.parts}
        units = [u for rank, c in enumerate(ev.chunks) for u in units_of(c, rank)]
        out.append(PartData(ev.part.text, ev.part.query, base, units, np.asarray(vectors(ev.part.query))))
    return out


def collect(services: Services, bars: Bars, purposes: tuple[str, ...]) -> list[Example]:
    from rag.pipeline import AnswerPipeline

    _corpora, sets = load_sets()
    out: list[Example] = []
    for qset in [s for s in sets if s.purpose in purposes]:
        svc = services.get(qset.corpus)
        pipe = AnswerPipeline(svc.retriever, svc.settings, load_model=False)
        snapshot = svc.index.snapshot
        items = qset.items()
        with bars.task(f"evidence: {qset.name}", len(items)) as advance:
            for item in items:
                s = _collect_state(pipe, svc, item.question, list(item.history))
                terms = list(dict.fromkeys(t for ev in s.evidence for t in ev.plan.weights))
                scope_x = scope_features(s, snapshot.keyword.document_frequencies(terms), len(snapshot))
                labels: set[str] = set()
                for group in item.key_facts:
                    labels |= kinds_of_fact(group)
                out.append(Example(qset.name, qset.purpose, item.id, item.question, item.answerable,
                                   item.key_facts, "out_of_domain" in item.tags, _parts_of(s, snapshot, pipe.retriever.query_vector),
                                   scope_x, s.analysis.core if s.analysis else item.question, labels))
                advance()
    return out


def collect_squad(base, bars: Bars, limit: int = SQUAD_TRAIN_QUESTIONS) -> list[Example]:  # noqa: ANN001
    """SQuAD-it's training split (even-numbered articles) through the same pipeline, over its own store."""
    from evals import squad
    from evals.benchstore import BenchStore
    from rag.pipeline import AnswerPipeline

    bench = BenchStore("squad-it", base.settings.data_dir, base.embedder, base.settings)
    passages, questions = squad.load()
    with bars.task("squad-it: store", len(passages)) as advance:
        bench.ensure(passages, "it", progress=lambda done, total: advance(done, total))
    train = squad.spread_sample([q for q in questions if squad.is_train(q)], limit)
    pipe = AnswerPipeline(bench.retriever, bench.settings, load_model=False)
    snapshot = bench.index.snapshot
    out = []
    with bars.task("evidence: squad-it train", len(train)) as advance:
        for q in train:
            s = pipe.state(q.text, lang="it", until="rerank")
            facts = (tuple(q.answers),)
            terms = list(dict.fromkeys(t for ev in s.evidence for t in ev.plan.weights))
            scope_x = scope_features(s, snapshot.keyword.document_frequencies(terms), len(snapshot))
            out.append(Example("squad_train", "tuning", q.qid, q.text, True, facts, False,
                               _parts_of(s, snapshot, pipe.retriever.query_vector), scope_x, s.analysis.core if s.analysis else q.text,
                               kinds_of_fact(q.answers), squad=True))
            advance()
    return out


def withheld_variants(examples: list[Example]) -> list[Example]:
    """Unanswerable twins of answered questions: the same retrieval with every chunk that holds the answer
    withheld, the rest re-ranked in order. What is left is what a collection without the answer gives: the
    passages nearest to it, on the same subject (SQuAD 2.0's lesson: refusals are learned from near misses)."""
    out = []
    for ex in examples:
        parts = []
        for part in ex.parts:
            held = {u.chunk.chunk_id for u in part.units if any(_holds_fact(u.chunk.text, g) for g in ex.key_facts)}
            if not held:
                break  # the answer was not retrieved: the original already trains as a miss
            chunks = list({u.chunk.chunk_id: u.chunk for u in part.units if u.chunk.chunk_id not in held}.values())
            units = [u for rank, c in enumerate(chunks) for u in units_of(c, rank)]
            parts.append(PartData(part.text, part.query, part.base, units, part.vector))
        if len(parts) == len(ex.parts) and all(p.units for p in parts):
            out.append(Example(ex.set_name, ex.purpose, ex.qid + "-withheld", ex.question, False, (), False, parts,
                               ex.scope_x, ex.kind_text, set(), squad=True))
    return out


# --- the kind model ------------------------------------------------------------------------------------


def _kind_matrix(texts: list[str]):  # noqa: ANN202 - a scipy CSR matrix
    from scipy.sparse import csr_matrix

    rows, cols = [], []
    for i, t in enumerate(texts):
        idx = hashed(question_features(t))
        rows += [i] * len(idx)
        cols += idx.tolist()
    data = np.ones(len(rows), dtype=np.float32)
    m = csr_matrix((data, (rows, cols)), shape=(len(texts), HASH_DIM))
    m.sum_duplicates()
    return m


def fit_kinds(texts: list[str], labels: list[set[str]], weights: list[float] | None = None,
              vectors: list[np.ndarray] | None = None) -> dict[str, np.ndarray]:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    x = _kind_matrix(texts)
    w = np.asarray(weights if weights is not None else [1.0] * len(texts))
    used = np.unique(x.indices)
    design = x[:, used]
    dim = len(vectors[0]) if vectors else 0
    if dim:
        design = hstack([design, csr_matrix(np.vstack(vectors).astype(np.float32) * KIND_DENSE_SCALE)]).tocsr()
    weights = np.zeros((len(used), len(ANSWER_KINDS)), dtype=np.float32)
    dense = np.zeros((dim, len(ANSWER_KINDS)), dtype=np.float32)
    bias = np.zeros(len(ANSWER_KINDS), dtype=np.float32)
    for j, kind in enumerate(ANSWER_KINDS):
        y = np.array([kind in lab for lab in labels], dtype=int)
        if y.min() == y.max():
            bias[j] = -8.0 if y.max() == 0 else 8.0
            continue
        clf = LogisticRegression(C=1.0, max_iter=3000)
        clf.fit(design, y, sample_weight=w)
        weights[:, j] = clf.coef_[0][: len(used)]
        dense[:, j] = clf.coef_[0][len(used):] * KIND_DENSE_SCALE
        bias[j] = clf.intercept_[0]
    out = {"kinds.buckets": used.astype(np.int64), "kinds.weights": weights, "kinds.bias": bias}
    if dim:
        out["kinds.dense"] = dense
    return out


def predict_kinds(arrays: dict[str, np.ndarray], parts: list[PartData]) -> list[dict[str, float]]:
    from rag.answering.model import KindModel

    model = KindModel(list(ANSWER_KINDS), arrays["kinds.buckets"], arrays["kinds.weights"], arrays["kinds.bias"],
                      arrays.get("kinds.dense"))
    return [model.predict(p.text, p.vector) for p in parts]


def _folds(n: int, groups: list[str] | None = None) -> list[np.ndarray]:
    rng = np.random.default_rng(SEED)
    keys = sorted(set(groups)) if groups else list(range(n))
    order = rng.permutation(len(keys))
    fold_of_key = {keys[k]: i % FOLDS for i, k in enumerate(order)}
    assign = np.array([fold_of_key[groups[i]] if groups else fold_of_key[i] for i in range(n)])
    return [np.where(assign == f)[0] for f in range(FOLDS)]


# --- unit scorers --------------------------------------------------------------------------------------


def fit_trees(x: np.ndarray, y: np.ndarray, w: np.ndarray):  # noqa: ANN201 - a fitted sklearn model
    from sklearn.ensemble import HistGradientBoostingClassifier

    # Small trees: on the development sets, 8 leaves and 100 examples per leaf generalised better than 24 / 30.
    clf = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.06, max_leaf_nodes=8, min_samples_leaf=100,
                                         l2_regularization=1.0, random_state=SEED)
    clf.fit(x, y, sample_weight=w)
    return clf


def fit_linear(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, c: float = 1.0):  # noqa: ANN201
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=5000)
    clf.fit((x - mean) / scale, y, sample_weight=w)
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "coef": clf.coef_[0].astype(np.float32), "intercept": np.float32(clf.intercept_[0])}


def fit_calibrator_trees(x: np.ndarray, y: np.ndarray):  # noqa: ANN201 - a fitted sklearn model
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_depth=3, min_samples_leaf=40,
                                          l2_regularization=2.0, random_state=SEED).fit(x, y)


def choose_calibrator(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> tuple[str, dict]:
    """A logistic regression or small trees, whichever has the lower out-of-fold log-loss on the training
    questions (SQuAD-it rows, fold -1, are always in training)."""
    from sklearn.metrics import log_loss, roc_auc_score

    oof = {"linear": np.full(len(y), np.nan), "trees": np.full(len(y), np.nan)}
    for f in sorted(set(folds.tolist()) - {-1}):
        tr, te = folds != f, folds == f
        oof["linear"][te] = _predict_linear(fit_linear(x[tr], y[tr], c=0.3), x[te])
        oof["trees"][te] = fit_calibrator_trees(x[tr], y[tr]).predict_proba(x[te])[:, 1]
    held = folds != -1
    report = {k: {"log_loss": round(float(log_loss(y[held], np.clip(v[held], 1e-6, 1 - 1e-6))), 4),
                  "auc": round(float(roc_auc_score(y[held], v[held])), 4)} for k, v in oof.items()}
    return min(report, key=lambda k: report[k]["log_loss"]), report


def tree_arrays(clf, prefix: str) -> dict[str, np.ndarray]:  # noqa: ANN001
    """The fitted trees as flat arrays (``rag.answering.model.TreeModel``)."""
    feats, thr, left, right, leaf, value, miss, roots = [], [], [], [], [], [], [], []
    offset, depth = 0, 0
    for stage in clf._predictors:
        nodes = stage[0].nodes
        roots.append(offset)
        feats.append(nodes["feature_idx"].astype(np.int64))
        thr.append(nodes["num_threshold"].astype(np.float64))
        left.append(nodes["left"].astype(np.int64) + offset)
        right.append(nodes["right"].astype(np.int64) + offset)
        leaf.append(nodes["is_leaf"].astype(bool))
        value.append(nodes["value"].astype(np.float64))
        miss.append(nodes["missing_go_to_left"].astype(bool))
        depth = max(depth, int(nodes["depth"].max()))
        offset += len(nodes)
    return {f"{prefix}.feature": np.concatenate(feats), f"{prefix}.threshold": np.concatenate(thr),
            f"{prefix}.left": np.concatenate(left), f"{prefix}.right": np.concatenate(right),
            f"{prefix}.leaf": np.concatenate(leaf), f"{prefix}.value": np.concatenate(value),
            f"{prefix}.missing_left": np.concatenate(miss), f"{prefix}.roots": np.array(roots, dtype=np.int64),
            f"{prefix}.depth": np.array(depth + 1), f"{prefix}.baseline": np.array(float(clf._baseline_prediction[0][0]))}


def linear_arrays(model: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": np.asarray(v) for k, v in model.items()}


def _predict_linear(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    z = ((x - model["mean"]) / model["scale"]) @ model["coef"] + model["intercept"]
    return 1 / (1 + np.exp(-z))


# --- building and judging answers offline -------------------------------------------------------------


def featurise(examples: list[Example], kinds: list[list[dict[str, float]]]) -> None:
    for ex, ks in zip(examples, kinds, strict=True):
        for part, k in zip(ex.parts, ks, strict=True):
            ctx = PartContext(**part.base, kinds=k)
            part.x = featurize(ctx, part.units)
            part.y = np.array([ex.answerable and any(_holds_fact(label_text(u), g) for g in ex.key_facts)
                               for u in part.units], dtype=np.float32)


def label_text(unit: Unit) -> str:
    """What an answer quoting the unit shows: a lead-in is quoted with the items it introduces
    (``rag.answering.compose.quote_of``), so a list question's lead-in holds the facts its items hold."""
    items = following_items(unit)
    if items and items[-1].end - unit.start <= MAX_QUOTE:
        return unit.chunk.text[unit.start:items[-1].end]
    return unit.text


def drafts(ex: Example, scores: list[np.ndarray], kinds: list[dict[str, float]], params: dict[str, float],
           confidence_of) -> list[PartDraft]:  # noqa: ANN001
    max_quotes = int(params["max_quotes"] if len(ex.parts) == 1 else params["part_quotes"])
    out = []
    for part, p, k in zip(ex.parts, scores, kinds, strict=True):
        ctx = PartContext(**part.base, kinds=k)
        out.append(decide(part.text, ctx, part.units, part.x, p, params, max_quotes, confidence_of))
    return out


def answer_text(parts: list[PartDraft]) -> str:
    return "\n".join((p.direct + " " if p.direct else "") + " ".join(quote_of(e) for e in p.evidence) for p in parts)


def judge(ex: Example, parts: list[PartDraft]) -> tuple[bool, list[bool]]:
    """(is the whole answer right, is each part's answer useful) for answers built from every part."""
    if not ex.answerable:
        return False, [False] * len(parts)
    whole = all(_contains_fact(answer_text(parts), g) for g in ex.key_facts)
    if len(parts) == 1:
        return whole, [whole]
    return whole, [any(_contains_fact(answer_text([p]), g) for g in ex.key_facts) for p in parts]


def _always(_f: np.ndarray) -> np.ndarray:
    return np.ones(1)


# --- the command ---------------------------------------------------------------------------------------


def collect_all(base, bars: Bars, squad_questions: int, cache: Path | None = None  # noqa: ANN001
                ) -> tuple[list[Example], list[Example], list[Example]]:
    """The evidence of every question; ``cache`` keeps it between runs of a developer iterating on the
    models (it is valid only while retrieval, units and question sets are unchanged)."""
    import pickle

    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            return pickle.load(fh)
    services = Services(base)
    collected = (collect(services, bars, ("tuning",)), collect(services, bars, ("development",)),
                 collect_squad(base, bars, squad_questions) if squad_questions else [])
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("wb") as fh:
            pickle.dump(collected, fh)
    return collected


def train(base, bars: Bars, out: Path = MODEL_DIR / "answerer", squad_questions: int = SQUAD_TRAIN_QUESTIONS,
          report: dict | None = None, cache: Path | None = None, compare: bool = False
          ) -> dict:  # noqa: ANN001 - ctn.service.AssistantService
    import sklearn

    started = time.perf_counter()
    tuning, development, squad_train = collect_all(base, bars, squad_questions, cache)
    squad_train = squad_train + withheld_variants(squad_train[::SQUAD_WITHHELD_EVERY])
    train_set = tuning + squad_train
    log.info("examples: %d tuning, %d squad, %d development", len(tuning), len(squad_train), len(development))

    # 2. kinds, out of fold for the training features; a part's kinds come from its own text, as at run time
    kind_rows = [i for i, ex in enumerate(train_set) if ex.answerable]
    kind_texts = [train_set[i].kind_text for i in kind_rows]
    kind_labels = [train_set[i].kind_labels for i in kind_rows]
    kind_weights = [1.0 if train_set[i].squad else KIND_OWN_WEIGHT for i in kind_rows]
    kind_vectors = [train_set[i].parts[0].vector for i in kind_rows]
    oof_kinds: list[list[dict[str, float]]] = [[] for _ in train_set]
    folds = _folds(len(train_set), [ex.set_name + ex.qid.removesuffix("-withheld") for ex in train_set])
    for held in folds:
        held_set = set(held.tolist())
        rows = [j for j, i in enumerate(kind_rows) if i not in held_set]
        arrays = fit_kinds([kind_texts[j] for j in rows], [kind_labels[j] for j in rows],
                           [kind_weights[j] for j in rows], [kind_vectors[j] for j in rows])
        for i in held:
            oof_kinds[i] = predict_kinds(arrays, train_set[i].parts)
    kinds_final = fit_kinds(kind_texts, kind_labels, kind_weights, kind_vectors)
    dev_kinds = [predict_kinds(kinds_final, ex.parts) for ex in development]
    featurise(train_set, oof_kinds)
    featurise(development, dev_kinds)

    # 3. unit scorers, out of fold by question
    rows_x, rows_y, rows_w, rows_fold = [], [], [], []
    fold_of = np.zeros(len(train_set), dtype=int)
    for f, held in enumerate(folds):
        fold_of[held] = f
    n_squad = sum(1 for ex in train_set if ex.squad)
    n_own = len(train_set) - n_squad
    for i, ex in enumerate(train_set):
        w = (SQUAD_WEIGHT * n_own / max(n_squad, 1) / (1 - SQUAD_WEIGHT)) if ex.squad else 1.0
        for part in ex.parts:
            if part.x is not None and len(part.x):
                rows_x.append(part.x)
                rows_y.append(part.y)
                rows_w.append(np.full(len(part.x), w / max(len(part.x), 1) * 50, dtype=np.float32))
                rows_fold.append(np.full(len(part.x), fold_of[i]))
    x_all, y_all = np.concatenate(rows_x), np.concatenate(rows_y)
    w_all, f_all = np.concatenate(rows_w), np.concatenate(rows_fold)
    oof_trees = np.zeros(len(y_all))
    oof_linear = np.zeros(len(y_all))
    with bars.task("unit scorers (5 folds)", FOLDS) as advance:
        for f in range(FOLDS):
            tr, te = f_all != f, f_all == f
            oof_trees[te] = fit_trees(x_all[tr], y_all[tr], w_all[tr]).predict_proba(x_all[te])[:, 1]
            oof_linear[te] = _predict_linear(fit_linear(x_all[tr], y_all[tr], w_all[tr]), x_all[te])
            advance()
    trees = fit_trees(x_all, y_all, w_all)
    linear = fit_linear(x_all, y_all, w_all)
    scorer_arrays = tree_arrays(trees, "scorer")
    _check_trees(trees, scorer_arrays, x_all[:2000])

    def split_scores(flat: np.ndarray) -> list[list[np.ndarray]]:
        out, pos = [], 0
        for ex in train_set:
            per = []
            for part in ex.parts:
                n = len(part.units)
                per.append(flat[pos:pos + n] if n else np.zeros(0))
                pos += n
            out.append(per)
        return out

    oof_by_ex = {"trees": split_scores(oof_trees), "linear": split_scores(oof_linear)}
    unit_report = {name: _unit_metrics(train_set, scores) for name, scores in oof_by_ex.items()}

    # 4. selection parameters, then the calibrator, on out-of-fold scores of our own questions
    own = [i for i, ex in enumerate(train_set) if not ex.squad]
    best_params, best_acc, best_objective = None, -1.0, -1.0
    for ratio, qmin, maxq, partq in itertools.product(*GRID.values()):
        params = {"quote_ratio": ratio, "quote_min": qmin, "max_quotes": maxq, "part_quotes": partq,
                  "threshold": -1.0}
        right, extra, idle = [], 0, 0
        for i in own:
            ex = train_set[i]
            if not ex.answerable:
                continue
            ds = drafts(ex, oof_by_ex["trees"][i], oof_kinds[i], params, _always)
            right.append(judge(ex, ds)[0])
            for d in ds:
                for ev in d.evidence[1:]:
                    extra += 1
                    idle += not any(_holds_fact(quote_of(ev), g) for g in ex.key_facts)
        acc = float(np.mean(right))
        # More quotes find more key facts; a quote that holds none is noise a reader has to skip.
        objective = acc - IDLE_QUOTE_COST * idle / max(len(right), 1)
        if objective > best_objective:
            best_params, best_acc, best_objective = params, acc, objective
    assert best_params is not None
    cal_x, cal_y, cal_fold = [], [], []
    for i, ex in enumerate(train_set):
        ds = drafts(ex, oof_by_ex["trees"][i], oof_kinds[i], best_params, _always)
        _whole, useful = judge(ex, ds)
        for d, ok in zip(ds, useful, strict=True):
            if d.features is not None:
                cal_x.append(d.features)
                cal_y.append(float(ok))
                cal_fold.append(fold_of[i] if not ex.squad else -1)
    cal_x_arr, cal_y_arr, cal_fold_arr = np.array(cal_x), np.array(cal_y), np.array(cal_fold)
    calibrator_kind, calibrator_report = choose_calibrator(cal_x_arr, cal_y_arr, cal_fold_arr)
    if calibrator_kind == "trees":
        cal_trees = fit_calibrator_trees(cal_x_arr, cal_y_arr)
        calibrator_arrays = tree_arrays(cal_trees, "calibrator")

        def calibrated(f: np.ndarray) -> np.ndarray:
            return cal_trees.predict_proba(f)[:, 1]
    else:
        cal_linear = fit_linear(cal_x_arr, cal_y_arr, c=0.3)
        calibrator_arrays = linear_arrays(cal_linear, "calibrator")

        def calibrated(f: np.ndarray) -> np.ndarray:
            return _predict_linear(cal_linear, f)

    # 5. the threshold on the development sets, with the final models
    params = dict(best_params)
    dev_rows = []
    for ex, ks in zip(development, dev_kinds, strict=True):
        scores = [trees.predict_proba(p.x)[:, 1] if len(p.units) else np.zeros(0) for p in ex.parts]
        ds = drafts(ex, scores, ks, params, calibrated)
        dev_rows.append((ex, ds))
    curve = _curve(dev_rows)
    # The objective is noisy on a few hundred questions: each threshold is judged by the mean of its
    # neighbours'. The false-refusal bar is a constraint, not only a penalty: a threshold that refuses more than
    # FALSE_REFUSAL_BAR of the answerable development questions is not chosen while another one is allowed.
    smooth = [np.mean([c["utility"] for c in curve[max(0, i - SMOOTH):i + SMOOTH + 1]]) for i in range(len(curve))]
    allowed = [i for i, c in enumerate(curve) if c["false_refusals"] <= FALSE_REFUSAL_BAR] or list(range(len(curve)))
    best = curve[max(allowed, key=lambda i: smooth[i])]
    params["threshold"] = best["threshold"]
    params["amendment_min"] = params["quote_min"]

    # scope: in-domain or not, from every collected question
    scope_examples = [ex for ex in tuning + development]
    sx = np.array([np.concatenate([ex.scope_x, ex.parts[0].vector]) for ex in scope_examples])
    sy = np.array([ex.out_of_domain for ex in scope_examples], dtype=float)
    scope = fit_linear(sx, sy, c=0.3)
    in_domain_p = _predict_linear(scope, sx[sy == 0])
    # Conservative: a question routed out wrongly is lost, while an out-of-domain question let through still
    # meets the calibrated abstention. No in-domain question of the sets may be routed out.
    params["scope_threshold"] = float(max(SCOPE_MIN_THRESHOLD, np.quantile(in_domain_p, 0.998) + 1e-3))

    comparison = {}
    if compare:
        from evals.compare import compare as compare_scorers

        comparison = compare_scorers(train_set, oof_by_ex["trees"], development, dev_kinds, params, {
            "linear (logistic regression)": lambda x: _predict_linear(linear, x),
            "gradient-boosted trees (shipped)": lambda x: trees.predict_proba(x)[:, 1]}, bars)

    arrays: dict[str, np.ndarray] = {**kinds_final, **scorer_arrays, **calibrator_arrays,
                                     **linear_arrays(scope, "scope"), **linear_arrays(linear, "linear")}
    corpora, sets = load_sets()
    manifest = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": _git_commit(),
        "libraries": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "data": {s.name: {"file": s.path.relative_to(ROOT).as_posix(), "sha256": _sha(s.path), "purpose": s.purpose}
                 for s in sets if s.purpose in ("tuning", "development")},
        "squad_it_train": {"questions": len(squad_train), "split": "even-numbered articles"},
        "features": list(FEATURES), "answer_features": list(ANSWER_FEATURES), "scope_features": list(SCOPE_FEATURES),
        "kind_classes": list(ANSWER_KINDS), "scorer": "trees", "calibrator": calibrator_kind, "params": params,
        "comparison": comparison,
        "metrics": {"unit_scorers_out_of_fold": unit_report, "selection_out_of_fold_key_facts": best_acc,
                    "development_curve": curve, "chosen": best,
                    "calibrator_examples": len(cal_y), "calibrators_out_of_fold": calibrator_report, "seconds": round(time.perf_counter() - started, 1)},
    }
    save(out, arrays, manifest)
    from rag.answering.model import default_model

    default_model.cache_clear()
    if report is not None:
        report["examples"] = (tuning, development, squad_train)
    return manifest


def _check_trees(clf, arrays: dict[str, np.ndarray], x: np.ndarray) -> None:  # noqa: ANN001
    """The exported trees must predict what scikit-learn predicts."""
    from rag.answering.model import _tree

    mine = _tree(arrays, "scorer").predict(x)
    theirs = clf.predict_proba(x)[:, 1]
    if not np.allclose(mine, theirs, atol=1e-5):
        raise AssertionError(f"exported trees differ from scikit-learn's by {np.abs(mine - theirs).max():.2e}")


def _unit_metrics(examples: list[Example], scores: list[list[np.ndarray]]) -> dict[str, float]:
    """Precision at 1 of the unit ranking on answerable single-part questions whose units hold a key fact."""
    hits = {"own": [], "squad": []}
    for ex, per in zip(examples, scores, strict=True):
        if not ex.answerable or len(ex.parts) != 1 or not len(per[0]) or ex.parts[0].y is None or not ex.parts[0].y.any():
            continue
        hits["squad" if ex.squad else "own"].append(float(ex.parts[0].y[int(np.argmax(per[0]))] > 0))
    return {f"p_at_1_{k}": round(float(np.mean(v)), 4) if v else math.nan for k, v in hits.items()}


def _curve(rows: list[tuple[Example, list[PartDraft]]]) -> list[dict[str, float]]:
    """For each threshold: the share of answers right, the share answered, refusals, false refusals, and the
    objective the threshold maximises: key-fact accuracy on answerable questions plus refusal accuracy on
    unanswerable ones (weighted alike), less twice the false refusals beyond the 10% bar (refusing what the
    documents answer is a failure too)."""
    out = []
    for t in np.round(np.arange(0.05, 0.96, 0.025), 3):
        right = wrong = answered = refused_unans = refused_ans = 0
        n_ans = sum(1 for ex, _ in rows if ex.answerable)
        n_unans = len(rows) - n_ans
        for ex, ds in rows:
            kept = [d for d in ds if d.confidence >= t]
            if not kept:
                if ex.answerable:
                    refused_ans += 1
                else:
                    refused_unans += 1
                continue
            answered += 1
            ok = ex.answerable and all(_contains_fact(answer_text(kept), g) for g in ex.key_facts)
            right += ok
            wrong += not ok
        out.append({"threshold": float(t), "answered": answered / len(rows), "right_of_answered":
                    right / answered if answered else 0.0, "key_facts": right / max(n_ans, 1),
                    "refusals": refused_unans / max(n_unans, 1), "false_refusals": refused_ans / max(n_ans, 1),
                    "utility": right / max(n_ans, 1) + refused_unans / max(n_unans, 1)
                    - FALSE_REFUSAL_PENALTY * max(0.0, refused_ans / max(n_ans, 1) - FALSE_REFUSAL_BAR)})
    return out


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
