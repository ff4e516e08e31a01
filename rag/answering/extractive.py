"""The extractive answerer: the learned scorer ranks the units of the retrieved chunks, a calibrated model
says whether the best of them answers, and the answer quotes them.

For each part of the question:
1. every unit of its retrieved chunks (``units``) gets the probability that it answers the part (the unit
   scorer over ``features``);
2. the best unit is quoted, with the next ones that score close to it (``params``: how close, how many);
3. the calibrator turns the part's evidence (the scores, the best unit's coverage and value kinds, the
   retrieval's strength) into the probability that the quoted answer is right; below the threshold chosen on
   the development sets the part is not answered.
A question is answered when one of its parts is; the others are named as not found. Every number here that
decides (thresholds, how many quotes) was chosen on data by ``ctn train`` and is read from the model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import numpy as np

from rag.answering.draft import Draft, Evidence, PartDraft
from rag.answering.features import ANSWER_KINDS, INDEX, PartContext, coverage_of, featurize, terms_of
from rag.answering.model import AnswererModel
from rag.answering.units import Unit, following_items, units_of
from rag.models import StoredChunk
from rag.state import AnswerState, PartEvidence
from rag.text_analysis import analyze, stems_with_positions
from rag.values import KINDS, value_spans

_NUMBER = re.compile(r"\b\d[\d.,/]*\d\b|\b\d{3,}\b")

# What the calibrator reads of the best unit besides the above: does it name what is asked, with a new value
# of the asked kind near the question's words, in a form (row, item, FAQ answer) and a source that answer?
BEST_UNIT = ("coverage_focus", "new_value", "kind_near", "subject_unit", "subject_context", "unit_precision", "missing", "found", "rarest_found",
             "coverage_lead", "lead_question", "is_row", "is_item", "hearsay", "coverage_items", "numbers_unit",
             "other_year")
ANSWER_FEATURES: tuple[str, ...] = (
    "p1", "p2", "p3", "p_gap", "p_top5", "p_over_half", "units", "coverage1", "coverage_context1", "kind_best1",
    "kind_match1", "missing_idf1", "unknown_terms", "numbers1", "rank1", "dense1", "dense_top",
    "doc_act1", "same_language1", "recital1", "unknown1", "q_concepts", "asks_text", "asks_max", "parts",
    "docs_top5", *(f"{name}1" for name in BEST_UNIT), "coverage2", "new_value2", "coverage_top3", "missing_top3",
)
TOP = 3  # the best units, together: does what an answer quotes cover everything the question asks?


def _similar(a: str, b: str) -> bool:
    ta, tb = set(analyze(a, "it")) | set(analyze(a, "en")), set(analyze(b, "it")) | set(analyze(b, "en"))
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) >= 0.6


def answer_features(x: np.ndarray, p: np.ndarray, order: np.ndarray, units: list[Unit], ctx: PartContext
                    ) -> np.ndarray:
    """The calibrator's view of a part: how strong and how clear-cut its best evidence is."""
    f = np.zeros(len(ANSWER_FEATURES), dtype=np.float32)
    if not len(order):
        return f
    top = p[order]
    best = x[order[0]]
    chunks = {u.chunk.chunk_id: u.chunk for u in units}
    values = dict.fromkeys(ANSWER_FEATURES, 0.0)
    values.update({
        "p1": top[0], "p2": top[1] if len(top) > 1 else 0.0, "p3": top[2] if len(top) > 2 else 0.0,
        "p_top5": float(top[:5].sum()), "p_over_half": float((top > 0.5).sum()), "units": math.log1p(len(units)),
        "coverage1": best[INDEX["coverage"]], "coverage_context1": best[INDEX["coverage_context"]],
        "kind_best1": best[INDEX["kind_best"]], "kind_match1": best[INDEX["kind_match"]],
        "missing_idf1": best[INDEX["missing_idf_max"]], "unknown_terms": ctx.unknown,
        "numbers1": best[INDEX["numbers_context"]], "rank1": best[INDEX["rank"]], "dense1": best[INDEX["dense"]],
        "dense_top": max(c.scores.get("dense", 0.0) for c in chunks.values()),
        "doc_act1": best[INDEX["doc_act"]], "same_language1": best[INDEX["same_language"]],
        "recital1": best[INDEX["recital"]], "unknown1": best[INDEX["unknown"]], "q_concepts": len(ctx.concepts),
        "asks_text": ctx.kinds.get("text", 0.0), "asks_max": max((ctx.kinds.get(k, 0.0) for k in KINDS), default=0.0),
        "parts": ctx.parts, "docs_top5": len({units[i].chunk.document_id for i in order[:5]}),
    })
    values["p_gap"] = values["p1"] - values["p2"]
    for name in BEST_UNIT:
        values[f"{name}1"] = best[INDEX[name]]
    covered: set[str] = set()
    for i in order[:TOP]:
        u = units[i]
        lang = str(u.chunk.metadata.get("language", "en"))
        covered |= set(terms_of(" ".join((u.text, u.lead, u.chunk.section)), lang))
    values["coverage_top3"] = coverage_of(ctx, covered)
    values["missing_top3"] = max((idf for t, idf, alts in ctx.concepts if t not in covered
                                  and not any(a in covered for a in alts)), default=0.0) / (ctx.idf_max or 1.0)
    if len(order) > 1:
        second = x[order[1]]
        values["coverage2"], values["new_value2"] = second[INDEX["coverage"]], second[INDEX["new_value"]]
    for i, name in enumerate(ANSWER_FEATURES):
        f[i] = values[name]
    return f


class ExtractiveAnswerer:
    """The offline answerer (``rag.answering.base.Answerer``): quotes the evidence the model trusts."""

    streams = False

    def __init__(self, model: AnswererModel, index, vectors=None) -> None:  # noqa: ANN001
        self.model = model
        self.index = index  # rag.index.IndexManager
        self.vectors = vectors  # query text -> its embedding (rag.retrieval.HybridRetriever.query_vector)
        self.params = model.params

    def context(self, s: AnswerState, ev: PartEvidence) -> PartContext:
        vector = self.vectors(ev.part.query) if self.vectors is not None else None
        return part_context(self.index.snapshot, s, ev, kind_probabilities(self.model, ev.part.text, vector))

    def drafts(self, s: AnswerState) -> Draft:
        max_quotes = int(self.params["max_quotes"] if len(s.evidence) == 1 else self.params["part_quotes"])
        return Draft([self.draft_part(ev.part.text, self.context(s, ev), ev.chunks, max_quotes) for ev in s.evidence])

    def answer(self, s: AnswerState) -> None:
        from rag.answering.compose import compose

        s.draft = self.drafts(s)
        if not s.draft.answered:
            s.stop("not_found", s.draft.reason)
            return
        compose(s, s.draft)
        s.status = "answered"

    def stream(self, s: AnswerState) -> Iterator[str]:
        self.answer(s)
        if s.status == "answered":
            yield s.text

    def rank(self, ctx: PartContext, chunks: list[StoredChunk]) -> tuple[list[Unit], np.ndarray, np.ndarray]:
        """The units of the chunks, their features, and their scores."""
        units = [u for rank, c in enumerate(chunks) for u in units_of(c, rank)]
        x = featurize(ctx, units)
        return units, x, self.model.unit_scores(x) if len(units) else np.zeros(0)

    def draft_part(self, text: str, ctx: PartContext, chunks: list[StoredChunk], max_quotes: int) -> PartDraft:
        units, x, p = self.rank(ctx, chunks)
        return decide(text, ctx, units, x, p, self.params, max_quotes, self.model.confidence)


def asked_kind(kinds: dict[str, float]) -> str:
    """The value kind the part asks for ("" for a phrase, a list, yes or no)."""
    best = max(KINDS, key=lambda k: kinds.get(k, 0.0))
    return best if kinds.get(best, 0.0) >= max(0.5, kinds.get("text", 0.0)) else ""


def direct_value(draft: PartDraft, ctx: PartContext) -> str:
    """The asked-for value, verbatim from the best quote: the one nearest the question's words, or all of
    them (up to three) when the quote gives several of that kind."""
    if not draft.kind or not draft.evidence:
        return ""
    best = draft.evidence[0].unit
    spans = value_spans(best.text)[draft.kind]
    if draft.kind == "count":
        spans = spans + value_spans(best.text)["duration"] if not spans else spans
    if not spans:
        return ""
    if len(spans) <= 3:
        return "; ".join(dict.fromkeys(best.text[a:b].strip(" ,;.") for a, b in spans))
    lang = str(best.chunk.metadata.get("language", "en"))
    hits = [pos for pos, t in stems_with_positions(best.text, lang) if t in ctx.weights]
    if not hits:
        return best.text[spans[0][0]:spans[0][1]].strip(" ,;.")
    a, b = min(spans, key=lambda s: min(abs(s[0] - h) for h in hits))
    return best.text[a:b].strip(" ,;.")


def part_context(snapshot, s: AnswerState, ev: PartEvidence, kinds: dict[str, float]) -> PartContext:  # noqa: ANN001
    """What a part's units are scored against: its weighted terms, their document frequencies in the
    collection (``snapshot``: a rag.index.Snapshot), the kinds of value it asks for, the numbers it names."""
    terms = list(dict.fromkeys([*ev.plan.weights, *(a for alts in ev.plan.equivalents.values() for a in alts)]))
    numbers = {n.replace(".", "").replace(",", "") for n in _NUMBER.findall(ev.part.query)}
    return PartContext(text=ev.part.text, language=s.query_language or ev.plan.language, weights=ev.plan.weights,
                       df=snapshot.keyword.document_frequencies(terms), n_chunks=len(snapshot),
                       equivalents=ev.plan.equivalents, kinds=kinds, numbers=numbers, parts=len(s.evidence))


def kind_probabilities(model: AnswererModel, text: str, vector: np.ndarray | None = None) -> dict[str, float]:
    probs = model.kinds.predict(text, vector)
    return {k: probs.get(k, 0.0) for k in ANSWER_KINDS}


def select(units: list[Unit], p: np.ndarray, order: np.ndarray, params: dict[str, float], max_quotes: int
           ) -> list[Evidence]:
    """The best unit, and the next ones that score close to it and say something else."""
    chosen = [Evidence(units[order[0]], float(p[order[0]]))]
    floor = max(params["quote_min"], params["quote_ratio"] * chosen[0].p)
    for i in order[1:12]:
        if len(chosen) >= max_quotes or p[i] < floor:
            break
        if any(_similar(units[i].text, e.text) or units[i].text in e.text for e in chosen):
            continue
        chosen.append(Evidence(units[i], float(p[i])))
    for ev in chosen:
        if ev.unit.text.rstrip().endswith(":"):
            ev.items = following_items(ev.unit)
    return chosen


def decide(text: str, ctx: PartContext, units: list[Unit], x: np.ndarray, p: np.ndarray, params: dict[str, float],
           max_quotes: int, confidence_of) -> PartDraft:  # noqa: ANN001 - a calibrator's predict
    """A part's draft from its scored units: the quotes, the calibrated confidence, the decision."""
    kind = asked_kind(ctx.kinds)
    if not units:
        return PartDraft(text, [], 0.0, False, kind, reason="no passage retrieved")
    order = np.argsort(-p, kind="stable")
    feats = answer_features(x, p, order, units, ctx)
    confidence = float(confidence_of(feats[None, :])[0])
    answered = confidence >= params["threshold"]
    draft = PartDraft(text, select(units, p, order, params, max_quotes), confidence, answered, kind, features=feats,
                      reason="" if answered else f"confidence {confidence:.2f} below the threshold")
    draft.direct = direct_value(draft, ctx)
    return draft
