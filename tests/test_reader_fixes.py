"""What a user reads back from real-world files: an e-mail attachment cited by its own name and
page, no Sphinx "¶" in passages, TeX accents searchable, control characters escaped in names."""

from __future__ import annotations

from email.message import EmailMessage

from core.types import Chunk
from ingest.loaders import load_file
from ingest.loaders.html import sections_from_html


def _pdf_bytes(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def test_an_attachment_is_cited_inside_its_mail_with_its_page(tmp_path, settings_for):
    from click.testing import CliRunner

    from localgpt import cli

    message = EmailMessage()
    message["Subject"] = "Invoice"
    message.set_content("Please find the invoice attached.")
    message.add_attachment(
        _pdf_bytes(["Cover page.", "The amount due is 1,250 euros by 30 June."]),
        maintype="application",
        subtype="pdf",
        filename="INV-20931.pdf",
    )
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "invoice_mail.eml").write_bytes(message.as_bytes())
    db = tmp_path / "db"
    assert CliRunner().invoke(cli, ["ingest", "--source-dir", str(folder), "--db", str(db), "--quiet"]).exit_code == 0
    result = CliRunner().invoke(cli, ["search", "--db", str(db), "-k", "1", "amount due"])
    assert result.stdout.startswith("1. invoice_mail.eml › INV-20931.pdf, page 2  (score "), result.output


def test_nested_attachment_citation_and_control_characters():
    chunk = Chunk.make("x", "mail/fwd.eml", 0, {"attachment": "Old thread.eml > offer.docx", "heading": "Offer"})
    assert chunk.citation() == "mail/fwd.eml › Old thread.eml › offer.docx, Offer"
    odd = Chunk.make("x", "bad\nname\x1b[2J.pdf", 0, {"page": 3})
    assert odd.citation() == "bad\\nname\\x1b[2J.pdf, page 3"


def test_sphinx_permalink_marks_are_not_in_the_text():
    html = """<html><body><h1>json — JSON encoder<a class="headerlink" href="#m">¶</a></h1>
    <dl><dt class="sig"><span>json.dump</span>(<em>obj</em>)<a class="headerlink" href="#json.dump">¶</a></dt>
    <dd><p>Serialize <em>obj</em> as a JSON formatted stream.</p></dd></dl></body></html>"""
    text = "\n".join(s.text for s in sections_from_html(html))
    assert "¶" not in text
    assert "json.dump(obj)" in text and "Serialize obj as a JSON formatted stream." in text


def test_tex_accents_are_composed_so_the_word_is_found(tmp_path):
    path = tmp_path / "faq.pdf"
    path.write_bytes(
        _pdf_bytes(["Kurt Hornik, Wirtschaftsuniversit\u00a8at Wien, and Universit\u00b4e de Montr\u00b4eal."])
    )
    text = "\n".join(s.text for s in load_file(path))
    assert "Wirtschaftsuniversität Wien" in text and "Université de Montréal" in text
    assert "\u00a8" not in text
