"""Checks on produced answers: key facts, gold answer spans, and citation validity (the product's own
check, ``rag.citations``, so the harness and the pipeline can never disagree on what a valid citation is)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evals import norm
from rag.citations import (  # noqa: F401 - the harness checks answers with the product's own checks
    MARKER,
    MARKER_GROUP,
    CitationCheck,
    check_citations,
    markers_in,
    numbers_in,
)


def key_facts_found(key_facts: Sequence[Sequence[str]], text: str) -> list[bool]:
    """For each key-fact group: is at least one of its alternatives in ``text``?"""
    haystack = norm(text)
    return [any(norm(alt) in haystack for alt in group) for group in key_facts]


def all_key_facts(key_facts: Sequence[Sequence[str]], text: str) -> bool:
    return bool(key_facts) and all(key_facts_found(key_facts, text))


def contains_span(spans: Iterable[str], text: str) -> bool:
    haystack = norm(text)
    return any(norm(s) and norm(s) in haystack for s in spans)
