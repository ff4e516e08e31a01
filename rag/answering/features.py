"""Features of a (question part, evidence unit) pair: what the learned scorer reads.

Every feature is generic: word overlap weighted by IDF (stemmed, with the glossary's equivalents in the other
language), the same for the unit's lead-in, section and document title, the chunk's retrieval scores and rank,
the kinds of value the unit carries against the kinds the question asks for, the unit's form (sentence, list
item, table row; recital or not; position) and its document's kind. None names a word of a question or a
document. ``FEATURES`` lists them in the order of the feature vector; ``ctn train`` records that order with the
model, and loading a model trained on another order fails loudly.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from rag.answering.units import Unit
from rag.lexicon import words
from rag.text_analysis import analyze, fold, stems_with_positions
from rag.values import KINDS, YEAR, value_spans

ANSWER_KINDS = (*KINDS, "text")
ACT_TYPES = ("notice", "decree", "law", "guideline")
FEATURES: tuple[str, ...] = (
    "coverage", "coverage_prefix", "coverage_context", "coverage_lead", "coverage_section", "coverage_title",
    "found", "missing", "missing_idf_max", "rarest_found", "unknown_terms", "pairs", "proximity",
    "coverage_gap", "coverage_rank", "coverage_ratio", "coverage_focus", "unit_precision", "kind_near", "new_value", "subject_unit", "subject_context",
    "rank", "inv_rank", "score_ratio", "bm25_ratio", "dense", "dense_gap", "cognate", "chunk_coverage",
    "position", "first", "length", "digits", "is_item", "is_row", "has_lead", "lead_question", "lead_in",
    "ends_colon", "coverage_items", "items", "recital", "unknown", "hearsay", "doc_act", "doc_faq", "same_language", "numbers_unit",
    "numbers_context", "other_year", "kind_match", "kind_best", "kind_text",
    *(f"has_{k}" for k in KINDS), *(f"asks_{k}" for k in ANSWER_KINDS), *(f"match_{k}" for k in KINDS),
    "q_concepts", "q_parts",
)
INDEX = {name: i for i, name in enumerate(FEATURES)}


@lru_cache(maxsize=32)
def _cues(name: str, lang: str) -> tuple[str, ...]:
    return tuple(fold(w) for w in words(name, lang))


@lru_cache(maxsize=32)
def _cue_pattern(name: str, lang: str) -> re.Pattern[str]:
    """One pattern for a whole word list, matched on whole words."""
    return re.compile(r"\b(?:" + "|".join(re.escape(c) for c in sorted(_cues(name, lang), key=len, reverse=True))
                      + r")\b")


@dataclass
class PartContext:
    """What is computed once per question part: its terms and their weights, the kinds it asks for."""

    text: str
    language: str  # of the question, for stemming
    weights: dict[str, float]  # stem -> 1.0 (own word) or less (a glossary expansion)
    df: dict[str, int]  # chunks holding each stem
    n_chunks: int
    equivalents: dict[str, list[str]]
    kinds: dict[str, float]  # answer kind -> probability
    numbers: set[str] = field(default_factory=set)
    parts: int = 1

    def __post_init__(self) -> None:
        n = max(self.n_chunks, 1)
        # A stem no chunk holds weighs as much as the rarest possible one: a question about something no
        # document mentions ("the PEC address") must not be answered by the words it shares with them.
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in self.df.items()}
        self.idf_max = math.log(1 + (n + 0.5) / 0.5)
        own = [t for t, w in self.weights.items() if w >= 1.0]
        self.concepts = [(t, self.idf.get(t, self.idf_max), [a for a in self.equivalents.get(t, []) if a != t])
                         for t in own]
        self.total = sum(w for _, w, _ in self.concepts) or 1.0
        self.rarest = max(self.concepts, key=lambda c: c[1])[0] if self.concepts else ""
        self.pairs = [(a, b) for (a, _, _), (b, _, _) in zip(self.concepts, self.concepts[1:], strict=False)]
        self.unknown = sum(w for t, w, alts in self.concepts
                           if not self.df.get(t) and not any(self.df.get(a) for a in alts)) / self.total
        self.focus = focus_terms(self.text, self.language)
        self.subject = subject_terms(self.text, self.language)
        self.question_digits = set(re.findall(r"\d+", self.text))
        self.years = set(YEAR.findall(self.text)) | {n for n in self.numbers if YEAR.fullmatch(n)}
        self.top_kind = max(KINDS, key=lambda k: self.kinds.get(k, 0.0)) if self.kinds else ""


def subject_terms(text: str, lang: str) -> set[str]:
    """Stems of what the question is about by name: acts, years, proper names, the glossary's act and cluster
    names (``rag.followup.subject_of``). A unit about another subject answers another question."""
    from rag.followup import subject_of

    return {t for name in subject_of(text) for lg in ("it", "en") for t in analyze(name, lg)}


def focus_terms(text: str, lang: str) -> set[str]:
    """The words right after the question word ("quanti *progetti*", "which *cluster*"): what is asked about.
    Without a question word, the question's first content words."""
    from rag.text_analysis import raw_tokens

    tokens = raw_tokens(text)
    wh = {fold(w) for w in words("question_words", lang) if " " not in w}
    start = next((i + 1 for i, t in enumerate(tokens) if t in wh), 0)
    out: list[str] = []
    for token in tokens[start:]:
        stems = analyze(token, lang)
        if stems:
            out.append(stems[0])
        if len(out) == 2:
            break
    return set(out)

@lru_cache(maxsize=16384)
def _cached_terms(text: str, lang: str) -> tuple[str, ...]:
    return tuple(analyze(text, lang))


def terms_of(text: str, lang: str) -> list[str]:
    """A text's index terms; cached, since the same passages come back question after question."""
    return list(_cached_terms(text, lang))


def coverage_of(ctx: PartContext, terms: set[str], prefixes: set[str] | None = None) -> float:
    got = 0.0
    for term, weight, alts in ctx.concepts:
        if term in terms or any(a in terms for a in alts):
            got += weight
        elif prefixes is not None and len(term) >= 5 and term[:5] in prefixes:
            got += 0.7 * weight
    return got / ctx.total


def featurize(ctx: PartContext, units: list[Unit]) -> np.ndarray:
    """The feature matrix of the units (one row each), in ``FEATURES`` order."""
    x = np.zeros((len(units), len(FEATURES)), dtype=np.float32)
    if not units:
        return x
    top_score = max((u.chunk.score for u in units), default=0.0) or 1.0
    top_bm25 = max((u.chunk.scores.get("bm25", 0.0) for u in units), default=0.0) or 1.0
    top_dense = max((u.chunk.scores.get("dense", 0.0) for u in units), default=0.0)
    chunk_cov: dict[str, float] = {}
    rows = []
    for u in units:
        lang = str(u.chunk.metadata.get("language", "en"))
        toks = terms_of(u.text, lang)
        terms = set(toks)
        lead_terms = set(terms_of(u.lead, lang)) if u.lead else set()
        section_terms = set(terms_of(u.chunk.section, lang))
        title_terms = set(terms_of(str(u.chunk.metadata.get("title", "")), lang))
        cov = coverage_of(ctx, terms)
        if u.chunk.chunk_id not in chunk_cov:
            chunk_cov[u.chunk.chunk_id] = coverage_of(ctx, set(terms_of(u.chunk.text, lang)) | section_terms)
        rows.append((u, lang, toks, terms, lead_terms, section_terms, title_terms, cov))
    best_cov = max(r[-1] for r in rows) or 1.0
    order = sorted(range(len(rows)), key=lambda i: -rows[i][-1])
    cov_rank = {i: r for r, i in enumerate(order)}
    for i, (u, lang, toks, terms, lead_terms, section_terms, title_terms, cov) in enumerate(rows):
        f = x[i]
        text = u.text
        folded = fold(text)
        prefixes = {t[:5] for t in terms if len(t) >= 5}
        context = terms | lead_terms | section_terms | title_terms
        found = [c for c in ctx.concepts if c[0] in terms or any(a in terms for a in c[2])]
        missing = [c for c in ctx.concepts if c not in found and c[0] not in context]
        f[INDEX["coverage"]] = cov
        f[INDEX["coverage_prefix"]] = coverage_of(ctx, terms, prefixes)
        f[INDEX["coverage_context"]] = coverage_of(ctx, context)
        f[INDEX["coverage_lead"]] = coverage_of(ctx, lead_terms) if lead_terms else 0.0
        f[INDEX["coverage_section"]] = coverage_of(ctx, section_terms)
        f[INDEX["coverage_title"]] = coverage_of(ctx, title_terms)
        f[INDEX["found"]] = len(found)
        f[INDEX["missing"]] = len(missing)
        f[INDEX["missing_idf_max"]] = max((c[1] for c in missing), default=0.0) / (ctx.idf_max or 1.0)
        f[INDEX["rarest_found"]] = float(any(c[0] == ctx.rarest for c in found))
        f[INDEX["unknown_terms"]] = ctx.unknown
        positions = {t: j for j, t in enumerate(toks)}
        f[INDEX["pairs"]] = sum(1 for a, b in ctx.pairs if a in positions and b in positions
                                and 0 < positions[b] - positions[a] <= 3) / max(len(ctx.pairs), 1)
        hit_pos = sorted(j for j, t in enumerate(toks) if t in ctx.weights)
        f[INDEX["proximity"]] = (len(set(toks[j] for j in hit_pos)) / (hit_pos[-1] - hit_pos[0] + 1)
                                 if len(hit_pos) > 1 else float(bool(hit_pos)))
        f[INDEX["coverage_gap"]] = cov - best_cov
        f[INDEX["coverage_rank"]] = math.log1p(cov_rank[i])
        f[INDEX["coverage_ratio"]] = cov / best_cov
        f[INDEX["coverage_focus"]] = (len(ctx.focus & (terms | {a for c in found for a in c[2]})) / len(ctx.focus)
                                      if ctx.focus else 0.0)
        f[INDEX["unit_precision"]] = len(terms & set(ctx.weights)) / max(len(terms), 1)
        if ctx.subject:
            f[INDEX["subject_unit"]] = len(ctx.subject & terms) / len(ctx.subject)
            f[INDEX["subject_context"]] = len(ctx.subject & context) / len(ctx.subject)
        else:
            f[INDEX["subject_unit"]] = f[INDEX["subject_context"]] = 1.0
        f[INDEX["rank"]] = u.rank
        f[INDEX["inv_rank"]] = 1.0 / (1 + u.rank)
        f[INDEX["score_ratio"]] = u.chunk.score / top_score if top_score > 0 else 0.0
        f[INDEX["bm25_ratio"]] = u.chunk.scores.get("bm25", 0.0) / top_bm25
        dense = u.chunk.scores.get("dense", 0.0)
        f[INDEX["dense"]] = dense
        f[INDEX["dense_gap"]] = dense - top_dense
        f[INDEX["cognate"]] = u.chunk.scores.get("cognate", 0.0)
        f[INDEX["chunk_coverage"]] = chunk_cov[u.chunk.chunk_id]
        f[INDEX["position"]] = math.log1p(u.position)
        f[INDEX["first"]] = float(u.position == 0)
        f[INDEX["length"]] = math.log1p(len(toks))
        f[INDEX["digits"]] = math.log1p(len(re.findall(r"\d+", text)))
        f[INDEX["is_item"]] = float(u.kind == "item")
        f[INDEX["is_row"]] = float(u.kind == "row")
        f[INDEX["has_lead"]] = float(bool(u.lead))
        f[INDEX["lead_question"]] = float(u.lead_kind == "question")
        f[INDEX["lead_in"]] = float(u.lead_kind == "lead_in")
        f[INDEX["ends_colon"]] = float(text.rstrip().endswith(":"))
        if text.rstrip().endswith(":"):  # a lead-in: what its list says counts with it
            items = [v for v in units if v.chunk is u.chunk and v.kind == "item" and v.start > u.start
                     and v.lead.endswith(text.strip()[-300:])]
            if items:
                item_terms = set(terms_of(" ".join(v.text for v in items), lang))
                f[INDEX["coverage_items"]] = coverage_of(ctx, terms | item_terms)
                f[INDEX["items"]] = math.log1p(len(items))
        opening = " ".join(re.findall(r"[\w']+", folded)[:3])
        f[INDEX["recital"]] = float(any(opening == c or opening.startswith(c + " ") for c in _cues("recital_cues", lang)))
        f[INDEX["unknown"]] = float(bool(_cue_pattern("unknown_cues", lang).search(folded)))
        f[INDEX["hearsay"]] = float(bool(_cue_pattern("hearsay_cues", lang).search(folded)))
        doc_type = str(u.chunk.metadata.get("doc_type", ""))
        f[INDEX["doc_act"]] = float(doc_type in ACT_TYPES)
        f[INDEX["doc_faq"]] = float(doc_type == "faq" or u.lead_kind == "question")
        f[INDEX["same_language"]] = float(lang == ctx.language)
        if ctx.numbers:
            unit_numbers = {n.replace(".", "").replace(",", "") for n in re.findall(r"\d[\d.,/]*\d|\d+", text)}
            meta = " ".join(str(u.chunk.metadata.get(k, "")) for k in ("title", "act", "section", "year", "act_number"))
            meta_numbers = {n.replace(".", "").replace(",", "") for n in re.findall(r"\d[\d.,/]*\d|\d+", meta + " " + u.lead)}
            f[INDEX["numbers_unit"]] = len(ctx.numbers & unit_numbers) / len(ctx.numbers)
            f[INDEX["numbers_context"]] = len(ctx.numbers & (unit_numbers | meta_numbers)) / len(ctx.numbers)
        else:
            f[INDEX["numbers_unit"]] = f[INDEX["numbers_context"]] = 1.0
        if ctx.years:  # the question names a year; the unit names only others (another notice, another edition)
            unit_years = set(YEAR.findall(text))
            f[INDEX["other_year"]] = float(bool(unit_years) and not unit_years & ctx.years)
        spans = value_spans(text)
        match = 0.0
        best = 0.0
        for k in KINDS:
            has = float(bool(spans[k]))
            p = ctx.kinds.get(k, 0.0)
            f[INDEX[f"has_{k}"]] = has
            f[INDEX[f"match_{k}"]] = has * p
            match += has * p
            best = max(best, has * p)
        f[INDEX["kind_match"]] = match
        f[INDEX["kind_best"]] = best
        top = spans.get(ctx.top_kind, []) if ctx.top_kind else []
        if top:
            hits = [pos for pos, stem in stems_with_positions(text, lang) if stem in ctx.weights]
            if hits:
                gap = min(abs(a - h) for a, _b in top for h in hits)
                f[INDEX["kind_near"]] = 1.0 - min(gap, 200) / 200
        new = 0.0
        for k in KINDS:
            p = ctx.kinds.get(k, 0.0)
            if p >= 0.2 and any(set(re.findall(r"\d+", text[a:b])) - ctx.question_digits
                                or not re.search(r"\d", text[a:b]) for a, b in spans[k]):
                new = max(new, p)
        f[INDEX["new_value"]] = new
        f[INDEX["kind_text"]] = ctx.kinds.get("text", 0.0) * cov
        for k in ANSWER_KINDS:
            f[INDEX[f"asks_{k}"]] = ctx.kinds.get(k, 0.0)
        f[INDEX["q_concepts"]] = len(ctx.concepts)
        f[INDEX["q_parts"]] = ctx.parts
    return x
