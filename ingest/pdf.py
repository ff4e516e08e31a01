"""PDF: text lines with their style and place on the page, tables as rows, page furniture removed.

Read with pdfplumber (MIT), which gives every word its position and font, and finds ruled tables:
- running headers and footers are the lines that recur in the top or bottom band of most pages (digits
  ignored, so "Pag. 2 di 5" and "Pag. 3 di 5" are one line), plus page-number lines; they are dropped, so a
  sentence cut by a page break is rejoined with nothing in between;
- paragraphs are rebuilt from wrapped lines across pages: a paragraph that a page break cut continues on
  the next page and keeps the page it started on;
- bold or larger lines are headings; tables become one line per row with their column headers
  (``ingest.tables``), at the place they stood;
- a page with no text layer but an image (a scan) is read by OCR (``ingest.ocr``); its lines go through
  the same steps, and the document records which pages came from OCR (``extra["ocr_pages"]``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest import ocr
from ingest.blocks import Block, LoadedDocument, LoadError
from ingest.tables import table_text

# Running page numbers ("Pagina 2", "Pag. 2 di 4", "Page 3 of 5", "- 2 -", "2/5") are not content.
PAGE_NUMBER = re.compile(r"^(?:(?:Pagina|Pag\.?|Page|p\.)\s*\d+(?:\s*(?:di|of|/)\s*\d+)?|-\s*\d+\s*-|\d{1,3}"
                         r"|\d{1,3}\s*/\s*\d{1,3})$", re.IGNORECASE)
BAND = 0.1  # share of the page height at the top and at the bottom where running headers and footers sit
LIST_START = re.compile(r"^(?:[-•*–]|\d+[.)]|[a-z]\))\s")


@dataclass
class Line:
    text: str
    top: float
    bold: bool
    size: float
    page: int
    band: str  # "top" | "bottom" | "" (the body)
    ocr: bool = False  # read by OCR from a scanned page (no font: never a heading by style)


@dataclass
class TableItem:
    rows: list[list[str | None]]
    top: float
    page: int


def _clean(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text.replace("\u00ad", "")).strip()


def _page_lines(page, number: int, boxes: list[tuple]) -> list[Line]:  # noqa: ANN001 - a pdfplumber Page
    """The page's words outside its tables, grouped into lines by their vertical position."""
    words = page.extract_words(extra_attrs=["fontname", "size"], use_text_flow=True, keep_blank_chars=False)

    def in_table(w: dict) -> bool:
        cx, cy = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
        return any(x0 - 1 <= cx <= x1 + 1 and t - 1 <= cy <= b + 1 for x0, t, x1, b in boxes)

    rows: list[list[dict]] = []
    for w in words:
        if in_table(w):
            continue
        if rows and abs(rows[-1][0]["top"] - w["top"]) <= 2.5:
            rows[-1].append(w)
        else:
            rows.append([w])
    height = float(page.height) or 1.0
    lines = []
    for ws in rows:
        ws.sort(key=lambda w: w["x0"])
        text = _clean(" ".join(w["text"] for w in ws))
        if not text:
            continue
        chars = sum(len(w["text"]) for w in ws) or 1
        bold = sum(len(w["text"]) for w in ws if re.search(r"bold|black|heavy", str(w["fontname"]), re.I)) / chars
        top = float(ws[0]["top"])
        lines.append(Line(text, top, bold > 0.6, max(float(w["size"]) for w in ws), number, _band(top, height)))
    return lines


def _furniture(lines: list[Line], pages: int) -> set[str]:
    """Keys of the lines that recur in the same band on most pages: running headers and footers."""
    if pages < 2:
        return set()
    seen: Counter[tuple[str, str]] = Counter()
    for key in {(ln.band, _key(ln.text), ln.page) for ln in lines if ln.band}:
        seen[key[:2]] += 1
    need = max(2, int(pages * 0.5 + 0.5))
    return {key for (_band, key), n in seen.items() if n >= need}


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", text.casefold())


def _ends_with_abbreviation(line: str) -> bool:
    from rag.sentences import _is_abbreviation

    return _is_abbreviation(line, len(line) - 1) and not line.rstrip(".")[-1:].isdigit()


def _band(top: float, height: float) -> str:
    return "top" if top < height * BAND else "bottom" if top > height * (1 - BAND) else ""


def load_pdf(path: Path, on_ocr_page: Callable[[int, int], None] | None = None) -> LoadedDocument:
    """``on_ocr_page(done, total)`` is told the progress of OCR, for files with scanned pages."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    lines: list[Line] = []
    tables: list[TableItem] = []
    ocr_pages: list[int] = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            title = str((pdf.metadata or {}).get("Title") or "").strip() or None
            pages = len(pdf.pages)
            scanned = [n for n, page in enumerate(pdf.pages, start=1) if ocr.needs_ocr(page)]
            for number, page in enumerate(pdf.pages, start=1):
                if number in scanned:
                    height = float(page.height) or 1.0
                    lines += [Line(text, top, False, 0.0, number, _band(top, height), ocr=True)
                              for text, top in ocr.ocr_page(str(path), number - 1, height)]
                    ocr_pages.append(number)
                    if on_ocr_page:
                        on_ocr_page(len(ocr_pages), len(scanned))
                    continue
                found = page.find_tables()
                boxes = [t.bbox for t in found]
                for t in found:
                    tables.append(TableItem(t.extract(), float(t.bbox[1]), number))
                lines += _page_lines(page, number, boxes)
    except LoadError:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise LoadError("encrypted PDF (a password is required)") from exc
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise LoadError("encrypted PDF (a password is required)") from exc
        raise LoadError(f"corrupt or unreadable PDF: {cause}") from exc
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, OSError, AssertionError) as exc:
        raise LoadError(f"corrupt or unreadable PDF: {exc}") from exc
    except Exception as exc:  # pdfminer raises many kinds on malformed files
        raise LoadError(f"corrupt or unreadable PDF: {type(exc).__name__}: {exc}") from exc
    furniture = _furniture(lines, pages)
    body = [ln for ln in lines if not (ln.band and (_key(ln.text) in furniture or PAGE_NUMBER.match(ln.text)))]
    blocks = _blocks(body, tables)
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    extra = {"ocr_pages": ",".join(map(str, ocr_pages))} if ocr_pages else {}
    return LoadedDocument(blocks=blocks, title=title, pages=pages, extra=extra)


def _blocks(lines: list[Line], tables: list[TableItem]) -> list[Block]:
    from ingest.loaders import is_heading_line

    sizes: Counter[float] = Counter()
    for ln in lines:
        if not ln.ocr:
            sizes[round(ln.size, 1)] += len(ln.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    heading_sizes = sorted({round(ln.size, 1) for ln in lines if (ln.bold or ln.size > body_size + 1)
                            and ln.size >= body_size and not ln.ocr}, reverse=True)
    items: list[tuple[int, float, object]] = [(ln.page, ln.top, ln) for ln in lines]
    items += [(t.page, t.top, t) for t in tables]
    items.sort(key=lambda x: (x[0], x[1]))
    blocks: list[Block] = []
    buf: list[str] = []
    buf_page: int | None = None

    def flush() -> None:
        nonlocal buf_page
        if buf:
            text = " ".join(buf)
            kind = "list_item" if LIST_START.match(text) else "paragraph"
            blocks.append(Block(kind, text, page=buf_page))
            buf.clear()
        buf_page = None

    previous: Line | None = None
    for n, (_page, _top, item) in enumerate(items):
        if isinstance(item, TableItem):
            flush()
            text = table_text(item.rows)
            if text:
                blocks.append(Block("table", text, page=item.page))
            previous = None
            continue
        ln = item
        assert isinstance(ln, Line)
        styled = (ln.bold or ln.size > body_size + 1) and ln.size >= body_size and len(ln.text) < 200 and not ln.ocr
        if styled:
            flush()
            level = min(heading_sizes.index(round(ln.size, 1)) + 1, 4) if round(ln.size, 1) in heading_sizes else 2
            prev = blocks[-1] if blocks else None
            if (prev is not None and prev.kind == "heading" and prev.level == level and previous is not None
                    and previous.bold == ln.bold and previous.size == ln.size and previous.page == ln.page):
                prev.text = f"{prev.text} {ln.text}"  # a heading wrapped over two lines
            else:
                blocks.append(Block("heading", ln.text, level=level, page=ln.page))
            previous = ln
            continue
        if not buf and is_heading_line(ln.text):
            blocks.append(Block("heading", ln.text, level=2, page=ln.page))  # "Art. 3", "DECRETA", all caps
            previous = ln
            continue
        if buf and LIST_START.match(ln.text):
            flush()
        if buf and buf[-1].endswith("-") and not buf[-1].endswith(" -"):
            buf[-1] = buf[-1][:-1] + ln.text  # a word hyphenated across lines
        else:
            if not buf:
                buf_page = ln.page
            buf.append(ln.text)
        nxt = next((x[2] for x in items[n + 1:] if isinstance(x[2], Line)), None)
        if (re.search(r"[.:;!?]\s*$", ln.text) and (nxt is None or not nxt.text[:1].islower())
                and not (ln.text.endswith(".") and _ends_with_abbreviation(ln.text))):
            flush()
        previous = ln
    flush()
    return blocks
