"""Render the realistic corpus's text sources (``sources/<id>.md``) to the PDF and DOCX files it evaluates on.

Usage: python evals/realistic/render.py [--root evals/realistic2] [ID ...]
(fpdf2, python-docx, pypdfium2; DejaVu fonts from Debian). ``--root``: another corpus written to FORMAT.md.

The source format is in FORMAT.md. Pages are laid out as a real act's are: a running header and footer on
every page, page numbers "Pag. N di M", text flowing across page breaks wherever they fall (so a sentence or a
table can be cut by a page end), centred heading blocks, right-aligned signatures, captioned tables. A source
with ``scan: true`` becomes an image-only PDF, the way a signed paper act is published after scanning.
The rendered files are committed, so the evaluation does not depend on this script's fonts.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FIXED_DATE = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)


@dataclass
class Item:
    kind: str  # h1 h2 h3 para letter bullet center right table page
    text: str = ""
    lines: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""


@dataclass
class Source:
    meta: dict
    items: list[Item]


CAPTION = re.compile(r"^(?:Tabella|Table|Tab\.)\s*[\d.:\- ]*", re.IGNORECASE)


def parse(text: str) -> Source:
    if not text.startswith("---"):
        raise ValueError("a source starts with a front matter between --- lines")
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front) or {}
    items: list[Item] = []
    para: list[str] = []
    table: list[str] = []
    block: Item | None = None

    def flush() -> None:
        if para:
            joined = " ".join(p.strip() for p in para)
            kind = "letter" if re.match(r"^[a-z]{1,2}\)\s", joined) else "para"
            if len(para) == 1 and CAPTION.match(joined) and not joined.endswith("."):
                items.append(Item("caption", joined))
            else:
                items.append(Item(kind, joined))
            para.clear()
        if table:
            rows = [[c.strip() for c in r.strip().strip("|").split("|")] for r in table
                    if not re.fullmatch(r"\|?[\s:|-]+\|?", r.strip())]
            caption = ""
            if items and items[-1].kind == "caption":
                caption = re.sub(r"^(?:Tabella|Table)\s*:\s*", "", items.pop().text)
            items.append(Item("table", rows=rows, caption=caption))
            table.clear()

    for raw in body.splitlines():
        line = raw.rstrip()
        if block is not None:
            if line.strip() == ":::":
                items.append(block)
                block = None
            else:
                block.lines.append(line.strip())
            continue
        stripped = line.strip()
        if stripped.startswith("::: "):
            flush()
            block = Item(stripped[4:].strip() or "center")
        elif stripped == "<!-- page -->":
            flush()
            items.append(Item("page"))
        elif not stripped:
            flush()
        elif stripped.startswith("|"):
            if para:
                # a caption line right before the table
                if len(para) == 1 and CAPTION.match(para[0].strip()):
                    items.append(Item("caption", para[0].strip()))
                    para.clear()
                else:
                    flush()
            table.append(stripped)
        elif re.match(r"^#{1,3} ", stripped):
            flush()
            level = len(stripped.split(" ", 1)[0])
            items.append(Item(f"h{level}", stripped[level + 1:].strip()))
        elif re.match(r"^[-*] ", stripped):
            flush()
            items.append(Item("bullet", stripped[2:].strip()))
        else:
            if table:
                flush()
            para.append(stripped)
    flush()
    if block is not None:
        items.append(block)
    return Source(meta, items)


def _plain(text: str) -> str:
    return re.sub(r"(\*\*|__|`)", "", text)


def render_pdf(src: Source, out: Path) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    meta = src.meta
    header_text = str(meta.get("header") or "")
    footer_text = str(meta.get("footer") or "")
    number_format = str(meta.get("page_number") or "").replace("{pages}", "{nb}")

    class Doc(FPDF):
        def header(self) -> None:
            if header_text and (self.page_no() > 1 or meta.get("header_on_first_page")):
                self.set_font("Serif", "I", 8)
                self.set_y(9)
                self.cell(0, 4, header_text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                self.line(self.l_margin, 14, self.w - self.r_margin, 14)
                self.set_y(20)

        def footer(self) -> None:
            self.set_y(-16)
            self.set_font("Serif", "", 7.5)
            if footer_text:
                self.cell(0, 4, footer_text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if number_format:
                self.cell(0, 4, number_format.replace("{page}", str(self.page_no())), align="R")

    pdf = Doc(format="A4")
    pdf.set_title(str(meta.get("title", "")))
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_font("Serif", "", str(FONT_DIR / "DejaVuSerif.ttf"))
    pdf.add_font("Serif", "B", str(FONT_DIR / "DejaVuSerif-Bold.ttf"))
    pdf.add_font("Serif", "I", str(FONT_DIR / "DejaVuSerif-Italic.ttf"))
    pdf.set_margins(24, 20, 24)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    for it in src.items:
        pdf.set_x(pdf.l_margin)
        if it.kind == "page":
            pdf.add_page()
        elif it.kind == "h1":
            pdf.ln(2)
            pdf.set_font("Serif", "B", 12.5)
            pdf.multi_cell(0, 6.5, _plain(it.text), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
        elif it.kind in ("h2", "h3"):
            pdf.ln(1.5)
            pdf.set_font("Serif", "B", 10.5 if it.kind == "h2" else 10)
            pdf.multi_cell(0, 5.5, _plain(it.text), align="C" if it.kind == "h2" else "L",
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        elif it.kind == "para":
            pdf.set_font("Serif", "", 10)
            pdf.multi_cell(0, 5, _plain(it.text), align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.8)
        elif it.kind in ("letter", "bullet"):
            pdf.set_font("Serif", "", 10)
            pdf.set_x(pdf.l_margin + 7)
            text = _plain(it.text) if it.kind == "letter" else "- " + _plain(it.text)
            pdf.multi_cell(0, 5, text, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        elif it.kind in ("center", "right"):
            bold = it.kind == "center" and any(line.isupper() for line in it.lines if line)
            pdf.set_font("Serif", "B" if bold else "", 10)
            pdf.ln(1)
            for line in it.lines:
                if not line:
                    pdf.ln(3)
                    continue
                pdf.multi_cell(0, 5, _plain(line), align="C" if it.kind == "center" else "R",
                               new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
        elif it.kind == "caption":  # a caption line not followed by a table
            pdf.set_font("Serif", "B", 9.5)
            pdf.multi_cell(0, 5, _plain(it.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        elif it.kind == "table":
            if it.caption:
                pdf.set_font("Serif", "B", 9.5)
                pdf.multi_cell(0, 5, _plain(it.caption), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(1)
            pdf.set_font("Serif", "", 8.5)
            width = max(len(r) for r in it.rows)
            with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True) as table:
                for row in it.rows:
                    r = table.row()
                    for cell in row + [""] * (width - len(row)):
                        r.cell(_plain(cell))
            pdf.ln(2.5)
    buffer = io.BytesIO()
    pdf.output(buffer)
    data = buffer.getvalue()
    if meta.get("scan"):
        data = _as_scan(data, str(meta.get("title", "")))
    out.write_bytes(data)


def _as_scan(pdf_bytes: bytes, title: str) -> bytes:
    """The PDF as a scanner makes it: each page a grey, slightly rotated, noisy raster, no text layer."""
    import random

    import pypdfium2 as pdfium
    from fpdf import FPDF
    from PIL import Image, ImageFilter

    rng = random.Random(title)
    doc = pdfium.PdfDocument(pdf_bytes)
    out = FPDF(format="A4", unit="mm")
    out.set_creation_date(FIXED_DATE)
    for i in range(len(doc)):
        image = doc[i].render(scale=200 / 72).to_pil().convert("L")
        image = image.rotate(rng.uniform(-0.6, 0.6), resample=Image.BICUBIC, expand=False, fillcolor=255)
        pixels = image.load()
        w, h = image.size
        for _ in range(w * h // 900):  # speckle
            x, y = rng.randrange(w), rng.randrange(h)
            pixels[x, y] = rng.choice((170, 200, 230))
        image = image.filter(ImageFilter.GaussianBlur(0.5))
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=True)
        out.add_page()
        out.image(buf, x=0, y=0, w=210, h=297)
    return bytes(out.output())


def _add_page_number(paragraph, fmt: str) -> None:  # noqa: ANN001 - a python-docx Paragraph
    """A footer paragraph with Word fields for the page number and the page count."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def field_run(instr: str) -> None:
        run = paragraph.add_run()
        for kind, text in (("begin", None), (None, instr), ("separate", None), (None, "1"), ("end", None)):
            if kind:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), kind)
                run._r.append(el)
            elif text == instr:
                el = OxmlElement("w:instrText")
                el.set(qn("xml:space"), "preserve")
                el.text = instr
                run._r.append(el)
            else:
                el = OxmlElement("w:t")
                el.text = text
                run._r.append(el)

    for piece in re.split(r"(\{page\}|\{pages\})", fmt):
        if piece == "{page}":
            field_run("PAGE")
        elif piece == "{pages}":
            field_run("NUMPAGES")
        elif piece:
            paragraph.add_run(piece)


def render_docx(src: Source, out: Path) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Pt

    meta = src.meta
    document = docx.Document()
    document.core_properties.title = str(meta.get("title", ""))
    document.core_properties.created = FIXED_DATE.replace(tzinfo=None)
    document.core_properties.modified = FIXED_DATE.replace(tzinfo=None)
    section = document.sections[0]
    if meta.get("header"):
        section.header.paragraphs[0].text = str(meta["header"])
        section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    if meta.get("footer"):
        footer.text = str(meta["footer"])
    if meta.get("page_number"):
        para = section.footer.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _add_page_number(para, str(meta["page_number"]))
    for it in src.items:
        if it.kind == "page":
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif it.kind in ("h1", "h2", "h3"):
            h = document.add_heading(_plain(it.text), level=int(it.kind[1]))
            if it.kind == "h1":
                h.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif it.kind == "para":
            document.add_paragraph(_plain(it.text)).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        elif it.kind == "letter":
            p = document.add_paragraph(_plain(it.text))
            p.paragraph_format.left_indent = Pt(18)
        elif it.kind == "bullet":
            document.add_paragraph(_plain(it.text), style="List Bullet")
        elif it.kind in ("center", "right"):
            for line in it.lines:
                p = document.add_paragraph()
                run = p.add_run(_plain(line))
                run.bold = it.kind == "center" and line.isupper()
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER if it.kind == "center" else WD_ALIGN_PARAGRAPH.RIGHT
        elif it.kind == "caption":
            document.add_paragraph().add_run(_plain(it.text)).bold = True
        elif it.kind == "table":
            if it.caption:
                document.add_paragraph().add_run(_plain(it.caption)).bold = True
            width = max(len(r) for r in it.rows)
            table = document.add_table(rows=len(it.rows), cols=width)
            table.style = "Table Grid"
            for i, row in enumerate(it.rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = _plain(cell)
    document.save(str(out))


def main(argv: list[str]) -> int:
    root = HERE
    if argv[:1] == ["--root"]:
        root, argv = Path(argv[1]).resolve(), argv[2:]
    done = 0
    for source in sorted((root / "sources").glob("*.md")):
        if argv and source.stem not in argv:
            continue
        src = parse(source.read_text(encoding="utf-8"))
        fmt = str(src.meta.get("format", "pdf"))
        out = root / "corpus" / fmt / f"{source.stem}.{fmt}"
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "pdf":
            render_pdf(src, out)
        elif fmt == "docx":
            render_docx(src, out)
        else:
            print(f"{source.name}: unknown format {fmt!r}", file=sys.stderr)
            return 1
        done += 1
        print(f"rendered {out.relative_to(root)}")
    print(f"{done} files rendered")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
