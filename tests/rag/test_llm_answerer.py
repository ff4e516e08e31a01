"""The LLM answerer against a local server speaking the OpenAI protocol (streaming included)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.fixtures.fake_openai import FakeOpenAI

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
FILES = ["overviews/dd-1610-2016-overview.md", "overviews/dd-1654-2016-overview.md",
         "overviews/dd-257-ric-2012-overview.md", "faq/faq-helpdesk-it.md"]


@pytest.fixture(scope="module")
def fake_llm() -> FakeOpenAI:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def llm_service(embedder, fake_llm, tmp_path_factory):  # noqa: ANN001, ANN201
    from tests.conftest import build_service

    base = tmp_path_factory.mktemp("llm")
    for rel in FILES:
        target = base / "docs" / Path(rel).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, target)
    service = build_service(embedder, base, llm="openai", llm_base_url=fake_llm.base_url, llm_model="fake-model")
    service.log_questions = False
    report = service.ingest([base / "docs"])
    assert not report.failed
    return service


def test_llm_answer_cites_sources_with_verbatim_quotes(llm_service, fake_llm) -> None:
    fake_llm.mode = "cite"
    answer = llm_service.ask("What was the deadline of the 2016 notice?")
    assert answer.status == "answered"
    assert "[1]" in answer.answer and answer.citations[0].n == 1
    stored = llm_service.store.get_chunks([answer.citations[0].chunk_id])[0].text
    assert answer.citations[0].quote in stored
    request = fake_llm.requests[-1]
    assert request["model"] == "fake-model"
    assert "[1]" in request["messages"][-1]["content"]  # numbered sources were sent


def test_marker_pointing_nowhere_is_removed(llm_service, fake_llm) -> None:
    fake_llm.mode = "bad_marker"
    answer = llm_service.ask("What was the deadline of the 2016 notice?")
    assert "[7]" not in answer.answer
    assert {c.n for c in answer.citations} == {1}


def test_figure_no_cited_source_contains_is_flagged(llm_service, fake_llm) -> None:
    fake_llm.mode = "bad_number"
    answer = llm_service.ask("What was the budget of the 2016 notice?")
    assert any("987654" in w for w in answer.warnings)


def test_model_saying_not_found_gives_not_found(llm_service, fake_llm) -> None:
    fake_llm.mode = "not_found"
    answer = llm_service.ask("What is the PEC address of the ministry?")
    assert answer.status == "not_found" and not answer.citations


def test_streamed_tokens_arrive_before_the_final_answer(llm_service, fake_llm) -> None:
    fake_llm.mode = "cite"
    events = list(llm_service.ask_stream("What was the deadline of the 2016 notice?"))
    kinds = [e["type"] for e in events]
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    assert kinds[-1] == "answer" and kinds.index("delta") < kinds.index("answer")
    assert len(deltas) > 3  # word by word, as the server streamed them
    final = events[-1]["answer"]
    assert "".join(deltas).strip() == final["answer"].strip()
    assert fake_llm.requests[-1]["stream"] is True


def test_follow_up_is_rewritten_by_the_llm(llm_service, fake_llm) -> None:
    fake_llm.mode = "cite"
    answer = llm_service.ask("And the deadline?", history=["What did the 2016 notice fund?"])
    assert answer.rewritten_question and "2016 notice" in answer.rewritten_question
    assert any(str(r["messages"][0]["content"]).startswith("Rewrite") for r in fake_llm.requests)


def test_a_multi_part_question_gives_the_model_sources_for_each_part(llm_service, fake_llm) -> None:
    """One retrieval for "X and Y" fills the model's sources with X; the parts take turns instead: source
    [1] is the best passage for the first part, source [2] the best for the second."""
    fake_llm.mode = "cite"
    fake_llm.requests.clear()
    question = "When was the deadline of the 2012 notice, and who could apply to the 2016 notice?"
    state = llm_service.pipeline.state(question, until="rerank")
    assert len(state.evidence) == 2
    tops = [ev.chunks[0] for ev in state.evidence]
    assert tops[0].chunk_id != tops[1].chunk_id
    answer = llm_service.ask(question)
    assert answer.status == "answered"
    prompt = str(fake_llm.requests[-1]["messages"][-1]["content"])
    sources = re.split(r"\n\n(?=\[\d+\])", prompt)
    first = next(x for x in sources if x.startswith("[1]"))
    second = next(x for x in sources if x.startswith("[2]"))
    assert tops[0].text.strip()[:80] in first
    assert tops[1].text.strip()[:80] in second


def test_instructions_inside_the_sources_stay_data_for_the_model(llm_service, fake_llm) -> None:
    """The system prompt tells the model that sources are data, never instructions."""
    fake_llm.mode = "cite"
    llm_service.ask("What was the deadline of the 2016 notice?")
    system = str(fake_llm.requests[-1]["messages"][0]["content"])
    assert "not instructions" in system or "non istruzioni" in system
