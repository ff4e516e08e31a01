"""The extractive answerer on hand-built chunks and a hand-set model: which units it quotes, when it
abstains, the direct answer, the text and its citations. The model is a real ``AnswererModel`` whose
weights are set by hand so that each test knows what it should prefer."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answering.compose import lead
from rag.answering.extractive import ANSWER_FEATURES, ExtractiveAnswerer
from rag.answering.features import ANSWER_KINDS, FEATURES
from rag.answering.model import AnswererModel, KindModel, LinearModel
from rag.citations import check_citations
from rag.index import Snapshot
from rag.keyword_index import KeywordIndex
from rag.models import StoredChunk
from rag.question import analyse
from rag.retrieval import QueryPlan
from rag.state import AnswerState, PartEvidence
from rag.text_analysis import analyze, analyze_query

CHUNKS = [
    ("c1", "it", "Art. 6 - Risorse", "1. La dotazione complessiva dell'avviso Zefiro è pari a euro 41.700.000,00. "
     "Le risorse sono ripartite tra le aree secondo l'allegato."),
    ("c2", "it", "Art. 9 - Termini", "1. Le domande sono presentate entro le ore 12:00 del 17 novembre 2031."),
    ("c3", "en", "Overview", "The Zefiro notice was adopted by the ministry after a public consultation."),
]


class Holder:
    """What the answerer reads of an index manager: its current snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot


def model(kind: str = "", threshold: float = 0.5) -> AnswererModel:
    k = len(ANSWER_KINDS)
    bias = np.full(k, -6.0, dtype=np.float32)
    if kind:
        bias[ANSWER_KINDS.index(kind)] = 6.0
    kinds = KindModel(list(ANSWER_KINDS), np.zeros(0, dtype=np.int64), np.zeros((0, k), dtype=np.float32), bias)
    coef = np.zeros(len(FEATURES), dtype=np.float32)
    coef[FEATURES.index("coverage")] = 12.0
    scorer = LinearModel(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), coef, -6.0)
    cal = np.zeros(len(ANSWER_FEATURES), dtype=np.float32)
    cal[ANSWER_FEATURES.index("p1")] = 12.0
    calibrator = LinearModel(np.zeros(len(ANSWER_FEATURES)), np.ones(len(ANSWER_FEATURES)), cal, -6.0)
    params = {"threshold": threshold, "quote_ratio": 0.9, "quote_min": 0.5, "max_quotes": 2, "part_quotes": 1,
              "amendment_min": 0.5, "scope_threshold": 0.99}
    return AnswererModel(kinds, scorer, calibrator, list(FEATURES), list(ANSWER_FEATURES), params)


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    chunks = [StoredChunk(cid, text, {"document_id": f"d-{cid}", "language": lang, "section": section,
                                      "title": "Avviso Zefiro", "doc_type": "notice"}) for cid, lang, section, text in CHUNKS]
    analyzed = [analyze(c.text, str(c.metadata["language"])) for c in chunks]
    return Snapshot("s", [c.chunk_id for c in chunks], [c.text for c in chunks], [c.metadata for c in chunks], {},
                    KeywordIndex.build(analyzed))


def state_for(question: str, snapshot: Snapshot) -> AnswerState:
    s = AnswerState(question=question)
    s.analysis = analyse(question)
    for rank, part in enumerate(s.analysis.parts):
        terms = analyze_query(part.query, s.analysis.language)
        plan = QueryPlan(part.query, s.analysis.language or "it", terms, dict.fromkeys(terms, 1.0), [])
        chunks = [snapshot.chunk(i, 1.0 - 0.1 * i) for i in range(len(snapshot))]
        for c in chunks:
            c.scores = {"bm25": 1.0, "dense": 0.5}
        s.evidence.append(PartEvidence(part, plan, chunks))
        del rank
    s.chunks = [c for ev in s.evidence for c in ev.chunks]
    return s


def test_the_unit_the_model_prefers_is_quoted_verbatim_and_cited(snapshot: Snapshot) -> None:
    s = state_for("Qual è la dotazione complessiva dell'avviso Zefiro?", snapshot)
    ExtractiveAnswerer(model("amount"), Holder(snapshot)).answer(s)
    assert s.status == "answered"
    assert s.citations[0].chunk_id == "c1"
    assert "«1. La dotazione complessiva dell'avviso Zefiro è pari a euro 41.700.000,00.» [1]" in s.text
    answer = {"answer": s.text, "question": s.question, "citations": [c.__dict__ for c in s.citations]}
    assert check_citations(answer, lambda ids: {c.chunk_id: c.text for c in s.chunks}).ok


def test_the_answer_opens_with_the_asked_for_value_taken_from_the_best_quote(snapshot: Snapshot) -> None:
    s = state_for("Qual è la dotazione complessiva dell'avviso Zefiro?", snapshot)
    ExtractiveAnswerer(model("amount"), Holder(snapshot)).answer(s)
    assert s.text.startswith("In breve: euro 41.700.000,00 [1].")


def test_a_question_the_units_do_not_cover_is_not_answered(snapshot: Snapshot) -> None:
    s = state_for("Qual è l'indirizzo PEC del ministero per il bando Borealis?", snapshot)
    ExtractiveAnswerer(model(), Holder(snapshot)).answer(s)
    assert s.status == "not_found" and "below the threshold" in s.reason and not s.citations


def test_a_part_not_found_is_named_while_the_other_is_answered(snapshot: Snapshot) -> None:
    s = state_for("Qual è la dotazione complessiva dell'avviso Zefiro e chi presiede il comitato Borealis?",
                  snapshot)
    assert len(s.evidence) == 2
    ExtractiveAnswerer(model(), Holder(snapshot)).answer(s)
    assert s.status == "answered"
    assert "41.700.000,00" in s.text
    assert "Su “chi presiede il comitato Borealis” i documenti disponibili non dicono nulla." in s.text


def test_the_threshold_decides(snapshot: Snapshot) -> None:
    s = state_for("Qual è la dotazione complessiva dell'avviso Zefiro?", snapshot)
    ExtractiveAnswerer(model(threshold=0.999999), Holder(snapshot)).answer(s)
    assert s.status == "not_found"


def test_the_lead_names_the_language_of_the_quotes_read_from_the_quotes() -> None:
    s = AnswerState(question="Who adopted the notice?")
    s.analysis = analyse(s.question)
    assert lead(s, ["The Zefiro notice was adopted by the ministry after a public consultation."]) == \
        "According to the documents:"
    assert lead(s, ["La dotazione complessiva dell'avviso è pari a euro 41.700.000,00 per tutte le aree."]) == \
        "According to the documents (quoted in Italian):"
