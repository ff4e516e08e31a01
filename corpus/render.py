"""Render the text sources in ``sources/`` to the PDF and DOCX files the catalog names.

Usage: python corpus/render.py   (needs fpdf2 and python-docx; fonts: DejaVu, from Debian's fonts-dejavu-core)
The rendered files are committed; re-run this only after editing a source.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def parse(source: str) -> list[tuple[str, str]]:
    """(kind, text) items: note, title, h2, h3, para, bullet, table, page."""
    items: list[tuple[str, str]] = []
    para: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if para:
            items.append(("para", " ".join(para)))
            para.clear()
        if table:
            items.append(("table", "\n".join(table)))
            table.clear()

    for n, raw in enumerate(source.splitlines()):
        line = raw.rstrip()
        if line.strip() == "<!-- page -->":
            flush()
            items.append(("page", ""))
        elif not line.strip():
            flush()
        elif line.startswith("|"):
            if para:
                flush()
            if not re.fullmatch(r"\|[\s:|-]+\|?", line.strip()):
                table.append(line.strip())
        elif line.startswith("# "):
            flush()
            items.append(("title", line[2:].strip()))
        elif line.startswith("## "):
            flush()
            items.append(("h2", line[3:].strip()))
        elif line.startswith("### "):
            flush()
            items.append(("h3", line[4:].strip()))
        elif re.match(r"^\s*[-*] ", line):
            flush()
            items.append(("bullet", re.sub(r"^\s*[-*] ", "", line)))
        elif n == 0:
            items.append(("note", line.strip()))
        else:
            para.append(line.strip())
    flush()
    return items


def _plain(text: str) -> str:
    return re.sub(r"(\*\*|__|`)", "", text)


def render_pdf(items: list[tuple[str, str]], out: Path, title: str) -> None:
    from fpdf import FPDF

    class Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("DejaVu", "", 8)
            self.cell(0, 10, f"Pagina {self.page_no()}", align="C")

    pdf = Doc(format="A4")
    pdf.set_title(title)
    pdf.set_author("CTN sample corpus (unofficial)")
    pdf.set_creation_date(__import__("datetime").datetime(2026, 11, 25, tzinfo=__import__("datetime").UTC))
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSerif.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSerif-Bold.ttf"))
    pdf.add_font("DejaVu", "I", str(FONT_DIR / "DejaVuSerif-Italic.ttf"))
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    for kind, text in items:
        text = _plain(text)
        pdf.set_x(pdf.l_margin)
        if kind == "page":
            pdf.add_page()
        elif kind == "note":
            pdf.set_font("DejaVu", "I", 8.5)
            pdf.multi_cell(0, 4.5, text)
            pdf.ln(3)
        elif kind == "title":
            pdf.set_font("DejaVu", "B", 14)
            pdf.multi_cell(0, 7, text, align="C")
            pdf.ln(3)
        elif kind in ("h2", "h3"):
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 11.5 if kind == "h2" else 10.5)
            pdf.multi_cell(0, 6, text)
            pdf.ln(1)
        elif kind == "para":
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 5, text, align="J")
            pdf.ln(2)
        elif kind == "bullet":
            pdf.set_font("DejaVu", "", 10)
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(0, 5, "- " + text)
            pdf.ln(1)
        elif kind == "table":
            rows = [[c.strip() for c in r.strip("|").split("|")] for r in text.splitlines()]
            pdf.set_font("DejaVu", "", 9)
            with pdf.table(text_align="LEFT", line_height=5) as table:
                for row in rows:
                    r = table.row()
                    for cell in row:
                        r.cell(_plain(cell))
            pdf.ln(2)
    pdf.output(str(out))


def render_docx(items: list[tuple[str, str]], out: Path, title: str) -> None:
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "CTN sample corpus (unofficial)"
    import datetime as _dt

    document.core_properties.created = _dt.datetime(2026, 11, 25)
    document.core_properties.modified = _dt.datetime(2026, 11, 25)
    for kind, text in items:
        text = _plain(text)
        if kind == "page":
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif kind == "note":
            document.add_paragraph().add_run(text).italic = True
        elif kind == "title":
            document.add_heading(text, level=1)
        elif kind == "h2":
            document.add_heading(text, level=2)
        elif kind == "h3":
            document.add_heading(text, level=3)
        elif kind == "para":
            document.add_paragraph(text)
        elif kind == "bullet":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "table":
            rows = [[c.strip() for c in r.strip("|").split("|")] for r in text.splitlines()]
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            table.style = "Table Grid"
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = _plain(cell)
    document.save(str(out))


def main() -> int:
    catalog = yaml.safe_load((HERE / "catalog.yaml").read_text(encoding="utf-8"))
    done = 0
    for entry in catalog["documents"]:
        if not entry.get("source"):
            continue
        source = HERE / entry["source"]
        out = HERE / entry["file"]
        out.parent.mkdir(parents=True, exist_ok=True)
        items = parse(source.read_text(encoding="utf-8"))
        if out.suffix == ".pdf":
            render_pdf(items, out, entry["title"])
        elif out.suffix == ".docx":
            render_docx(items, out, entry["title"])
        else:
            print(f"unknown target {out}", file=sys.stderr)
            return 1
        done += 1
        print(f"rendered {out.relative_to(HERE)}")
    print(f"{done} files rendered")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
