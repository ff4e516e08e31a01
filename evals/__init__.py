"""The evaluation harness (``ctn eval``): the gold question set, public benchmarks, baselines, reports.

Everything here measures the product through its public objects (``AssistantService``, ``Store``,
``IndexManager``, ``HybridRetriever``, ``AnswerPipeline``); nothing in ``rag`` or ``ingest`` imports it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD_PATH = Path(__file__).resolve().parent / "gold" / "questions.yaml"
BENCHMARKS_DIR = (ROOT / ".." / "shared" / "benchmarks").resolve()


def norm(text: str) -> str:
    """Case-insensitive, whitespace-normalised form used by every containment check of the harness."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()
