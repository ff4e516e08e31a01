"""docs/benchmarks.md: one section per benchmark, each rewritten in place by its own command.

A section sits between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` so that re-running one
benchmark replaces its figures and keeps the others (and any prose written outside the markers).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ORDER = ["ingest", "ask", "retrieval-scale", "embedding"]

PREAMBLE = """# Benchmarks

Figures measured on this project's own objects by `ctn bench <name>`; every section below is rewritten
by its command (`ctn bench ingest`, `ctn bench ask`, `ctn bench retrieval-scale`, `ctn bench embedding`)
and states the machine, the date, the exact command and the load average while it ran. Comparisons are
measured side by side in one run and given as ratios, because absolute times on a shared 2-core machine
move with whatever else runs on it; the ratios move much less.

"""


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub Markdown table; ``align`` is one letter per column (l or r), default: first left."""
    align = align or "l" + "r" * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def run_block(header: dict[str, Any]) -> str:
    """The provenance of a section's figures: when, what command, which machine, how loaded."""
    m, s = header["machine"], header["software"]
    lines = [
        f"- **Command**: `{header['command']}`",
        f"- **Date**: {header['date']}",
        f"- **Machine**: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}, Python {m['python']}",
        "- **Software**: " + ", ".join(f"{k} {v}" for k, v in s.items()),
        f"- **Load average** (1, 5, 15 min; `uptime`) at start: {header['load_start']['text']}; "
        f"at end: {header.get('load_end', {}).get('text', 'n/a')}",
    ]
    if header.get("high_load"):
        lines.append("")
        lines.append(f"> **High load while measuring.** Other processes (tests of other components) were "
                     f"running on this {m['cores']}-core machine, so absolute times below are slower and "
                     f"noisier than on an idle machine. The side-by-side ratios, measured in the same run "
                     f"and interleaved, are the figures to rely on.")
    return "\n".join(lines)


def write_section(path: Path, name: str, markdown: str) -> None:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else PREAMBLE
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        later = [n for n in ORDER[ORDER.index(name) + 1:] if f"<!-- bench:{n} -->" in text] if name in ORDER else []
        if later:
            at = text.index(f"<!-- bench:{later[0]} -->")
            text = text[:at] + block + "\n" + text[at:]
        else:
            text = text.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
