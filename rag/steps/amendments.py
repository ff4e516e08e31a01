"""Step ``add_amendments``: a cited act that a later act amended is flagged, and the amending act is quoted
on the same question when it says something about it (``amended_by`` from the catalog)."""

from __future__ import annotations

import re

from rag.acts import format_act
from rag.index import Filters
from rag.phrases import phrases
from rag.state import AnswerState, PartEvidence


def act_name(doc, language: str) -> str:  # noqa: ANN001 - a rag.store.DocRecord
    meta = doc.meta
    return format_act(str(meta.get("act_type") or ""), str(meta.get("act_number") or ""),
                      str(meta.get("act_date") or ""), language, fallback=str(meta.get("act") or doc.title))


class AddAmendments:
    name = "add_amendments"

    def __init__(self, retriever, extractive=None) -> None:  # noqa: ANN001
        self.retriever = retriever  # rag.retrieval.HybridRetriever
        self.extractive = extractive  # rag.answering.extractive.ExtractiveAnswerer: finds the quote

    def __call__(self, s: AnswerState) -> None:
        snapshot = self.retriever.index.snapshot
        ph = phrases(s.language)
        amended: dict[str, list[str]] = {}
        targets: list[str] = []
        for cit in s.citations:
            doc = snapshot.docs.get(cit.document_id)
            targets.append(doc.meta.get("about") if doc and doc.meta.get("about") else cit.document_id)
        if s.status == "answered" and s.analysis is not None and s.analysis.act_keys:
            # The act the question names ("the 2016 notice") is amended even when only its amendment is quoted.
            numbers = {k.split(":")[-1] for k in s.analysis.act_keys}
            targets += [d for d, rec in snapshot.docs.items()
                        if str(rec.meta.get("act_key", "")).split(":")[-1] in numbers and rec.meta.get("amended_by")]
        for target in dict.fromkeys(targets):
            target_doc = snapshot.docs.get(target)
            if target_doc is None:
                continue
            for by in target_doc.meta.get("amended_by") or []:
                if by in snapshot.docs and by not in amended.get(target, []):
                    amended.setdefault(target, []).append(by)
        cited = {c.document_id for c in s.citations}
        cited |= {str(snapshot.docs[d].meta.get("about")) for d in cited
                  if d in snapshot.docs and snapshot.docs[d].meta.get("about")}
        for target, by_list in amended.items():
            labels = ", ".join(act_name(snapshot.docs[b], s.language) for b in by_list)
            s.warnings.append(ph["amended"].format(act=act_name(snapshot.docs[target], s.language), by=labels))
            numbers = {str(snapshot.docs[b].meta.get("act_number") or "").split("/")[0] for b in by_list}
            if any(b in cited for b in by_list) or any(n and re.search(rf"(?<!\d){n}(?!\d)", s.text) for n in numbers):
                continue  # the answer already quotes the amending act
            self._quote_amendment(s, by_list, ph)

    def _quote_amendment(self, s: AnswerState, by_list: list[str], ph: dict) -> None:  # noqa: ANN001
        if self.extractive is None or not s.evidence:
            return
        snapshot = self.retriever.index.snapshot
        overviews = [d for d, rec in snapshot.docs.items() if rec.meta.get("about") in by_list]
        first = s.evidence[0]
        found = self.retriever.search(first.part.query, k=6, language=s.query_language,
                                      filters=Filters(document_id=by_list + overviews))
        if not found:
            return
        ctx = self.extractive.context(s, PartEvidence(first.part, first.plan, found))
        units, _x, p = self.extractive.rank(ctx, found)
        if not units:
            return
        best = int(p.argmax())
        if p[best] < self.extractive.params["amendment_min"] or units[best].text in s.text:
            return
        n = s.cite(units[best].chunk, units[best].text)
        s.text += f"\n\n{ph['amended_quote']} «{units[best].text}» [{n}]"
