"""The question sets of the evaluation and the corpora they ask about (``evals/sets.yaml``).

Each corpus gets its own store: the sample corpus in the service's own data directory, every other corpus
under ``$CTN_DATA_DIR/eval/<corpus>``, ingested from its folder as a user's folder of files would be (the
realistic corpus has no catalog). The services share one embedding model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import yaml

from evals import ROOT
from evals.gold import GoldItem, load_gold

log = logging.getLogger(__name__)

SETS_PATH = Path(__file__).resolve().parent / "sets.yaml"
PURPOSES = ("tuning", "development", "blind")


@dataclass(frozen=True)
class QuestionSet:
    name: str
    path: Path
    corpus: str
    purpose: str
    note: str = ""

    def items(self) -> list[GoldItem]:
        return load_gold(self.path)


def load_sets(path: Path = SETS_PATH) -> tuple[dict[str, Path], list[QuestionSet]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    corpora = {name: ROOT / c["path"] for name, c in data["corpora"].items()}
    sets = []
    for entry in data["sets"]:
        if entry["purpose"] not in PURPOSES or entry["corpus"] not in corpora:
            raise ValueError(f"{path}: set {entry.get('name')} has an unknown purpose or corpus")
        sets.append(QuestionSet(entry["name"], ROOT / entry["file"], entry["corpus"], entry["purpose"],
                                entry.get("note", "")))
    return corpora, sets


def sets_for(purpose: str) -> list[QuestionSet]:
    return [s for s in load_sets()[1] if s.purpose == purpose]


class Services:
    """One service per corpus, built on demand from a base service (whose store holds the sample corpus)."""

    def __init__(self, base) -> None:  # noqa: ANN001 - ctn.service.AssistantService
        self.base = base
        self.corpora, _ = load_sets()
        self._services: dict[str, object] = {}

    def get(self, corpus: str):  # noqa: ANN201 - ctn.service.AssistantService
        if corpus in self._services:
            return self._services[corpus]
        from ctn.service import AssistantService

        folder = self.corpora[corpus]
        if corpus == "sample":
            svc = self.base
        else:
            settings = self.base.settings.model_copy(update={
                "data_dir": Path(self.base.settings.data_dir) / "eval" / corpus, "corpus_dir": folder,
                "chroma_url": None, "database_url": None})
            svc = AssistantService(settings)
            svc.__dict__["embedder"] = self.base.embedder  # one model in memory for every corpus
            svc.log_questions = False
        if svc.store.count() == 0:
            log.info("ingesting %s into %s", folder, svc.settings.data_dir)
            report = svc.ingest([folder])
            if report.failed:
                log.warning("ingest failures: %s", [(r.path, r.reason) for r in report.failed])
        else:
            svc.ingest([folder])  # unchanged files are skipped by hash; a changed loader re-ingests them
        svc.index.load_or_build()
        self._services[corpus] = svc
        return svc
