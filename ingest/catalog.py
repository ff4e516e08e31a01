"""``catalog.yaml``: curated metadata per file of a folder, merged over what is read from the text."""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

CATALOG_NAME = "catalog.yaml"
DOC_TYPES = {"notice", "decree", "law", "guideline", "roadmap", "faq", "overview", "cluster_profile"}


@dataclass
class Catalog:
    root: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # by path relative to root
    exclude: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path) -> Catalog:
        path = root / CATALOG_NAME
        if not path.exists():
            return cls(root)
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = {}
        for entry in data.get("documents", []):
            if not isinstance(entry, dict) or "file" not in entry:
                log.warning("catalog entry without 'file' ignored: %r", entry)
                continue
            entries[str(entry["file"])] = entry
        return cls(root, entries, [str(p) for p in data.get("exclude", [])])

    def entry_for(self, path: Path) -> dict[str, Any] | None:
        try:
            rel = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None
        return self.entries.get(rel)

    def excluded(self, path: Path) -> bool:
        try:
            rel = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return False
        if rel == CATALOG_NAME:
            return True
        return any(fnmatch.fnmatch(rel, pat) for pat in self.exclude)
