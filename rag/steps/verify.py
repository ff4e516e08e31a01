"""Step ``verify_citations``: every marker resolves, every quote is verbatim in its stored chunk, every figure
of the text stands in a cited quote (``rag.citations``, the check the evaluation uses too)."""

from __future__ import annotations

import logging

from rag.citations import MARKER, check_citations
from rag.phrases import phrases
from rag.state import AnswerState

log = logging.getLogger(__name__)


class VerifyCitations:
    name = "verify_citations"

    def __init__(self, index) -> None:  # noqa: ANN001 - rag.index.IndexManager
        self.index = index

    def _texts(self, s: AnswerState, ids: list[str]) -> dict[str, str]:
        known = {c.chunk_id: c.text for c in s.chunks}
        snapshot = self.index.snapshot
        for cid in ids:
            if cid not in known and cid in snapshot.row:
                known[cid] = snapshot.texts[snapshot.row[cid]]
        return {cid: known[cid] for cid in ids if cid in known}

    def __call__(self, s: AnswerState) -> None:
        cited = {c.n for c in s.citations}
        for marker in set(MARKER.findall(s.text)):
            if int(marker) not in cited:
                s.text = s.text.replace(f"[{marker}]", "")
                log.warning("removed a marker [%s] that pointed to no source", marker)
        answer = {"answer": s.text, "question": s.question, "citations": [c.__dict__ for c in s.citations]}
        check = check_citations(answer, lambda ids: self._texts(s, ids))
        dropped = set(check.non_verbatim) | set(check.missing_chunks)
        for n in sorted(dropped):
            log.warning("dropped citation %s: quote not verbatim in its chunk", n)
        s.citations = [c for c in s.citations if c.n not in dropped]
        if check.unsupported_numbers:
            s.warnings.append(phrases(s.language)["unverified"].format(numbers=", ".join(check.unsupported_numbers)))
        if not s.citations and s.status == "answered":
            s.stop("not_found", "no citation survived the checks")
