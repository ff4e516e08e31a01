"""One loader per format, each turning a file into blocks (headings, paragraphs, list items, tables).

Loaders keep structure (headings, pages, tables) because the splitter and the citations depend on it,
and they raise ``LoadError`` with a reason a user can act on instead of letting library errors escape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from ingest.blocks import Block, LoadedDocument, LoadError
from ingest.html import load_html
from ingest.pdf import load_pdf
from ingest.tables import table_text

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".text", ".p7m"}

_WS = re.compile(r"[ \t\u00a0]+")
# Lines that open a unit of an Italian act or a document part, whatever the format.
STRUCTURE_HEADING = re.compile(
    r"^(?:(?:Art\.|Articolo|Article)\s*\d+[\w-]*(?:\s*[-–.:]\s*.*)?|Capo\s+[IVXLC\d]+.*|Titolo\s+[IVXLC\d]+.*"
    r"|Allegato\s+\w+.*|Annex\s+\w+.*|PREMESSE|Premesse|DECRETA|Decreta|DISPONE|Dispone|ADOTTA|Adotta)$"
)


def _clean(text: str) -> str:
    text = text.replace("\u00ad", "").replace("\r", "")
    return _WS.sub(" ", text).strip()


def is_heading_line(line: str, next_line: str | None = None) -> bool:
    if STRUCTURE_HEADING.match(line):
        return True
    if len(line) > 90 or len(line) < 3 or line[-1] in ".,;:" or re.match(r"^(?:[-•*]|\d+[.)]|[a-z]\))\s", line):
        return False
    letters = [c for c in line if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8 and len(letters) > 3:
        return True  # an all-caps line
    return False


def _ends_with_abbreviation(line: str) -> bool:
    from rag.sentences import _is_abbreviation

    return _is_abbreviation(line, len(line) - 1) and not line.rstrip(".")[-1:].isdigit()


def _lines_to_blocks(lines: list[str], page: int | None) -> list[Block]:
    """Rebuild paragraphs from wrapped lines (PDF, text): a line ending a sentence or a blank line
    closes a paragraph; list items and structure headings open a new one."""
    blocks: list[Block] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            text = " ".join(buf)
            kind = "list_item" if re.match(r"^(?:[-•*–]|\d+[.)]|[a-z]\))\s", text) else "paragraph"
            blocks.append(Block(kind, text, page=page))
            buf.clear()

    for i, raw in enumerate(lines):
        line = _clean(raw)
        if not line:
            flush()
            continue
        nxt = next((_clean(x) for x in lines[i + 1 :] if _clean(x)), None)
        if not buf and is_heading_line(line, nxt):
            blocks.append(Block("heading", line, level=2, page=page))
            continue
        if buf and re.match(r"^(?:[-•*–]|\d+\.|[a-z]\))\s", line):
            flush()
        if buf and buf[-1].endswith("-") and not buf[-1].endswith(" -"):
            buf[-1] = buf[-1][:-1] + line  # a hyphenated word broken across lines
        else:
            buf.append(line)
        if (re.search(r"[.:;!?]\s*$", line) and (nxt is None or not nxt[:1].islower())
                and not (line.endswith(".") and _ends_with_abbreviation(line))):
            flush()
    flush()
    return blocks


def load_docx(path: Path) -> LoadedDocument:
    import zipfile

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"corrupt or unreadable DOCX: {exc}") from exc
    except Exception as exc:
        raise LoadError(f"corrupt or unreadable DOCX: {type(exc).__name__}: {exc}") from exc
    blocks: list[Block] = []
    page = 1
    title = (document.core_properties.title or "").strip() or None
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            breaks = len(child.xpath(".//w:br[@w:type='page']"))
            text = _clean(para.text)
            style = (para.style.name if para.style is not None else "") or ""
            if text:
                if style.startswith("Heading") or style == "Title":
                    level = 1 if style == "Title" else int(re.sub(r"\D", "", style) or 2)
                    blocks.append(Block("heading", text, level=level, page=page))
                    if level == 1 and title is None:
                        title = text
                elif "List" in style:
                    blocks.append(Block("list_item", text, page=page))
                elif STRUCTURE_HEADING.match(text):
                    blocks.append(Block("heading", text, level=2, page=page))
                else:
                    blocks.append(Block("paragraph", text, page=page))
            page += breaks
        elif tag == "tbl":
            table = Table(child, document)
            text = table_text([[c.text for c in row.cells] for row in table.rows])
            if text:
                blocks.append(Block("table", text, page=page))
    return LoadedDocument(blocks=blocks, title=title, pages=page)


def load_markdown_text(text: str) -> LoadedDocument:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    blocks: list[Block] = []
    in_list = 0
    i = 0
    table_rows: list[list[str]] | None = None
    row: list[str] = []
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            content = _clean(tokens[i + 1].content)
            content = re.sub(r"[*_`]{1,3}", "", content)
            if content:
                blocks.append(Block("heading", content, level=int(tok.tag[1])))
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            in_list += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            in_list -= 1
        elif tok.type == "table_open":
            table_rows = []
        elif tok.type == "table_close":
            if table_rows:
                blocks.append(Block("table", table_text(table_rows)))
            table_rows = None
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close" and table_rows is not None:
            table_rows.append(row)
        elif tok.type == "inline" and table_rows is not None:
            row.append(_clean(_strip_md_inline(tok.content)))
        elif tok.type == "inline":
            content = _clean(_strip_md_inline(tok.content.replace("\n", " ")))
            if content:
                prefix = ""
                if in_list and tokens[i - 2].type == "list_item_open":
                    # as shown: "3. " for an ordered item, "- " for a bullet
                    prefix = f"{tokens[i - 2].info}. " if tokens[i - 2].info else "- "
                blocks.append(Block("list_item" if in_list else "paragraph", prefix + content))
        elif tok.type in ("fence", "code_block"):
            content = tok.content.strip()
            if content:
                blocks.append(Block("paragraph", content))
        i += 1
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    return LoadedDocument(blocks=blocks, title=title)


def _strip_md_inline(text: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"<!--.*?-->", "", text)
    return text


def decode_text(raw: bytes) -> str:
    """Decode bytes whose encoding is unknown: a BOM or valid UTF-8 first, then detection."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Legacy encodings of Italian and English text; left free, detection picks e.g. cp1250 for short
    # Italian notes and turns "è" into "č".
    best = from_bytes(raw, cp_isolation=["cp1252", "latin_1", "iso8859_15", "mac_roman", "utf_16", "utf_8"]).best()
    if best is None:
        raise LoadError("binary or undecodable text file")
    return str(best)


def load_markdown(path: Path) -> LoadedDocument:
    return load_markdown_text(decode_text(path.read_bytes()))


def load_text(path: Path) -> LoadedDocument:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary file, not text")
    text = decode_text(raw)
    lines = text.splitlines()
    blocks: list[Block] = []
    # Setext-style underlines (=== or ---) mark the line above as a heading.
    cleaned: list[str] = []
    headings: set[int] = set()
    for line in lines:
        if re.fullmatch(r"\s*(=+|-{3,})\s*", line) and cleaned and cleaned[-1].strip():
            headings.add(len(cleaned) - 1)
            continue
        cleaned.append(line)
    chunk: list[str] = []
    for idx, line in enumerate(cleaned):
        if idx in headings:
            blocks.extend(_lines_to_blocks(chunk, page=None))
            chunk = []
            blocks.append(Block("heading", _clean(line), level=2))
        else:
            chunk.append(line)
    blocks.extend(_lines_to_blocks(chunk, page=None))
    title = blocks[0].text if blocks and len(blocks[0].text) < 200 else None
    if blocks and title and blocks[0].kind == "heading":
        blocks[0].level = 1
    return LoadedDocument(blocks=blocks, title=title)


LOADERS: dict[str, Callable[[Path], LoadedDocument]] = {
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
}


def sniff_format(path: Path, head: bytes) -> str:
    """The format by content, so a renamed or mislabelled file is caught before a library chokes on it."""
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF"):
        return ".pdf"
    if head.startswith(b"PK\x03\x04"):
        return ".docx" if suffix == ".docx" else "zip"
    if suffix == ".pdf":
        return "not-pdf"
    if suffix == ".docx":
        return "not-docx"
    return suffix


def load_file(path: Path, max_mb: float | None = None,
              on_ocr_page: Callable[[int, int], None] | None = None) -> LoadedDocument:
    """Load any supported file; raise ``LoadError`` with the reason when it cannot be ingested.
    ``on_ocr_page(done, total)`` follows the OCR of a PDF's scanned pages."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported format '{suffix or path.name}'")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise LoadError(f"unreadable file: {exc.strerror or exc}") from exc
    if size == 0:
        raise LoadError("empty file")
    if max_mb is not None and size > max_mb * 1024 * 1024:
        raise LoadError(f"file of {size / 1048576:.1f} MB is over the {max_mb:g} MB limit (CTN_MAX_FILE_MB)")
    sniffed = sniff_format(path, head)
    if sniffed == "not-pdf":
        raise LoadError("corrupt PDF: the file does not start with a PDF header")
    if sniffed in ("not-docx", "zip"):
        raise LoadError("corrupt DOCX: the file is not a Word (zip) document")
    if suffix == ".p7m":
        loaded = _load_signed(path, max_mb, on_ocr_page)
    elif suffix == ".pdf":
        loaded = load_pdf(path, on_ocr_page)
    else:
        loaded = LOADERS[suffix](path)
    if not any(b.text.strip() for b in loaded.blocks):
        raise LoadError("no extractable text (empty, or a scanned document without a text layer)")
    return loaded


def _load_signed(path: Path, max_mb: float | None, on_ocr_page: Callable[[int, int], None] | None) -> LoadedDocument:
    """A CAdES envelope: the document inside, loaded by its own format, with who signed it and when."""
    import tempfile

    from ingest.envelope import open_envelope

    inner = Path(path.stem)  # "decreto.pdf.p7m" -> "decreto.pdf"
    while inner.suffix.lower() == ".p7m":
        inner = Path(inner.stem)
    if inner.suffix.lower() not in SUPPORTED_SUFFIXES - {".p7m"}:
        raise LoadError(f"signed envelope of an unsupported format '{inner.suffix or inner.name}' "
                        "(name it like decreto.pdf.p7m)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"unreadable file: {exc.strerror or exc}") from exc
    opened = open_envelope(raw)
    with tempfile.TemporaryDirectory(prefix="ctn-p7m-") as tmp:
        target = Path(tmp) / inner.name
        target.write_bytes(opened.content)
        loaded = load_file(target, max_mb, on_ocr_page)
    if opened.signers:
        loaded.extra["signed_by"] = "; ".join(dict.fromkeys(opened.signers))
    if opened.signed_at:
        loaded.extra["signed_at"] = "; ".join(dict.fromkeys(opened.signed_at))
    return loaded
