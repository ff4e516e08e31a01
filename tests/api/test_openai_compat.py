"""The official ``openai`` client against /v1/chat/completions on a real uvicorn server."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai import OpenAI

from tests.api.conftest import LiveServer

QUESTION = "How many quokka laboratories did the Tapir programme fund?"


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> OpenAI:
    return OpenAI(base_url=live_server.url + "/v1", api_key="unused", max_retries=0, timeout=60)


def test_plain_completion_is_the_grounded_answer(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="ctn-assistant", messages=[
        {"role": "system", "content": "You are helpful."}, {"role": "user", "content": QUESTION}])
    assert completion.object == "chat.completion" and completion.model == "ctn-assistant"
    message = completion.choices[0].message
    assert message.role == "assistant" and completion.choices[0].finish_reason == "stop"
    assert "73" in message.content and "[1]" in message.content and "/v1/documents/tapir/file" in message.content
    citations = message.model_extra["citations"]
    assert citations[0]["n"] == 1 and citations[0]["document_id"] == "tapir"
    ctn = completion.model_extra["ctn"]
    assert ctn["status"] == "answered" and ctn["answer"] in message.content and ctn["citations"] == citations


def test_streamed_completion_ends_with_stop_and_the_answer(client: OpenAI) -> None:
    stream = client.chat.completions.create(model="ctn-assistant", stream=True,
                                            messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    ctn = last.model_extra["ctn"]
    assert ctn["status"] == "answered" and text.startswith(ctn["answer"]) and "73" in text
    assert last.choices[0].delta.model_extra["citations"] == ctn["citations"]


def test_earlier_user_messages_are_the_history(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="ctn-assistant", messages=[
        {"role": "user", "content": "Tell me about the Tapir programme."},
        {"role": "assistant", "content": "The Tapir programme funds laboratories."},
        {"role": "user", "content": [{"type": "text", "text": "How many laboratories did it fund?"}]}])
    assert "73" in completion.choices[0].message.content
    assert completion.model_extra["ctn"]["rewritten_question"]


def test_stream_ends_with_done(live_server: LiveServer) -> None:
    with httpx.stream("POST", live_server.url + "/v1/chat/completions", timeout=60,
                      json={"stream": True, "messages": [{"role": "user", "content": QUESTION}]}) as r:
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]" and all(line.startswith("data: ") for line in lines)


def test_models_are_listed(client: OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["ctn-assistant"]


def test_a_request_without_a_user_message_is_rejected(client: OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as info:
        client.chat.completions.create(model="x", messages=[{"role": "system", "content": "Hi"}])
    assert info.value.body["type"] == "invalid_request"
