"""What the extractive answerer decided for each part of a question, before it is written as text."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rag.answering.units import Unit
from rag.models import StoredChunk


@dataclass
class Evidence:
    unit: Unit
    p: float
    items: list[Unit] = field(default_factory=list)  # the list a lead-in introduces, quoted with it

    @property
    def chunk(self) -> StoredChunk:
        return self.unit.chunk

    @property
    def text(self) -> str:
        return self.unit.text


@dataclass
class PartDraft:
    text: str  # the part as asked
    evidence: list[Evidence]
    confidence: float
    answered: bool
    kind: str  # the value kind asked for, or "" (a phrase, a list, yes or no)
    direct: str = ""  # the asked-for value, verbatim from the best quote
    features: np.ndarray | None = None  # the calibrator's input (for training and diagnosis)
    reason: str = ""


@dataclass
class Draft:
    parts: list[PartDraft]

    @property
    def answered(self) -> bool:
        return any(p.answered for p in self.parts)

    @property
    def evidence(self) -> list[Evidence]:
        return [e for p in self.parts if p.answered for e in p.evidence]

    @property
    def confidence(self) -> float:
        return max((p.confidence for p in self.parts), default=0.0)

    @property
    def reason(self) -> str:
        return "; ".join(p.reason for p in self.parts if p.reason)
