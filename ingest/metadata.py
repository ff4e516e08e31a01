"""Document metadata: the catalog's curated fields first, then what the text itself says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rag.acts import act_keys, parse_acts, parse_dates
from rag.language import detect_language

PIPELINE_VERSION = "5"  # bump when loading or splitting changes, so stored documents are redone


def slugify(value: str) -> str:
    value = re.sub(r"[^\w.-]+", "-", value.lower()).strip("-.")
    return re.sub(r"-{2,}", "-", value) or "document"


def document_id_for(path: Path, root: Path | None, catalog_entry: dict[str, Any] | None) -> str:
    if catalog_entry and catalog_entry.get("id"):
        return str(catalog_entry["id"])
    if root is not None:
        try:
            rel = path.resolve().relative_to(root.resolve())
            return slugify(rel.with_suffix("").as_posix().replace("/", "--"))
        except ValueError:
            pass
    return slugify(path.stem)


def act_label(entry: dict[str, Any]) -> str | None:
    if entry.get("act"):
        return str(entry["act"])
    parts = [str(entry.get("act_type") or "")]
    if entry.get("act_number"):
        parts.append(str(entry["act_number"]))
    if entry.get("act_date"):
        parts.append(f"of {entry['act_date']}")
    label = " ".join(p for p in parts if p)
    return label or None


def act_key_for(entry: dict[str, Any], title: str, text: str) -> str:
    act_type, number = entry.get("act_type"), entry.get("act_number")
    if act_type and number:
        kind = str(act_type).upper().replace(".", "")
        kind = {"DECRETO": "DECREE", "LEGGE": "L", "LAW": "L"}.get(kind, kind)
        return f"{kind}:{str(number).split('/')[0]}"
    refs = [r for r in parse_acts(title) if r.key]
    return refs[0].key if refs and refs[0].key else ""


def build_metadata(entry: dict[str, Any] | None, title: str | None, text: str, path: Path) -> dict[str, Any]:
    """Everything chunk metadata and the registry need about one document."""
    entry = dict(entry or {})
    language = str(entry.get("language") or detect_language(text))
    title = str(entry.get("title") or title or path.stem.replace("-", " ").replace("_", " "))
    dates = [d for d, _, _ in parse_dates(text[:20000])]
    act_date = str(entry.get("act_date") or "") or None
    year = entry.get("year") or (int(act_date[:4]) if act_date else None) or _main_year(title, text, dates)
    doc_type = str(entry.get("doc_type") or _guess_doc_type(title, text))
    meta: dict[str, Any] = {
        "title": title,
        "doc_type": doc_type,
        "doc_language": language,
        "act": act_label(entry) or "",
        "act_key": act_key_for(entry, title, text),
        "act_type": entry.get("act_type") or "",
        "act_number": str(entry.get("act_number") or ""),
        "act_date": act_date or "",
        "year": int(year) if year else 0,
        "issuer": entry.get("issuer") or "",
        "official_reference": entry.get("official_reference") or "",
        "amends": list(entry.get("amends") or []),
        "amended_by": list(entry.get("amended_by") or []),
        "about": entry.get("about") or "",
        "clusters": list(entry.get("clusters") or []),
        "acts_mentioned": act_keys(text)[:30],
        "dates": sorted(set(dates))[:30],
    }
    return meta


def _main_year(title: str, text: str, dates: list[str]) -> int | None:
    """The year a document is about: its title's, its first act reference's, else its commonest date's
    (the first date in a notice is often a deadline years later)."""
    years = re.findall(r"\b(?:19|20)\d\d\b", title)
    if years:
        return int(years[0])
    refs = [r for r in parse_acts(text[:1500]) if r.year]
    if refs:
        return refs[0].year
    if dates:
        counts: dict[str, int] = {}
        for d in dates:
            counts[d[:4]] = counts.get(d[:4], 0) + 1
        return int(max(counts, key=lambda y: (counts[y], -int(y))))
    return None


def _guess_doc_type(title: str, text: str) -> str:
    lowered_title = title.lower()
    if any(w in lowered_title for w in ("faq", "domande frequenti", "frequently asked", "questions and answers")):
        return "faq"
    head = (title + " " + text[:600]).lower()
    for words, kind in ((("avviso", "bando", "notice", "call for"), "notice"),
                        (("faq", "domande frequenti", "frequently asked"), "faq"),
                        (("decreto-legge", "legge n", "law no"), "law"),
                        (("decreto", "decree"), "decree"),
                        (("linee guida", "guideline"), "guideline"),
                        (("roadmap", "piano nazionale", "programma nazionale"), "roadmap"),
                        (("cluster",), "cluster_profile")):
        if any(w in head for w in words):
            return kind
    return "overview"
