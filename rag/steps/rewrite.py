"""Step ``rewrite_followup``: an elliptical follow-up becomes a whole question ("E la scadenza?" → "E la
scadenza? (avviso del 2012)"); with an LLM, the model rewrites it and the rules are the fallback."""

from __future__ import annotations

from rag.followup import needs_context, rewrite
from rag.language import question_language
from rag.state import AnswerState


class RewriteFollowUp:
    name = "rewrite_followup"

    def __init__(self, llm=None) -> None:  # noqa: ANN001 - rag.answering.llm.LLMAnswerer
        self.llm = llm

    def __call__(self, s: AnswerState) -> None:
        lang, _ = question_language(s.question, s.history)
        if self.llm is not None and s.history and needs_context(s.question, lang):
            s.rewritten = self.llm.rewrite(s.question, s.history) or rewrite(s.question, s.history, lang)
        else:
            s.rewritten = rewrite(s.question, s.history, lang)
