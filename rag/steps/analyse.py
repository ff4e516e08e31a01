"""Step ``analyse``: the question analysed once (``rag.question``): its core, language, parts, asker and
constraints, read by every later step."""

from __future__ import annotations

from rag.question import analyse
from rag.state import AnswerState


class AnalyseQuestion:
    name = "analyse"

    def __call__(self, s: AnswerState) -> None:
        standalone = s.rewritten and not s.rewritten.startswith(s.question.rstrip())
        question = s.rewritten if standalone else s.question  # an LLM's rewrite is a question of its own
        s.analysis = analyse(question or s.question, s.history, s.lang_hint, None if standalone else s.rewritten)
