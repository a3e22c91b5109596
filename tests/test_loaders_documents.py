"""Document formats read for real (files made here with the formats' own libraries), then chunked.

Each test asserts what a user relies on: the passage's text and where it sits (page, slide,
heading path).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import ChunkPlan, chunk_sections
from ingest.loaders import LoadError, load_file


def chunks_of(path: Path, embedder, max_tokens: int = 200):
    sections = load_file(path)
    return chunk_sections(sections, path.name, embedder.tokens, ChunkPlan(max_tokens=max_tokens, overlap=0))


def the_chunk(chunks, needle: str):
    found = [c for c in chunks if needle in c.text]
    assert found, f"{needle!r} is in no chunk: {[c.text[:80] for c in chunks]}"
    return found[0]


def make_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def test_pdf_chunks_carry_their_page_number(tmp_path, embedder):
    path = make_pdf(
        tmp_path / "lease.pdf",
        [
            "Residential lease between the parties.",
            "The tenant shall give sixty days written notice before leaving.",
            "Pets are allowed with a deposit of 300 dollars.",
        ],
    )
    chunks = chunks_of(path, embedder)
    assert the_chunk(chunks, "sixty days written notice").page == 2
    assert the_chunk(chunks, "deposit of 300 dollars").page == 3
    assert the_chunk(chunks, "sixty days").citation() == "lease.pdf, page 2"


def test_a_hundred_page_pdf_keeps_every_page(tmp_path):
    path = make_pdf(
        tmp_path / "manual.pdf", [f"Section {n}: the setting number {n} controls valve {n}." for n in range(1, 101)]
    )
    sections = load_file(path)
    assert [s.meta["page"] for s in sections] == list(range(1, 101))
    assert "valve 73" in sections[72].text


def test_password_protected_pdf_says_so(tmp_path):
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", ["Salary figures for 2024."])
    writer = PdfWriter()
    writer.append(PdfReader(str(plain)))
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as handle:
        writer.write(handle)
    with pytest.raises(LoadError, match="password-protected PDF"):
        load_file(locked)


def test_pdf_with_no_text_and_nothing_to_ocr_says_so(tmp_path):
    from fpdf import FPDF

    from ingest.ocr import OcrOptions

    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.rect(20, 20, 100, 150, style="F")  # marks, no text, no image: nothing OCR could read
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(LoadError, match=r"no text layer, and no page holds an image or drawing to OCR"):
        load_file(path)
    with pytest.raises(
        LoadError, match=r"no text layer \(scanned\?\); OCR is not supported"
    ):  # --ocr off: as before OCR
        load_file(path, ocr=OcrOptions(mode="off"))


def test_corrupt_pdf_is_a_clear_failure(tmp_path):
    good = make_pdf(tmp_path / "good.pdf", ["Some text on a page."]).read_bytes()
    path = tmp_path / "broken.pdf"
    path.write_bytes(good[:200] + b"\x00garbage" * 50)  # header intact, body and xref gone
    with pytest.raises(LoadError, match="PDF"):
        load_file(path)


def test_docx_chunks_carry_the_heading_path_and_tables(tmp_path, embedder):
    import docx

    document = docx.Document()
    document.add_heading("Lease", level=1)
    document.add_paragraph("This lease is made between Ann and Bob.")
    document.add_heading("Termination", level=2)
    document.add_heading("Notice", level=3)
    document.add_paragraph("The notice period is sixty days, in writing.")
    document.add_heading("Rent", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Month", "Amount"
    table.cell(1, 0).text, table.cell(1, 1).text = "January", "1200 EUR"
    path = tmp_path / "Lease.DOCX"  # extensions match case-insensitively
    document.save(path)

    chunks = chunks_of(path, embedder)
    notice = the_chunk(chunks, "notice period is sixty days")
    assert notice.extra["heading"] == "Lease > Termination > Notice"
    assert notice.text.startswith("Termination\n\nNotice\n\n")  # a heading-only section is carried into the next
    rent = the_chunk(chunks, "January | 1200 EUR")
    assert rent.extra["heading"] == "Lease > Rent"
    assert "Month | Amount" in rent.text
    assert the_chunk(chunks, "Ann and Bob").extra["heading"] == "Lease"


def test_pptx_chunk_carries_its_slide_number_and_text(tmp_path, embedder):
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Welcome"
    first.placeholders[1].text = "Agenda for the quarterly review"
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "Quarterly revenue"
    second.placeholders[1].text = "Revenue grew 14 percent in the third quarter"
    box = second.shapes.add_textbox(Inches(1), Inches(5), Inches(4), Inches(1))
    box.text_frame.text = "Source: finance team ledger"
    second.notes_slide.notes_text_frame.text = "Mention the new Lisbon office"
    path = tmp_path / "review.pptx"
    deck.save(path)

    chunks = chunks_of(path, embedder)
    revenue = the_chunk(chunks, "Revenue grew 14 percent")
    assert revenue.extra["slide"] == 2
    assert revenue.extra["heading"] == "Quarterly revenue"
    assert "Source: finance team ledger" in revenue.text and "Notes: Mention the new Lisbon office" in revenue.text
    assert the_chunk(chunks, "Agenda").extra["slide"] == 1
    assert revenue.citation() == "review.pptx, slide 2"


def test_html_keeps_heading_paths_and_drops_scripts(tmp_path, embedder):
    path = tmp_path / "page.htm"
    path.write_text(
        "<!DOCTYPE html><html><head><title>T</title><style>body{color:red}</style></head><body>"
        "<script>var secret = 'tracking code';</script>"
        "<h1>Kettle guide</h1><p>Read this first.</p>"
        "<h2>Descaling</h2><p>Use citric acid every <b>four weeks</b>.</p><!-- a comment -->"
        "<table><tr><th>Part</th><th>Price</th></tr><tr><td>Filter</td><td>9 EUR</td></tr></table>"
        "<h2>Warranty</h2><ul><li>Two years</li><li>Keep the receipt</li></ul></body></html>",
        encoding="utf-8",
    )
    chunks = chunks_of(path, embedder)
    descale = the_chunk(chunks, "citric acid every four weeks")
    assert descale.extra["heading"] == "Kettle guide > Descaling"
    assert "\n\nPart | Price\n\nFilter | 9 EUR" in descale.text
    assert the_chunk(chunks, "Keep the receipt").extra["heading"] == "Kettle guide > Warranty"
    assert not any("tracking code" in c.text or "color:red" in c.text or "a comment" in c.text for c in chunks)


def test_markdown_heading_paths(tmp_path, embedder):
    path = tmp_path / "handbook.md"
    path.write_text(
        "# Handbook\n\nWelcome aboard.\n\n## Leave\n\n### Sick leave\n\nCall your manager before 9:00.\n\n"
        "```python\nprint('code stays')\n```\n\nSetext heading\n--------------\n\nUnder setext.\n",
        encoding="utf-8",
    )
    chunks = chunks_of(path, embedder)
    assert the_chunk(chunks, "before 9:00").extra["heading"] == "Handbook > Leave > Sick leave"
    assert the_chunk(chunks, "print('code stays')").extra["heading"] == "Handbook > Leave > Sick leave"
    assert the_chunk(chunks, "Under setext").extra["heading"] == "Handbook > Setext heading"


def test_rst_heading_paths(tmp_path, embedder):
    path = tmp_path / "guide.rst"
    path.write_text(
        "Install guide\n=============\n\nIntro text.\n\nOn Linux\n--------\n\nRun ``make install`` as root.\n",
        encoding="utf-8",
    )
    chunks = chunks_of(path, embedder)
    assert the_chunk(chunks, "make install").extra["heading"] == "Install guide > On Linux"


def _pandoc_from_markdown(markdown: str, path: Path) -> Path:
    import pypandoc

    pypandoc.convert_text(
        markdown, path.suffix[1:], format="md", outputfile=str(path), extra_args=["--metadata", "title=Field notes"]
    )
    return path


def test_epub_and_odt_are_read_with_headings(tmp_path, embedder):
    markdown = "# Birds\n\nThe heron waits in the shallows.\n\n## Owls\n\nThe barn owl hunts at dusk.\n"
    for name in ("notes.epub", "notes.odt"):
        chunks = chunks_of(_pandoc_from_markdown(markdown, tmp_path / name), embedder)
        owl = the_chunk(chunks, "barn owl hunts at dusk")
        assert owl.extra["heading"].endswith("Birds > Owls"), (name, owl.extra)
        assert the_chunk(chunks, "heron waits").extra["heading"].endswith("Birds"), name


def test_rtf_text_with_accents(tmp_path, embedder):
    path = tmp_path / "memo.rtf"
    path.write_bytes(
        rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}\f0\pard The caf\'e9 opens at "
        rb"{\b eight} o'clock.\par Price: 5 \'80.\par}"
    )
    chunks = chunks_of(path, embedder)
    chunk = the_chunk(chunks, "café opens at eight o'clock")
    assert "5 €" in chunk.text
