"""E-mail with attachments read by their own readers; source code cut at its own boundaries."""

from __future__ import annotations

import io
from email.message import EmailMessage
from pathlib import Path

from ingest.chunking import ChunkPlan, chunk_sections
from ingest.loaders import load_file


def chunks_of(path: Path, embedder, max_tokens: int = 200):
    return chunk_sections(load_file(path), path.name, embedder.tokens, ChunkPlan(max_tokens=max_tokens, overlap=0))


def the_chunk(chunks, needle: str):
    found = [c for c in chunks if needle in c.text]
    assert found, f"{needle!r} is in no chunk: {[c.text[:80] for c in chunks]}"
    return found[0]


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Offer", level=1)
    document.add_paragraph("The annual salary offered is 72,000 euros.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_eml_body_and_supported_attachments_each_say_where_they_come_from(tmp_path, embedder):
    forwarded = EmailMessage()
    forwarded["Subject"] = "Old thread"
    forwarded.set_content("The parking permit expires in March.")

    message = EmailMessage()
    message["Subject"] = "Your offer letter"
    message["From"] = "hr@example.org"
    message["To"] = "ann@example.org"
    message.set_content("Hi Ann, the offer letter is attached. Café at noon?")
    message.add_alternative("<p>Hi Ann, the <b>offer letter</b> is attached.</p>", subtype="html")
    message.add_attachment(
        _docx_bytes(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="offer.docx",
    )
    message.add_attachment("desk,floor\nA1,3\n".encode(), maintype="text", subtype="csv", filename="desks.csv")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + bytes(100), maintype="image", subtype="png", filename="logo.png")
    message.add_attachment(forwarded)
    path = tmp_path / "offer.eml"
    path.write_bytes(message.as_bytes())

    chunks = chunks_of(path, embedder)
    body = the_chunk(chunks, "the offer letter is attached. Café at noon?")  # the plain-text body, accents kept
    assert body.text.startswith("Subject: Your offer letter\nFrom: hr@example.org\nTo: ann@example.org")
    assert "attachment" not in body.extra
    salary = the_chunk(chunks, "salary offered is 72,000 euros")
    assert salary.extra["attachment"] == "offer.docx" and salary.extra["heading"] == "Offer"
    desk = the_chunk(chunks, "A1 | 3")
    assert desk.extra["attachment"] == "desks.csv" and desk.text.startswith("desk | floor")
    permit = the_chunk(chunks, "parking permit expires in March")
    assert permit.extra["attachment"] == "Old thread.eml"
    assert not any("PNG" in c.text for c in chunks)


def test_html_only_eml_uses_the_html_body(tmp_path):
    message = EmailMessage()
    message["Subject"] = "Newsletter"
    message.set_content("<html><body><h1>News</h1><p>The office moves on 3 June.</p></body></html>", subtype="html")
    path = tmp_path / "news.EML"
    path.write_bytes(message.as_bytes())
    sections = load_file(path)
    moved = next(s for s in sections if "office moves on 3 June" in s.text)
    assert moved.meta["heading"] == "News" and "<p>" not in moved.text


PYTHON = '''"""Billing helpers."""
import math


class Invoice:
    """An invoice with lines."""

    def __init__(self, lines):
        self.lines = list(lines)
        self.currency = "EUR"
        self.notes = ["net 30", "late fee 2 percent"]

    def total(self):
        subtotal = sum(line.amount * line.quantity for line in self.lines)
        tax = subtotal * 0.21
        return math.ceil((subtotal + tax) * 100) / 100


def late_fee(invoice, days_late):
    if days_late <= 30:
        return 0
    rate = 0.02 * (days_late // 30)
    return round(invoice.total() * rate, 2)


def format_invoice(invoice):
    header = f"Invoice in {invoice.currency}"
    body = "\\n".join(f"{line.name}: {line.amount}" for line in invoice.lines)
    return header + "\\n" + body
'''


def test_python_code_is_split_at_function_and_class_boundaries(tmp_path, embedder):
    path = tmp_path / "billing.PY"
    path.write_text(PYTHON, encoding="utf-8")
    chunks = chunks_of(path, embedder, max_tokens=80)
    assert len(chunks) >= 3
    starts = [c.text.split("\n", 1)[0] for c in chunks]
    assert "def late_fee(invoice, days_late):" in starts
    assert "def format_invoice(invoice):" in starts
    assert any(s.startswith("class Invoice") for s in starts)
    assert all("language" not in c.extra for c in chunks)  # used for splitting, then dropped
    late = the_chunk(chunks, "def late_fee")
    assert "rate = 0.02" in late.text and "def format_invoice" not in late.text


def test_javascript_and_go_are_split_on_their_own_boundaries(tmp_path, embedder):
    js = tmp_path / "cart.js"
    js.write_text(
        "\n\n".join(
            f"function price{i}(items) {{\n  let total = 0;\n  for (const item of items) {{\n    total += item.cost * {i};\n  }}\n"
            f"  return total;\n}}"
            for i in range(8)
        ),
        encoding="utf-8",
    )
    starts = [c.text.split("\n", 1)[0] for c in chunks_of(js, embedder, max_tokens=60)]
    assert all(s.startswith("function price") for s in starts), starts
    go = tmp_path / "main.go"
    go.write_text(
        "package main\n\n"
        + "\n\n".join(
            f'func Handler{i}(w http.ResponseWriter, r *http.Request) {{\n\tvalue := r.URL.Query().Get("id{i}")\n'
            f'\tfmt.Fprintf(w, "handled %s", value)\n}}'
            for i in range(8)
        ),
        encoding="utf-8",
    )
    chunks = chunks_of(go, embedder, max_tokens=60)
    assert all(c.text.startswith(("package main", "func Handler")) for c in chunks), [c.text[:30] for c in chunks]


def test_shell_and_sql_are_read_as_text(tmp_path):
    sql = tmp_path / "schema.sql"
    sql.write_text("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total NUMERIC);\n", encoding="utf-8")
    assert load_file(sql)[0].text.startswith("CREATE TABLE invoices")
    assert load_file(sql)[0].meta == {}


def test_outlook_msg_body_and_attachments(tmp_path, embedder):
    from msg_writer import write_msg  # tests/msg_writer.py: no library writes .msg files

    path = tmp_path / "numbers.MSG"
    write_msg(
        path,
        subject="Quarterly numbers",
        body="Hi team, the Q3 figures are attached. Merci, André.",
        sender="cfo@example.org",
        attachments=[
            ("numbers.csv", b"quarter,revenue\nQ2,1.1M\nQ3,1.2M\n"),
            ("offer.docx", _docx_bytes()),
            ("long.txt", ("The archive retention period is seven years. " * 120).encode()),
        ],
    )
    chunks = chunks_of(path, embedder)
    body = the_chunk(chunks, "Q3 figures are attached. Merci, André.")
    assert body.text.startswith("Subject: Quarterly numbers\nFrom: <cfo@example.org>")
    revenue = the_chunk(chunks, "Q3 | 1.2M")
    assert revenue.extra == {"row_start": 2, "row_end": 3, "attachment": "numbers.csv"}
    assert revenue.text.startswith("quarter | revenue\n")
    assert the_chunk(chunks, "72,000 euros").extra["attachment"] == "offer.docx"
    assert the_chunk(chunks, "retention period is seven years").extra["attachment"] == "long.txt"


def test_damaged_msg_is_a_load_error(tmp_path):
    import pytest

    from ingest.loaders import LoadError

    path = tmp_path / "broken.msg"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\xff" * 1000)
    with pytest.raises(LoadError, match="damaged or unrecognised OLE2 compound file"):
        load_file(path)
