"""Load and validate the gold question set (format: evals/gold/README.md).

The loader checks the structure only (fields, types, allowed values, the rules that tie them together);
``evals/gold/check_gold.py`` additionally checks the items against the corpus text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evals import GOLD_PATH

ALLOWED_TAGS = {"factual", "cross_lingual", "amendment", "multi_doc", "unanswerable", "out_of_domain",
                "follow_up", "conflict"}
ALLOWED_LANGS = {"it", "en"}
ALLOWED_USERS = {"applicant", "staff", "helpdesk"}
REQUIRED_FIELDS = ("id", "question", "lang", "user", "tags", "answerable", "key_facts", "supporting_docs",
                   "history")


class GoldFormatError(ValueError):
    """The gold file does not follow the documented format; ``problems`` lists every violation."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the gold file: " + "; ".join(problems[:10]))


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    lang: str
    user: str
    tags: tuple[str, ...]
    answerable: bool
    key_facts: tuple[tuple[str, ...], ...]
    supporting_docs: tuple[str, ...]
    history: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_follow_up(self) -> bool:
        return bool(self.history)


def _item_problems(n: int, item: Any, earlier_questions: set[str]) -> list[str]:
    if not isinstance(item, dict):
        return [f"item {n}: not a mapping"]
    where = str(item.get("id", f"item {n}"))
    problems = [f"{where}: missing field '{f}'" for f in REQUIRED_FIELDS if f not in item]
    if problems:
        return problems
    if not isinstance(item["question"], str) or not item["question"].strip():
        problems.append(f"{where}: empty question")
    if item["lang"] not in ALLOWED_LANGS:
        problems.append(f"{where}: lang must be one of {sorted(ALLOWED_LANGS)}")
    if item["user"] not in ALLOWED_USERS:
        problems.append(f"{where}: user must be one of {sorted(ALLOWED_USERS)}")
    tags = item["tags"]
    if not isinstance(tags, list) or not tags or not all(t in ALLOWED_TAGS for t in tags):
        problems.append(f"{where}: tags must be a non-empty list of {sorted(ALLOWED_TAGS)}")
        tags = []
    answerable = item["answerable"]
    if not isinstance(answerable, bool):
        problems.append(f"{where}: answerable must be true or false")
    key_facts = item["key_facts"]
    if not isinstance(key_facts, list) or not all(
            isinstance(kf, list) and kf and all(isinstance(a, str | int | float) and str(a).strip() for a in kf)
            for kf in key_facts):
        problems.append(f"{where}: key_facts must be a list of non-empty lists of strings")
        key_facts = []
    supporting = item["supporting_docs"]
    if not isinstance(supporting, list) or not all(isinstance(d, str) and d for d in supporting):
        problems.append(f"{where}: supporting_docs must be a list of document ids")
        supporting = []
    history = item["history"]
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        problems.append(f"{where}: history must be a list of strings")
        history = []
    if answerable is True and (not key_facts or not supporting):
        problems.append(f"{where}: an answerable item needs key_facts and supporting_docs")
    if answerable is False and (key_facts or supporting):
        problems.append(f"{where}: an unanswerable item must have empty key_facts and supporting_docs")
    if answerable is False and not {"unanswerable", "out_of_domain"} & set(tags):
        problems.append(f"{where}: answerable false needs the tag 'unanswerable' or 'out_of_domain'")
    if answerable is True and {"unanswerable", "out_of_domain"} & set(tags):
        problems.append(f"{where}: answerable true but tagged unanswerable/out_of_domain")
    if "follow_up" in tags and (not history or history[0] not in earlier_questions):
        problems.append(f"{where}: a follow_up item needs a history starting with an earlier question")
    if history and "follow_up" not in tags:
        problems.append(f"{where}: history given but not tagged follow_up")
    return problems


def parse_gold(items: Any) -> list[GoldItem]:
    """Validate parsed YAML and build the items; raise ``GoldFormatError`` listing every problem."""
    if not isinstance(items, list) or not items:
        raise GoldFormatError(["the gold file must be a non-empty YAML list"])
    problems: list[str] = []
    seen_ids: set[str] = set()
    questions: set[str] = set()
    out: list[GoldItem] = []
    # Ids are a one-letter prefix and a sequence number: q001... for the gold set, h001... for the held-out one.
    first = str(items[0].get("id", "")) if isinstance(items[0], dict) else ""
    prefix = first[:1] if re.fullmatch(r"[a-z]\d{3}", first) else "q"
    for n, item in enumerate(items, start=1):
        item_problems = _item_problems(n, item, questions)
        if isinstance(item, dict):
            qid = str(item.get("id", ""))
            if qid != f"{prefix}{n:03d}":
                item_problems.append(f"{qid}: id should be {prefix}{n:03d} (ids are sequential in file order)")
            if qid in seen_ids:
                item_problems.append(f"{qid}: duplicate id")
            seen_ids.add(qid)
            questions.add(str(item.get("question", "")))
        problems += item_problems
        if item_problems:
            continue
        out.append(GoldItem(
            id=str(item["id"]), question=item["question"].strip(), lang=item["lang"], user=item["user"],
            tags=tuple(item["tags"]), answerable=item["answerable"],
            key_facts=tuple(tuple(str(a) for a in kf) for kf in item["key_facts"]),
            supporting_docs=tuple(item["supporting_docs"]), history=tuple(item["history"]),
        ))
    if problems:
        raise GoldFormatError(problems)
    return out


def load_gold(path: Path = GOLD_PATH) -> list[GoldItem]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GoldFormatError([f"{path} is not valid YAML: {exc}"]) from exc
    return parse_gold(data)
