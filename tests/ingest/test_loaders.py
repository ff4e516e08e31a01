"""Loaders turn real files into blocks with their structure (headings, pages, tables) and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.blocks import LoadedDocument, LoadError
from ingest.loaders import load_file
from tests.fixtures import make_files as mf


def _block_with(doc: LoadedDocument, needle: str):
    found = [b for b in doc.blocks if needle in b.text]
    assert len(found) == 1, f"expected one block holding {needle!r}, got {[b.text for b in found]}"
    return found[0]


# --- PDF ------------------------------------------------------------------------------------------------


def test_pdf_loader_reports_every_page_and_the_page_of_each_block(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "avviso-prova.pdf")
    assert doc.pages == 3
    assert _block_with(doc, "41.700.000 euro").page == 1
    assert _block_with(doc, "Possono partecipare anche le università statali").page == 2
    assert _block_with(doc, "17 novembre 2031").page == 3


def test_pdf_loader_turns_bold_lines_into_headings_and_keeps_the_title(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "avviso-prova.pdf")
    headings = [(b.text, b.page) for b in doc.blocks if b.kind == "heading"]
    assert (mf.PDF_ART3, 2) in headings
    assert ("Art. 1 - Oggetto", 1) in headings and ("Art. 4 - Termini di presentazione", 3) in headings
    assert doc.title == mf.PDF_TITLE
    title_block = _block_with(doc, mf.PDF_TITLE)
    assert title_block.kind == "heading" and title_block.level == 1
    assert all(b.level > 1 for b in doc.blocks if b.kind == "heading" and b.text.startswith("Art."))


def test_pdf_loader_rejoins_wrapped_lines_into_one_paragraph(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "avviso-prova.pdf")
    comma = _block_with(doc, "Possono partecipare anche")
    assert comma.text == "2. " + mf.PDF_ART3_COMMA2  # wrapped over two lines in the PDF


def test_pdf_loader_drops_running_page_numbers(sample_dir: Path) -> None:
    text = load_file(sample_dir / "avviso-prova.pdf").layout()[0]
    assert "Pagina" not in text
    assert not any(b.text.strip().isdigit() for b in load_file(sample_dir / "avviso-prova.pdf").blocks)


# --- DOCX -----------------------------------------------------------------------------------------------


def test_docx_loader_reads_heading_styles_as_headings(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "decreto-prova.docx")
    headings = [(b.text, b.level) for b in doc.blocks if b.kind == "heading"]
    assert headings == [
        (mf.DOCX_TITLE, 1),
        ("Art. 1 - Approvazione della graduatoria", 2),
        ("Art. 2 - Entrata in vigore", 2),
    ]
    assert doc.title == mf.DOCX_TITLE


def test_docx_loader_keeps_each_table_row_with_its_column_headers(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "decreto-prova.docx")
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert len(tables) == 1
    (h1, h2), *rows = mf.DOCX_TABLE
    assert tables[0].text.splitlines() == [f"{h1}: {a}; {h2}: {b}" for a, b in rows]
    order = [b.text[:20] for b in doc.blocks]
    assert order.index(tables[0].text[:20]) == order.index("1. È approvata la gr") + 1  # where it stood


def test_docx_loader_counts_page_breaks(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "decreto-prova.docx")
    assert doc.pages == 2
    assert _block_with(doc, "graduatoria dei progetti riportata").page == 1
    assert _block_with(doc, mf.DOCX_FACT_PAGE2).page == 2


# --- HTML -----------------------------------------------------------------------------------------------


def test_html_loader_drops_navigation_scripts_header_and_footer(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "faq-zefiro.html")
    text = doc.layout()[0]
    for sentinel in mf.HTML_SENTINELS:
        assert sentinel not in text
    assert "Logo del Ministero" not in text and "Contatti" not in text and "font-family" not in text
    assert "Il bando Zefiro scade il 28 febbraio 2030 alle ore 12:00." in text


def test_html_loader_keeps_headings_paragraphs_and_list_items_of_the_article(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "faq-zefiro.html")
    assert doc.title == mf.HTML_TITLE  # the h1, not the <title> of the site
    assert [(b.kind, b.level) for b in doc.blocks if b.kind == "heading"] == [
        ("heading", 1),
        ("heading", 2),
        ("heading", 2),
    ]
    # Items keep their bullet, as the page shows them, so they read as the items of their lead-in.
    assert [b.text for b in doc.blocks if b.kind == "list_item"] == [
        "- imprese di ogni dimensione;",
        "- università e enti pubblici di ricerca.",
    ]


# --- Markdown and text ----------------------------------------------------------------------------------


def test_markdown_loader_reads_heading_levels_and_paragraphs(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "faq-borealis.md")
    assert doc.title == mf.MD_TITLE
    headings = [(b.text, b.level) for b in doc.blocks if b.kind == "heading"]
    assert headings[:3] == [
        (mf.MD_TITLE, 1),
        ("Eligibility", 2),
        ("Q: Who can apply to the Borealis programme?", 3),
    ]
    # Two source lines of one paragraph become one block.
    assert any(
        b.text == "Companies and research organisations with an operating site in Italy can apply. "
        "Each of them may join only one proposal."
        for b in doc.blocks
    )
    assert "###" not in doc.layout()[0] and "**" not in doc.layout()[0]


def test_cp1252_italian_text_decodes_with_its_accented_letters(sample_dir: Path) -> None:
    raw = (sample_dir / "nota-ermellino.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the file really is not UTF-8
    text = load_file(sample_dir / "nota-ermellino.txt").layout()[0]
    assert mf.TXT_IT_ACCENTED in text
    assert "500.000 €" in text
    assert "\ufffd" not in text and "Ã" not in text


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_short_italian_note_in_a_legacy_encoding_keeps_its_accents(tmp_path: Path, encoding: str) -> None:
    """A two-line note, as users save them from old Windows editors: è must not become č (cp1250)."""
    note = (
        "Nota per i partecipanti\n\nLa domanda è presentata dal capofila. Non è ammessa più di una "
        "proposta per soggetto.\n"
    )
    path = tmp_path / "nota.txt"
    path.write_bytes(note.encode(encoding))
    text = load_file(path).layout()[0]
    assert "La domanda è presentata dal capofila. Non è ammessa più di una proposta per soggetto." in text


def test_utf8_english_text_keeps_its_paragraphs(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "gondwana-notes.txt")
    assert doc.title == "Gondwana programme: notes of the review panel"
    paragraph = _block_with(doc, mf.TXT_EN_FACT)
    assert paragraph.text.startswith(mf.TXT_EN_FACT) and paragraph.text.endswith("capacity of the partners.")
    assert len(doc.blocks) == 4


def test_text_with_underlined_title_makes_it_a_heading(sample_dir: Path) -> None:
    doc = load_file(sample_dir / "nota-ermellino.txt")
    assert (
        doc.blocks[0].kind == "heading" and doc.blocks[0].text == "Nota informativa sul programma Ermellino"
    )
    assert "=====" not in doc.layout()[0]


# --- files that cannot be ingested ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("random_pdf", "does not start with a PDF header"),
        ("truncated_pdf", "corrupt or unreadable PDF"),
        ("encrypted_pdf", "encrypted PDF"),
        ("empty", "empty file"),
        ("unknown", "unsupported format '.xyz'"),
    ],
)
def test_unreadable_file_raises_load_error_with_its_reason(tmp_path: Path, kind: str, reason: str) -> None:
    path = mf.bad_files(tmp_path / "bad")[kind]
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert reason in str(info.value)


def test_file_over_the_size_limit_is_refused_before_loading(tmp_path: Path) -> None:
    big = mf.sized_text(tmp_path / "big.txt", 4096)
    with pytest.raises(LoadError, match="over the 0.001 MB limit"):
        load_file(big, max_mb=0.001)
    small = mf.small_text(tmp_path / "small.txt", "A tiny note.")
    assert load_file(small, max_mb=0.001).blocks


def test_docx_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "finto.docx"
    fake.write_text("not a word document", encoding="utf-8")
    with pytest.raises(LoadError, match="corrupt DOCX"):
        load_file(fake)


def test_pdf_without_text_layer_is_refused(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50)  # a drawing, like a scan: no text at all
    path = tmp_path / "scansione.pdf"
    pdf.output(str(path))
    with pytest.raises(LoadError, match="no extractable text"):
        load_file(path)


# --- documents as they really are ----------------------------------------------------------------------


def test_pdf_running_header_footer_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    doc = load_file(mf.act_with_furniture_pdf(tmp_path / "atto.pdf"))
    text = doc.layout()[0]
    assert doc.pages == 3
    assert mf.RUNNING_HEADER not in text and mf.RUNNING_FOOTER not in text
    assert "Pag." not in text


def test_pdf_sentence_cut_by_a_page_break_is_one_block_on_the_page_it_starts(tmp_path: Path) -> None:
    doc = load_file(mf.act_with_furniture_pdf(tmp_path / "atto.pdf"))
    block = _block_with(doc, "compresa tra un minimo di 5")
    assert mf.CUT_SENTENCE in block.text
    assert block.page == 1


def test_pdf_table_rows_keep_their_column_headers_and_page(tmp_path: Path) -> None:
    doc = load_file(mf.act_with_furniture_pdf(tmp_path / "atto.pdf"))
    table = next(b for b in doc.blocks if b.kind == "table")
    (h1, h2, h3), *rows = mf.PDF_TABLE
    assert table.text.splitlines() == [f"{h1}: {a}; {h2}: {b}; {h3}: {c}" for a, b, c in rows]
    assert table.page == 3


def test_html_faq_accordion_keeps_each_question_as_a_heading_before_its_answer(tmp_path: Path) -> None:
    doc = load_file(mf.accordion_html(tmp_path / "faq.html"))
    texts = [(b.kind, b.text) for b in doc.blocks]
    for question, answer in ((mf.ACCORDION_QUESTION, mf.ACCORDION_ANSWER), (mf.SUMMARY_QUESTION, mf.SUMMARY_ANSWER),
                             (mf.DT_QUESTION, mf.DT_ANSWER)):
        q = texts.index(("heading", question))
        assert texts[q + 1][1] == answer


def test_html_cookie_banner_share_bar_menus_and_footer_are_dropped(tmp_path: Path) -> None:
    text = load_file(mf.accordion_html(tmp_path / "faq.html")).layout()[0]
    for sentinel in (mf.COOKIE_SENTINEL, mf.SHARE_SENTINEL, "FOOTERSENTINEL", "Bandi", "Accetta"):
        assert sentinel not in text


def test_html_table_rows_keep_headers_under_the_caption(tmp_path: Path) -> None:
    doc = load_file(mf.accordion_html(tmp_path / "faq.html"))
    table = next(b for b in doc.blocks if b.kind == "table")
    (h1, h2), *rows = mf.HTML_TABLE
    assert table.text.splitlines() == ["Parametri dei progetti Zefiro"] + [f"{h1}: {a}; {h2}: {b}" for a, b in rows]


def test_markdown_table_rows_keep_their_column_headers(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("# Nota\n\n| Area | Cluster |\n|---|---|\n| Aerospazio | CTNA |\n| Energia | Cluster Energia |\n",
                    encoding="utf-8")
    table = next(b for b in load_file(path).blocks if b.kind == "table")
    assert table.text.splitlines() == ["Area: Aerospazio; Cluster: CTNA", "Area: Energia; Cluster: Cluster Energia"]
