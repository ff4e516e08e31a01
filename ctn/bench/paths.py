"""Default locations, kept apart so that importing the CLI stays light."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLD_QUESTIONS = ROOT / "evals" / "gold" / "questions.yaml"
DEFAULT_REPORT = ROOT / "docs" / "benchmarks.md"
