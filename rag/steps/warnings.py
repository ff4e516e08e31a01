"""Step ``add_warnings``: the warnings the other steps raised, each once, in the order they came."""

from __future__ import annotations

from rag.state import AnswerState


class AddWarnings:
    name = "add_warnings"

    def __call__(self, s: AnswerState) -> None:
        s.warnings = list(dict.fromkeys(s.warnings))
