"""The splitter follows the structure (articles, commi, FAQ pairs), keeps pages, never cuts a sentence
and never hands the model more than it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.embeddings import Embedder
from rag.models import Chunk
from rag.sentences import sentence_spans
from tests.conftest import ServiceFactory
from tests.fixtures import make_files as mf

ALL_SAMPLES = [
    "avviso-prova.pdf",
    "decreto-prova.docx",
    "faq-zefiro.html",
    "faq-borealis.md",
    "nota-ermellino.txt",
    "gondwana-notes.txt",
]


@pytest.fixture
def ingestor(make_service: ServiceFactory, tmp_path: Path) -> Ingestor:
    return make_service(tmp_path).ingestor


def chunks_of(ingestor: Ingestor, path: Path, entry: dict | None = None) -> tuple[str, list[Chunk]]:
    """The document text and the chunks the pipeline would store for a file (nothing is written)."""
    from ingest.loaders import load_file

    _record, chunks = ingestor.prepare(path, path.parent, entry, path.stem, "0" * 64)
    text = load_file(path).layout()[0]
    return text, chunks


def the_chunk_with(chunks: list[Chunk], needle: str) -> Chunk:
    found = [c for c in chunks if needle in c.text]
    assert len(found) == 1, f"{needle!r} is in {len(found)} chunks"
    return found[0]


LONG_TITLE = "Assessment of the proposals " + " ".join(f"criterion{i}" for i in range(70))


def long_english_document(path: Path) -> Path:
    """Long paragraphs (several times the model's budget) and one endless sentence."""
    sentences = [
        f"Sentence number {i} of the assessment explains how the panel weighed the proposal of "
        f"partner {i} against the criteria of quality, impact and feasibility."
        for i in range(60)
    ]
    endless = (
        "The applicant shall describe "
        + ", ".join(f"the deliverable of work package {i}" for i in range(120))
        + "."
    )
    body = "\n\n".join([" ".join(sentences[:30]), endless, " ".join(sentences[30:])])
    path.write_text(f"Assessment of the proposals\n=====\n\n{body}\n", encoding="utf-8")
    return path


def test_commi_of_an_article_get_the_article_and_comma_as_section(
    ingestor: Ingestor, sample_dir: Path
) -> None:
    _text, chunks = chunks_of(ingestor, sample_dir / "avviso-prova.pdf")
    comma2 = the_chunk_with(chunks, mf.PDF_ART3_COMMA2)
    assert comma2.section == f"{mf.PDF_ART3} > comma 2"
    sections = [c.section for c in chunks]
    for n in (1, 2, 3):
        assert f"{mf.PDF_ART3} > comma {n}" in sections
    assert the_chunk_with(chunks, "17 novembre 2031").section == "Art. 4 - Termini di presentazione > comma 1"


def test_each_comma_is_its_own_chunk(ingestor: Ingestor, sample_dir: Path) -> None:
    _text, chunks = chunks_of(ingestor, sample_dir / "avviso-prova.pdf")
    comma2 = the_chunk_with(chunks, mf.PDF_ART3_COMMA2)
    assert comma2.text == "2. " + mf.PDF_ART3_COMMA2
    comma1 = the_chunk_with(chunks, "1. Possono presentare domanda")
    assert comma1.text.endswith("i costi e i tempi.")  # the comma's second paragraph stays with it


def test_pdf_chunks_carry_the_page_their_text_is_on(ingestor: Ingestor, sample_dir: Path) -> None:
    _text, chunks = chunks_of(ingestor, sample_dir / "avviso-prova.pdf")
    page1 = the_chunk_with(chunks, "41.700.000 euro")
    page3 = the_chunk_with(chunks, "17 novembre 2031")
    assert (page1.page, page1.page_end) == (1, 1)
    assert (page3.page, page3.page_end) == (3, 3)
    assert the_chunk_with(chunks, mf.PDF_ART3_COMMA2).page == 2
    assert [c.page for c in chunks] == sorted(c.page for c in chunks)
    assert all(c.page is not None and 1 <= c.page <= c.page_end <= 3 for c in chunks)


def test_docx_chunks_after_a_page_break_carry_page_two(ingestor: Ingestor, sample_dir: Path) -> None:
    _text, chunks = chunks_of(ingestor, sample_dir / "decreto-prova.docx")
    assert the_chunk_with(chunks, mf.DOCX_FACT_PAGE2).page == 2
    assert the_chunk_with(chunks, "Fabbrica Intelligente").page == 1


def test_docx_table_stays_whole_with_the_comma_that_introduces_it(
    ingestor: Ingestor, sample_dir: Path
) -> None:
    _text, chunks = chunks_of(ingestor, sample_dir / "decreto-prova.docx")
    chunk = the_chunk_with(chunks, "Cluster: Fabbrica Intelligente; Contributo: 12.500.000 euro")
    assert "Cluster: Agrifood Quercitrina; Contributo: 9.800.000 euro" in chunk.text
    # The article's heading has no text of its own: it opens the chunk of its first comma.
    assert chunk.text.startswith("Art. 1 - Approvazione della graduatoria\n\n1. È approvata la graduatoria")
    assert chunk.section == "Art. 1 - Approvazione della graduatoria > comma 1"


@pytest.mark.parametrize("name", ["avviso-prova.pdf", "decreto-prova.docx"])
def test_no_chunk_holds_only_headings(ingestor: Ingestor, sample_dir: Path, name: str) -> None:
    from ingest.loaders import load_file

    headings = {b.text for b in load_file(sample_dir / name).blocks if b.kind == "heading"}
    _text, chunks = chunks_of(ingestor, sample_dir / name)
    for chunk in chunks:
        assert not set(p.strip() for p in chunk.text.split("\n\n")) <= headings, chunk.text


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_chunk_text_is_exactly_the_document_text_between_its_offsets(
    ingestor: Ingestor, sample_dir: Path, name: str
) -> None:
    text, chunks = chunks_of(ingestor, sample_dir / name)
    assert chunks
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip()
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:], strict=False))  # in order, no overlap


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_chunks_of_every_format_start_and_end_on_sentence_boundaries(
    ingestor: Ingestor, sample_dir: Path, name: str
) -> None:
    text, chunks = chunks_of(ingestor, sample_dir / name)
    spans = sentence_spans(text)
    starts, ends = {a for a, _b in spans}, {b for _a, b in spans}
    for chunk in chunks:
        assert chunk.start in starts, f"chunk {chunk.index} starts mid-sentence: {chunk.text[:40]!r}"
        assert chunk.end in ends, f"chunk {chunk.index} ends mid-sentence: ...{chunk.text[-40:]!r}"


def test_every_sentence_of_the_document_is_in_some_chunk(ingestor: Ingestor, sample_dir: Path) -> None:
    text, chunks = chunks_of(ingestor, sample_dir / "avviso-prova.pdf")
    for a, b in sentence_spans(text):
        assert any(c.start <= a and b <= c.end for c in chunks), f"lost: {text[a:b]!r}"


def test_no_embed_text_exceeds_what_the_model_reads(
    ingestor: Ingestor, embedder: Embedder, sample_dir: Path, tmp_path: Path
) -> None:
    long_doc = long_english_document(tmp_path / "assessment.txt")
    paths = [sample_dir / name for name in ALL_SAMPLES] + [long_doc]
    budget = min(ingestor.settings.chunk_max_tokens, embedder.max_tokens)
    for path in paths:
        _text, chunks = chunks_of(ingestor, path)
        for chunk in chunks:
            assert embedder.count_tokens(chunk.embed_text) <= embedder.max_tokens, (path.name, chunk.index)
            assert embedder.count_tokens(chunk.text) <= budget, (path.name, chunk.index)
    _text, long_chunks = chunks_of(ingestor, long_doc)
    assert len(long_chunks) >= 6  # the long paragraphs really were split


def test_long_paragraphs_are_cut_only_at_the_end_of_a_sentence(ingestor: Ingestor, tmp_path: Path) -> None:
    text, chunks = chunks_of(ingestor, long_english_document(tmp_path / "assessment.txt"))
    sentence_ends = {b for _a, b in sentence_spans(text)}
    sentence_starts = {a for a, _b in sentence_spans(text)}
    normal = [c for c in chunks if "work package" not in c.text]  # the endless sentence must be cut
    assert len(normal) >= 4
    for chunk in normal:
        assert chunk.end in sentence_ends, f"chunk {chunk.index} ends mid-sentence: ...{chunk.text[-40:]!r}"
        assert chunk.start in sentence_starts, f"chunk {chunk.index} starts mid-sentence: {chunk.text[:40]!r}"
        assert chunk.text.endswith(".")


def test_over_long_sentence_is_cut_at_clause_marks(ingestor: Ingestor, tmp_path: Path) -> None:
    """The splitter's contract: a sentence longer than the model reads is cut at clause boundaries
    (here: after a comma), not in the middle of a phrase such as "the deliverable of | work package 24"."""
    _text, chunks = chunks_of(ingestor, long_english_document(tmp_path / "assessment.txt"))
    pieces = [c for c in chunks if "work package" in c.text]
    assert len(pieces) >= 2
    assert sum(p.text.count("work package") for p in pieces) == 120  # nothing lost
    for piece in pieces[:-1]:
        assert piece.text.endswith(","), f"cut inside a clause: ...{piece.text[-40:]!r}"


@pytest.fixture
def italian_faq(tmp_path: Path) -> Path:
    path = tmp_path / "faq-it.md"
    path.write_text(
        """# Domande frequenti sul bando Girasole

Sintesi non ufficiale redatta per i test del progetto.

## Requisiti

### D: Chi può presentare domanda per il bando Girasole?

Possono presentare domanda le imprese con sede operativa in Italia.

Sono ammessi anche gli organismi di ricerca, purché associati a un'impresa.

### D: Qual è il costo minimo di un progetto Girasole?

Il costo minimo è di 2,4 milioni di euro.

- le spese generali sono riconosciute in misura forfettaria;
- le spese di personale sono rendicontate a costi standard.

### D: Si può modificare la domanda dopo l'invio?

No, la domanda non è modificabile dopo l'invio.
""",
        encoding="utf-8",
    )
    return path


def test_faq_question_and_its_whole_answer_stay_in_one_chunk(ingestor: Ingestor, italian_faq: Path) -> None:
    _text, chunks = chunks_of(ingestor, italian_faq, {"doc_type": "faq", "language": "it"})
    first = the_chunk_with(chunks, "Chi può presentare domanda per il bando Girasole?")
    assert "imprese con sede operativa in Italia" in first.text
    assert "purché associati a un'impresa" in first.text
    second = the_chunk_with(chunks, "Qual è il costo minimo")
    assert "2,4 milioni di euro" in second.text and "costi standard" in second.text
    assert "Chi può presentare" not in second.text  # one pair per chunk
    third = the_chunk_with(chunks, "Si può modificare la domanda")
    assert "non è modificabile" in third.text
    assert second.section == "Requisiti > Q: Qual è il costo minimo di un progetto Girasole?"


def test_faq_questions_written_as_d_paragraphs_keep_their_answers(
    ingestor: Ingestor, sample_dir: Path
) -> None:
    _text, chunks = chunks_of(ingestor, sample_dir / "faq-borealis.md")
    close = the_chunk_with(chunks, "D: When does the Borealis call close?")
    assert "30 June 2029 at noon" in close.text
    change = the_chunk_with(chunks, "D: Can a Borealis proposal be changed")
    assert "cannot be changed once it has been sent" in change.text
    assert "30 June 2029" not in change.text
    assert change.section == "Deadlines > Q: Can a Borealis proposal be changed after it is sent?"


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_title_and_section_are_repeated_in_embed_text(
    ingestor: Ingestor, sample_dir: Path, name: str
) -> None:
    record, chunks = ingestor.prepare(sample_dir / name, sample_dir, None, Path(name).stem, "0" * 64)
    assert record.title
    for chunk in chunks:
        header = record.title if not chunk.section else f"{record.title} > {chunk.section}"
        assert chunk.embed_text == f"{header}\n{chunk.text}"


def test_over_long_title_is_trimmed_in_embed_text_but_the_body_never_is(
    ingestor: Ingestor, embedder: Embedder, tmp_path: Path
) -> None:
    _text, chunks = chunks_of(
        ingestor, long_english_document(tmp_path / "assessment.txt"), {"title": LONG_TITLE}
    )
    assert embedder.count_tokens(LONG_TITLE) > 100
    trimmed = [c for c in chunks if not c.embed_text.startswith(LONG_TITLE)]
    assert trimmed, "a 140-token title cannot fit next to a full chunk"
    for chunk in chunks:
        assert chunk.embed_text.endswith("\n" + chunk.text) or chunk.embed_text == chunk.text
        assert embedder.count_tokens(chunk.embed_text) <= embedder.max_tokens
    assert any(c.embed_text.startswith("Assessment of the proposals criterion0") for c in trimmed)
