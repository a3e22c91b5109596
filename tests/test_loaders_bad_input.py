"""Bad input: each file fails alone with a reason a user understands, or is read despite its flaws."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from ingest.loaders import LoadError, is_supported, load_file, supported_extensions

REPO = Path(__file__).resolve().parent.parent


def text_of(path: Path) -> str:
    return "\n".join(s.text for s in load_file(path))


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.pdf"
    path.touch()
    with pytest.raises(LoadError, match=r"empty file \(0 bytes\)"):
        load_file(path)


def test_whitespace_only_text(tmp_path):
    path = tmp_path / "blank.md"
    path.write_text("\n   \n\t\n", encoding="utf-8")
    with pytest.raises(LoadError, match="no text"):
        load_file(path)


def test_binary_junk_with_a_text_extension(tmp_path):
    for name in ("junk.txt", "junk.csv", "junk.py", "junk.json", "junk.md"):
        path = tmp_path / name
        path.write_bytes(bytes(range(256)) * 40)
        with pytest.raises(LoadError, match=r"binary content, not text \(wrong extension\?\)"):
            load_file(path)


SENTENCE = "Le café coûte 3 € à Zürich; naïve façade, Größe, señor."


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-16-le", "utf-8", "utf-8-sig"])
def test_text_encodings_are_detected_and_the_text_kept(tmp_path, encoding):
    text = SENTENCE if encoding != "latin-1" else SENTENCE.replace("€", "EUR")  # Latin-1 has no euro sign
    body = "\n".join([text, "Une deuxième ligne, très française, avec des élèves.", "Äpfel und Öl für die Bäckerei."])
    path = tmp_path / f"note-{encoding}.txt"
    path.write_bytes(body.encode(encoding))
    assert text_of(path) == body


def test_windows_1252_csv_keeps_accents_and_the_euro_sign(tmp_path):
    path = tmp_path / "prix.csv"
    path.write_bytes("article,prix\nCrème brûlée,4 €\nCafé,2 €\n".encode("cp1252"))
    sections = load_file(path)
    assert sections[0].header == "article | prix"
    assert [s.text for s in sections] == ["Crème brûlée | 4 €", "Café | 2 €"]


def test_a_file_above_the_limit_is_skipped_without_reading_it(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:  # a sparse 600 MB file: no disk used; reading it would say "binary"
        handle.truncate(600 * 1000 * 1000)
    with pytest.raises(LoadError) as caught:
        load_file(path, max_bytes=200 * 1000 * 1000)
    assert str(caught.value) == "file is 600 MB, above the 200 MB limit (--max-file-mb); raise the limit to ingest it"


def test_a_large_text_file_below_the_limit_is_read_in_bounded_memory(tmp_path):
    line = "The quick brown fox jumps over the lazy dog near the river bank at dawn.\n"
    path = tmp_path / "big.txt"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(200_000):  # about 15 MB
            handle.write(f"{i} {line}" if i % 40 else "\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        sections = load_file(path, max_bytes=size + 1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(sections) > 100  # blocks of paragraphs, not one giant string
    assert sections[-1].text.endswith("199999 " + line.strip())
    assert peak < 2.5 * size, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def _pdf_bytes(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def test_a_pdf_renamed_docx_is_read_as_pdf(tmp_path):
    path = tmp_path / "contract.docx"
    path.write_bytes(_pdf_bytes("The deposit is returned within 30 days."))
    sections = load_file(path)
    assert sections[0].meta == {"page": 1}
    assert "deposit is returned within 30 days" in sections[0].text


def test_an_html_page_saved_as_pdf_is_read_as_html(tmp_path):
    path = tmp_path / "invoice.pdf"
    path.write_text(
        "<!doctype html><html><body><h1>Invoice</h1><p>Total due: 120 EUR.</p></body></html>", encoding="utf-8"
    )
    sections = load_file(path)
    assert sections[0].meta == {"heading": "Invoice"} and "Total due: 120 EUR." in sections[0].text


def test_content_that_is_no_known_format_under_a_binary_extension(tmp_path):
    junk = tmp_path / "report.docx"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(LoadError, match=r"not a valid Word file"):
        load_file(junk)
    archive = tmp_path / "slides.pptx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "just a zip")
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(LoadError, match=r"the file is a ZIP archive, not PowerPoint"):
        load_file(archive)


def test_a_damaged_office_file_is_a_load_error(tmp_path):
    path = tmp_path / "sheet.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<not-a-workbook")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(LoadError, match="XLSX"):
        load_file(path)


def test_unsupported_extension_and_the_list_of_extensions():
    assert not is_supported(Path("photo.gif"))
    assert is_supported(Path("REPORT.PDF")) and is_supported(Path("x.Docx")) and is_supported(Path("scan.JPEG"))
    with pytest.raises(LoadError, match=r"unsupported file type \.gif"):
        load_file(Path("photo.gif"))
    extensions = supported_extensions()
    for ext in (
        ".pdf",
        ".docx",
        ".pptx",
        ".xlsx",
        ".xls",
        ".csv",
        ".txt",
        ".md",
        ".rst",
        ".html",
        ".htm",
        ".eml",
        ".msg",
        ".epub",
        ".odt",
        ".rtf",
        ".json",
        ".jsonl",
        ".py",
        ".js",
        ".ts",
        ".java",
        ".go",
        ".rs",
        ".c",
        ".cpp",
        ".h",
        ".sh",
        ".rb",
        ".php",
        ".cs",
        ".kt",
        ".swift",
        ".scala",
        ".sql",
        ".png",
        ".jpg",
        ".jpeg",
        ".tif",
        ".tiff",
        ".webp",
    ):
        assert ext in extensions, ext


def test_broken_symlink_and_symlink_loop(tmp_path):
    broken = tmp_path / "gone.pdf"
    broken.symlink_to(tmp_path / "deleted.pdf")
    with pytest.raises(LoadError, match=r"broken symbolic link: its target .*deleted\.pdf does not exist"):
        load_file(broken)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    with pytest.raises(LoadError, match="symbolic link loop"):
        load_file(loop)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_unreadable_permissions_as_root_without_the_override_capability(tmp_path):
    """Root reads a chmod-000 file anyway; the check runs in a subprocess that dropped
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (as a normal user would lack them), so the
    open really fails with EACCES."""
    path = tmp_path / "private.txt"
    path.write_text("secret salary list", encoding="utf-8")
    path.chmod(0)
    script = (
        "import sys\nfrom pathlib import Path\nfrom ingest.loaders import LoadError, load_file\n"
        "try:\n    load_file(Path(sys.argv[1]))\nexcept LoadError as exc:\n    print('LoadError:', exc)\n"
    )
    caps = "-dac_override,-dac_read_search"
    done = subprocess.run(
        ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", sys.executable, "-c", script, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "LoadError: permission denied: cannot read the file (check its permissions)"


def test_text_that_mentions_a_pdf_header_stays_text(tmp_path):
    path = tmp_path / "sniff.py"
    path.write_text('def is_pdf(head):\n    return head.startswith(b"%PDF-")\n', encoding="utf-8")
    assert load_file(path)[0].text.startswith("def is_pdf(head):")
    prefixed = tmp_path / "scanner-output.pdf"  # junk before the header is allowed by the PDF spec
    prefixed.write_bytes(b"\r\nJUNK\r\n" + _pdf_bytes("Meter reading 4711 kWh."))
    assert "Meter reading 4711 kWh." in load_file(prefixed)[0].text
