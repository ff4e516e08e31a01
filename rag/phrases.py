"""The fixed phrases of answers (``rag/data/phrases.yaml``), by answer language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PATH = Path(__file__).parent / "data" / "phrases.yaml"


@lru_cache(maxsize=1)
def _all() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(PATH.read_text(encoding="utf-8"))


def phrases(language: str) -> dict[str, Any]:
    data = _all()
    return data.get(language) or data["en"]
