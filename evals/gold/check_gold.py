#!/usr/bin/env python3
"""Check the gold question set (evals/gold/questions.yaml) against the sample corpus.

Run from the repository root or anywhere else:

    python evals/gold/check_gold.py            # exit 0 when all checks pass, 1 otherwise
    python evals/gold/check_gold.py --verbose  # also print per-question matches

What it checks (see README.md in this folder for the format):
- the YAML loads and is a list of items with the required fields and allowed values;
- ids are sequential (q001, q002, ...);
- composition: totals per tag and language (the minimums in MINIMUMS below);
- unanswerable items have no key facts and no supporting documents;
- follow-up items have a history whose first turn is the question of an earlier item;
- multi_doc items list at least two supporting documents and their key facts are matched in at
  least two different documents;
- cross_lingual items are English questions whose supporting documents are all Italian, and no
  English document of the corpus contains all their key facts;
- every supporting document id exists in the corpus (catalog.yaml, else PLAN.md);
- for every answerable item, each key-fact set has at least one alternative found in at least one
  supporting document's text (case-insensitive, whitespace-normalised substring match).

Document text: PDF/DOCX documents are read from their text source corpus/sources/<id>.md; HTML is
stripped of tags; TXT/MD files are read as UTF-8 except the one file known to be windows-1252
encoded (decreto-26-luglio-2017-nuovi-cluster), which is decoded as cp1252.
"""
from __future__ import annotations

import argparse
import html
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = ROOT / "corpus"  # the sample corpus; --corpus evals/realistic checks against the realistic one
SOURCES = CORPUS / "sources"
FILES = CORPUS
QUESTIONS = HERE / "questions.yaml"
HELDOUT = HERE / "heldout.yaml"

CP1252_DOCS = {"decreto-26-luglio-2017-nuovi-cluster"}

ALLOWED_TAGS = {
    "factual", "cross_lingual", "amendment", "multi_doc", "unanswerable",
    "out_of_domain", "follow_up", "conflict",
}
ALLOWED_LANGS = {"it", "en"}
ALLOWED_USERS = {"applicant", "staff", "helpdesk"}
REQUIRED_FIELDS = [
    "id", "question", "lang", "user", "tags", "answerable", "key_facts",
    "supporting_docs", "history",
]

MINIMUMS = {
    "total": 110,
    "unanswerable": 24,          # answerable: false
    "unanswerable_in_domain": 14,
    "out_of_domain": 8,
    "follow_up": 10,
    "cross_lingual": 15,
    "amendment": 10,
    "multi_doc": 10,
}
LANG_SHARE = (0.4, 0.6)  # share of Italian questions must fall in this range


def norm(text: str) -> str:
    """Case-insensitive, whitespace-normalised form used for matching."""
    return re.sub(r"\s+", " ", text).strip().casefold()


def strip_html(raw: str) -> str:
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?s)<!--.*?-->", " ", raw)
    # inline tags vanish, every other tag becomes a space
    raw = re.sub(r"(?i)</?(b|i|em|strong|span|a|abbr|code|sup|sub|small|mark|u)\b[^>]*>", "", raw)
    raw = re.sub(r"(?s)<[^>]+>", " ", raw)
    return html.unescape(raw)


def load_catalog() -> dict[str, dict]:
    """Return {id: {"file": relative path or None, "language": it|en|None}}."""
    docs: dict[str, dict] = {}
    catalog = CORPUS / "catalog.yaml"
    if catalog.exists():
        try:
            data = yaml.safe_load(catalog.read_text(encoding="utf-8")) or {}
            for entry in data.get("documents", []) or []:
                if isinstance(entry, dict) and entry.get("id"):
                    docs[entry["id"]] = {
                        "file": entry.get("file"),
                        "language": entry.get("language"),
                    }
        except yaml.YAMLError as exc:
            print(f"WARNING: corpus/catalog.yaml does not load: {exc}")
    plan = CORPUS / "PLAN.md"
    if plan.exists():
        for line in plan.read_text(encoding="utf-8").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and re.fullmatch(r"[a-z0-9][a-z0-9-]+", cells[0]) and cells[0] != "id":
                doc_id = cells[0]
                file = cells[1].split(" ")[0]
                entry = docs.setdefault(doc_id, {"file": None, "language": None})
                entry["file"] = entry["file"] or file
                entry["language"] = entry["language"] or (cells[2] if cells[2] in ALLOWED_LANGS else None)
    return docs


def doc_text(doc_id: str, info: dict) -> str | None:
    """Plain text of a document, or None when it does not exist (yet)."""
    file = info.get("file")
    path = FILES / file if file else None
    if path is None or not path.exists():
        hits = [p for p in FILES.rglob(f"{doc_id}.*") if "sources" not in p.parts]
        path = hits[0] if hits else None
    suffix = path.suffix.lower() if path else Path(file or "").suffix.lower()
    if suffix in {".pdf", ".docx"} or path is None:
        src = SOURCES / f"{doc_id}.md"
        if src.exists():
            return src.read_text(encoding="utf-8")
        return None
    raw_bytes = path.read_bytes()
    if doc_id in CP1252_DOCS:
        raw = raw_bytes.decode("cp1252")
    else:
        try:
            raw = raw_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raw = raw_bytes.decode("cp1252")
    if suffix in {".html", ".htm"}:
        raw = strip_html(raw)
    return raw


def found(alternatives: list[str], text_norm: str) -> bool:
    return any(norm(str(alt)) in text_norm for alt in alternatives)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--heldout", nargs="?", const=str(HELDOUT), default=None, metavar="FILE",
                        help="check a held-out file instead (default heldout.yaml): ids with the file's own prefix "
                             "(h001..., t001...), every per-item rule, no composition minimums and no corpus "
                             "coverage (small sets written after tuning, see README)")
    parser.add_argument("--corpus", default=None, metavar="DIR",
                        help="check against another corpus folder: its catalog.yaml, its files under DIR/corpus "
                             "and its text sources under DIR/sources (the realistic corpus: evals/realistic)")
    args = parser.parse_args()
    if args.corpus:
        global CORPUS, SOURCES, FILES
        CORPUS = Path(args.corpus).resolve()
        SOURCES = CORPUS / "sources"
        FILES = CORPUS / "corpus" if (CORPUS / "corpus").is_dir() else CORPUS
    questions = Path(args.heldout) if args.heldout else QUESTIONS
    prefix = "q"
    if args.heldout:
        try:
            first = (yaml.safe_load(questions.read_text(encoding="utf-8")) or [{}])[0]
            prefix = str(first.get("id", "h"))[:1] if isinstance(first, dict) else "h"
        except (OSError, yaml.YAMLError):
            prefix = "h"

    problems: list[str] = []
    warnings: list[str] = []

    try:
        items = yaml.safe_load(questions.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        print(f"FAIL: cannot load {questions}: {exc}")
        return 1
    if not isinstance(items, list):
        print("FAIL: questions.yaml must be a YAML list")
        return 1

    catalog = load_catalog()
    texts: dict[str, str] = {}
    missing_docs: set[str] = set()
    for doc_id, info in catalog.items():
        t = doc_text(doc_id, info)
        if t is None:
            missing_docs.add(doc_id)
        else:
            texts[doc_id] = norm(t)
    english_docs = {d for d, i in catalog.items() if i.get("language") == "en"}
    italian_docs = {d for d, i in catalog.items() if i.get("language") == "it"}

    # ---- per-item structure -------------------------------------------------------------
    questions_seen: dict[str, str] = {}
    for n, item in enumerate(items, start=1):
        where = f"item {n}"
        if not isinstance(item, dict):
            problems.append(f"{where}: not a mapping")
            continue
        qid = item.get("id", "?")
        where = f"{qid}"
        for field in REQUIRED_FIELDS:
            if field not in item:
                problems.append(f"{where}: missing field '{field}'")
        if qid != f"{prefix}{n:03d}":
            problems.append(f"{where}: id should be {prefix}{n:03d} (ids must be sequential)")
        if not isinstance(item.get("question"), str) or not item.get("question", "").strip():
            problems.append(f"{where}: empty question")
        if item.get("lang") not in ALLOWED_LANGS:
            problems.append(f"{where}: lang must be one of {sorted(ALLOWED_LANGS)}")
        if item.get("user") not in ALLOWED_USERS:
            problems.append(f"{where}: user must be one of {sorted(ALLOWED_USERS)}")
        tags = item.get("tags") or []
        if not isinstance(tags, list) or not tags:
            problems.append(f"{where}: tags must be a non-empty list")
            tags = []
        for tag in tags:
            if tag not in ALLOWED_TAGS:
                problems.append(f"{where}: unknown tag '{tag}'")
        if len(set(tags)) != len(tags):
            problems.append(f"{where}: duplicate tags")
        answerable = item.get("answerable")
        if not isinstance(answerable, bool):
            problems.append(f"{where}: answerable must be true or false")
        key_facts = item.get("key_facts")
        supporting = item.get("supporting_docs")
        history = item.get("history")
        if not isinstance(key_facts, list) or not all(
            isinstance(kf, list) and kf and all(isinstance(a, (str, int, float)) and str(a).strip() for a in kf)
            for kf in key_facts
        ):
            problems.append(f"{where}: key_facts must be a list of non-empty lists of strings")
            key_facts = []
        if not isinstance(supporting, list) or not all(isinstance(d, str) for d in supporting):
            problems.append(f"{where}: supporting_docs must be a list of document ids")
            supporting = []
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            problems.append(f"{where}: history must be a list of strings")
            history = []
        if len(set(supporting)) != len(supporting):
            problems.append(f"{where}: duplicate supporting_docs")

        if answerable is False:
            if key_facts or supporting:
                problems.append(f"{where}: unanswerable items must have empty key_facts and supporting_docs")
            if "unanswerable" not in tags and "out_of_domain" not in tags:
                problems.append(f"{where}: answerable false but neither 'unanswerable' nor 'out_of_domain' tag")
        if answerable is True:
            if "unanswerable" in tags or "out_of_domain" in tags:
                problems.append(f"{where}: answerable true but tagged unanswerable/out_of_domain")
            if not key_facts:
                problems.append(f"{where}: answerable item without key facts")
            if not 1 <= len(key_facts) <= 4:
                warnings.append(f"{where}: {len(key_facts)} key facts (keep to the 1-3 that matter)")
            if not supporting:
                problems.append(f"{where}: answerable item without supporting docs")
        if "out_of_domain" in tags and answerable is not False:
            problems.append(f"{where}: out_of_domain items must be unanswerable")

        for d in supporting:
            if d not in catalog:
                problems.append(f"{where}: unknown supporting doc '{d}'")

        if "follow_up" in tags:
            if not history:
                problems.append(f"{where}: follow_up item without history")
            elif history[0] not in questions_seen:
                problems.append(f"{where}: history[0] is not the question of an earlier item")
        elif history:
            problems.append(f"{where}: history given but not tagged follow_up")

        if "multi_doc" in tags and len(supporting) < 2:
            problems.append(f"{where}: multi_doc item must list at least two supporting docs")

        if "cross_lingual" in tags:
            if item.get("lang") != "en":
                problems.append(f"{where}: cross_lingual questions must be in English")
            for d in supporting:
                if d in catalog and d not in italian_docs:
                    problems.append(f"{where}: cross_lingual supporting doc '{d}' is not Italian")

        # ---- key facts against the supporting documents ---------------------------------
        if answerable is True and key_facts and supporting:
            absent = [d for d in supporting if d in missing_docs]
            present = [d for d in supporting if d in texts]
            if absent:
                problems.append(f"{where}: supporting doc(s) not in the corpus yet: {absent}")
            docs_matching: set[str] = set()
            for kf in key_facts:
                hit_docs = [d for d in present if found(kf, texts[d])]
                if not hit_docs:
                    problems.append(f"{where}: key fact {kf} not found in any of {supporting}")
                elif args.verbose:
                    print(f"  {where}: {kf[0]!r} in {hit_docs}")
                docs_matching.update(hit_docs)
            if "multi_doc" in tags and present and len(docs_matching) < 2:
                problems.append(f"{where}: multi_doc key facts all come from one document")
            if "multi_doc" in tags and present:
                for d in present:
                    if all(found(kf, texts[d]) for kf in key_facts):
                        warnings.append(f"{where}: multi_doc but '{d}' alone contains every key fact")
            if "cross_lingual" in tags:
                for d in sorted(english_docs & set(texts)):
                    if all(found(kf, texts[d]) for kf in key_facts):
                        problems.append(
                            f"{where}: cross_lingual but English doc '{d}' contains all key facts")

        questions_seen[item.get("question", "")] = qid

    # ---- composition --------------------------------------------------------------------
    tag_counts: Counter = Counter()
    lang_counts: Counter = Counter()
    user_counts: Counter = Counter()
    for item in items:
        if isinstance(item, dict):
            tag_counts.update(item.get("tags") or [])
            lang_counts[item.get("lang")] += 1
            user_counts[item.get("user")] += 1
    total = len(items)
    unanswerable = sum(1 for i in items if isinstance(i, dict) and i.get("answerable") is False)
    ood = sum(1 for i in items if isinstance(i, dict) and "out_of_domain" in (i.get("tags") or []))
    in_domain_unans = sum(
        1 for i in items if isinstance(i, dict) and i.get("answerable") is False
        and "out_of_domain" not in (i.get("tags") or []))
    actual = {
        "total": total,
        "unanswerable": unanswerable,
        "unanswerable_in_domain": in_domain_unans,
        "out_of_domain": ood,
        "follow_up": tag_counts["follow_up"],
        "cross_lingual": tag_counts["cross_lingual"],
        "amendment": tag_counts["amendment"],
        "multi_doc": tag_counts["multi_doc"],
    }
    for key, minimum in MINIMUMS.items():
        if not args.heldout and actual[key] < minimum:
            problems.append(f"composition: {key} = {actual[key]}, at least {minimum} required")
    if total:
        share = lang_counts["it"] / total
        if not LANG_SHARE[0] <= share <= LANG_SHARE[1]:
            problems.append(f"composition: Italian share {share:.0%} outside {LANG_SHARE}")
    for user in ALLOWED_USERS:
        if user_counts[user] == 0:
            problems.append(f"composition: no question from user '{user}'")

    # every corpus document supports at least one question
    supported = Counter()
    for item in items:
        if isinstance(item, dict):
            supported.update(item.get("supporting_docs") or [])
    for doc_id in sorted(catalog):
        if supported[doc_id] == 0 and not args.heldout:
            problems.append(f"coverage: corpus document '{doc_id}' supports no question")
    if missing_docs:
        problems.append(f"corpus: {len(missing_docs)} planned document(s) missing: {sorted(missing_docs)}")

    # ---- report -------------------------------------------------------------------------
    print(f"questions: {total}")
    print("languages: " + ", ".join(f"{k}={v}" for k, v in sorted(lang_counts.items())))
    print("users: " + ", ".join(f"{k}={v}" for k, v in sorted(user_counts.items())))
    print("tags: " + ", ".join(f"{k}={v}" for k, v in sorted(tag_counts.items())))
    print(f"answerable=false: {unanswerable} (in domain {in_domain_unans}, out of domain {ood})")
    for w in warnings:
        print(f"WARNING: {w}")
    for p in problems:
        print(f"PROBLEM: {p}")
    if problems:
        print(f"FAIL: {len(problems)} problem(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
