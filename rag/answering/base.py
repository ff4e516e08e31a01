"""The answerer interface: the extractive answerer and the LLM answerer are its two implementations.

An answerer reads the state the earlier steps built (the analysed question, each part's ranked chunks) and
writes the answer into it: ``text`` with ``[n]`` markers, ``citations`` (verbatim quotes), and ``status``
(``answered``, or ``not_found`` through ``state.stop``). ``stream`` answers too, yielding the text as it is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from rag.state import AnswerState


class Answerer(Protocol):
    streams: bool  # True: ``stream`` yields text while it is made (an LLM); False: the text comes whole

    def answer(self, s: AnswerState) -> None: ...

    def stream(self, s: AnswerState) -> Iterator[str]: ...
