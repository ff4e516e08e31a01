"""OCR for PDF pages without a text layer (scanned acts), with Tesseract's Italian and English models.

Only pages that carry no words but do carry an image are rendered (pypdfium2, at ``DPI``) and read by the
``tesseract`` program (Debian's ``tesseract-ocr``, ``tesseract-ocr-ita``, ``tesseract-ocr-eng``, installed
by ``make``). Its TSV output gives each word with its line and position, so OCR lines enter the same
paragraph rebuilding, running-header removal and page bookkeeping as the lines of a text PDF.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from functools import lru_cache

from ingest.blocks import LoadError

DPI = 300
LANGUAGES = ("ita", "eng")
TIMEOUT_S = 300  # per page


@lru_cache(maxsize=1)
def _languages() -> str:
    exe = shutil.which("tesseract")
    if exe is None:
        raise LoadError("this PDF has pages without a text layer (a scan); reading them needs Tesseract "
                        "(Debian packages tesseract-ocr, tesseract-ocr-ita), which is not installed: run make")
    out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=60).stdout.split()
    have = [lang for lang in LANGUAGES if lang in out]
    if not have:
        raise LoadError("Tesseract has neither the Italian nor the English model (tesseract-ocr-ita, -eng)")
    return "+".join(have)


def needs_ocr(page) -> bool:  # noqa: ANN001 - a pdfplumber Page
    """A page with no extractable characters that shows an image: a scan."""
    return not page.chars and bool(page.images)


def ocr_page(pdf_path: str, index: int, page_height: float) -> list[tuple[str, float]]:
    """The page's text lines (text, top in PDF points) as Tesseract reads them from a render at ``DPI``."""
    import pypdfium2

    langs = _languages()
    doc = pypdfium2.PdfDocument(pdf_path)
    try:
        image = doc[index].render(scale=DPI / 72).to_pil().convert("L")
    finally:
        doc.close()
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    try:
        done = subprocess.run(["tesseract", "stdin", "stdout", "-l", langs, "--psm", "3", "tsv"],
                              input=buf.getvalue(), capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise LoadError(f"OCR of page {index + 1} took over {TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise LoadError(f"OCR of page {index + 1} failed: {done.stderr.decode(errors='replace').strip()[:200]}")
    lines: dict[tuple[str, str, str], list[tuple[float, float, str]]] = {}
    rows = csv.DictReader(io.StringIO(done.stdout.decode("utf-8", errors="replace")), delimiter="\t",
                          quoting=csv.QUOTE_NONE)
    for row in rows:
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word or float(row.get("conf") or -1) < 0:
            continue
        key = (row["block_num"], row["par_num"], row["line_num"])
        lines.setdefault(key, []).append((float(row["left"]), float(row["top"]), word))
    scale = 72 / DPI
    out = []
    for words in lines.values():
        words.sort()
        top = min(w[1] for w in words) * scale
        out.append((" ".join(w[2] for w in words), min(top, page_height)))
    out.sort(key=lambda x: x[1])
    return out
