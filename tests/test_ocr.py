"""Scanned documents: real scans made here (text pages rendered at 150 dpi by PDFium, one turned
90 degrees, one with noise), read by the bundled OCR engine, ingested, and found by `search`."""

from __future__ import annotations

import json
import subprocess
import weakref
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import localgpt_cmd
from core.types import Chunk
from ingest.loaders import LoadError, is_supported, load_file
from ingest.ocr import OcrOptions
from ingest.ocr.usable import clearly_usable, needs_ocr

# One distinctive sentence per page: search must find each on its own page.
SENTENCES = [
    "The walrus ledger lists eleven copper kettles bought in Tromso.",
    "Marigold pumps must be flushed with vinegar every autumn.",
    "Professor Quill signed the harbour lease on a foggy Thursday.",
]
DPI = 150


def _text_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format=(120, 60))  # small pages: OCR is slow on 2 cores
    pdf.set_auto_page_break(False)
    for text in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=13)
        pdf.set_xy(8, 12)
        pdf.multi_cell(104, 7, text)
    pdf.output(str(path))
    return path


def _scans(text_pdf: Path) -> list:
    """Each page rendered at 150 dpi as a scanner would: page 2 turned 90 degrees, page 3 noisy."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    document = pdfium.PdfDocument(str(text_pdf))
    images = [document[i].render(scale=DPI / 72, grayscale=True).to_pil().copy() for i in range(len(document))]
    document.close()
    images[1] = images[1].transpose(Image.Transpose.ROTATE_90)
    noisy = np.asarray(images[2]).astype(np.int16) + np.random.default_rng(7).normal(0, 30, images[2].size[::-1])
    images[2] = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    return images


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> Path:
    """A folder of scans: an image-only PDF, a 3-page TIFF, a PNG, and a PDF mixing a text page and a scan."""
    from fpdf import FPDF

    folder = tmp_path_factory.mktemp("scans")
    work = tmp_path_factory.mktemp("work")
    images = _scans(_text_pdf(work / "typed.pdf", SENTENCES))
    # TIFF and PNG first: saving as PDF leaves Pillow encoder settings on the images
    images[0].save(folder / "ledger.tiff", save_all=True, append_images=images[1:], dpi=(DPI, DPI))
    images[0].save(folder / "walrus.png", dpi=(DPI, DPI))
    images[0].copy().save(
        folder / "scan.pdf", save_all=True, append_images=[i.copy() for i in images[1:]], resolution=DPI
    )
    images[2].save(work / "page.png")
    mixed = FPDF(format=(120, 60))
    mixed.set_auto_page_break(False)
    mixed.add_page()
    mixed.set_font("helvetica", size=11)
    mixed.multi_cell(0, 6, "This first page is typed: its text layer is read as it is, without OCR. " * 3)
    mixed.add_page()
    mixed.image(str(work / "page.png"), x=0, y=0, w=120, h=60)
    mixed.output(str(folder / "mixed.pdf"))
    return folder


@pytest.mark.slow
def test_an_image_only_pdf_is_read_page_by_page_with_the_ocr_flag(scanned):
    sections = load_file(scanned / "scan.pdf")
    assert [s.meta["page"] for s in sections] == [1, 2, 3]
    assert all(s.meta["ocr"] is True for s in sections)
    for section, sentence in zip(sections, SENTENCES):
        assert _words(sentence) <= _words(section.text), (section.meta, section.text)


@pytest.mark.slow
def test_a_pdf_mixing_text_and_scanned_pages_ocrs_only_the_scanned_one(scanned):
    first, second = load_file(scanned / "mixed.pdf")
    assert first.meta == {"page": 1} and first.text.startswith("This first page is typed")
    assert second.meta["page"] == 2 and second.meta["ocr"] is True
    assert _words(SENTENCES[2]) <= _words(second.text)


@pytest.mark.slow
def test_ocr_off_leaves_scans_out_with_todays_message_and_skips_images(scanned):
    with pytest.raises(LoadError, match=r"^PDF has no text layer \(scanned\?\); OCR is not supported$"):
        load_file(scanned / "scan.pdf", ocr=OcrOptions(mode="off"))
    assert [s.meta for s in load_file(scanned / "mixed.pdf", ocr=OcrOptions(mode="off"))] == [{"page": 1}]
    assert is_supported(scanned / "walrus.png") and not is_supported(scanned / "walrus.png", images=False)


@pytest.mark.slow
def test_ocr_force_reads_a_text_page_by_ocr(tmp_path):
    path = _text_pdf(tmp_path / "typed.pdf", SENTENCES[:1])
    (section,) = load_file(path, ocr=OcrOptions(mode="force"))
    assert section.meta["ocr"] is True and _words(SENTENCES[0]) <= _words(section.text)


@pytest.mark.slow
def test_scans_are_ingested_and_each_page_is_found_by_search_offline(scanned, tmp_path):
    db = tmp_path / "db"
    done = subprocess.run(
        localgpt_cmd("ingest", "--source-dir", str(scanned), "--db", str(db), "--quiet"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 file" in done.stdout or "ingested" in done.stdout, done.stdout
    from localgpt import cli

    wanted = [
        ("scan.pdf", 1, 0),
        ("scan.pdf", 2, 1),
        ("scan.pdf", 3, 2),
        ("ledger.tiff", 2, 1),
        ("walrus.png", 1, 0),
        ("mixed.pdf", 2, 2),
    ]
    for source, page, sentence in wanted:
        result = CliRunner().invoke(
            cli, ["search", "--db", str(db), "--json", "-k", "8", "--where", f"source={source}", SENTENCES[sentence]]
        )
        assert result.exit_code == 0, result.output
        top = json.loads(result.stdout)[0]
        assert (top["source"], top["page"], top["ocr"]) == (source, page, True), top
        assert top["location"] == f"page {page}, scanned"


def test_location_and_citation_say_scanned():
    chunk = Chunk.make("text", "contracts/lease.pdf", 0, {"page": 3, "ocr": True})
    assert chunk.citation() == "contracts/lease.pdf, page 3, scanned"
    assert chunk.to_json()["ocr"] is True
    assert Chunk.make("text", "a.pdf", 0, {"page": 3}).citation() == "a.pdf, page 3"


@pytest.mark.parametrize(
    "text, cover, paths, ocr",
    [
        ("", 1.0, 0, True),  # a scan
        ("Page 3 of 7", 0.9, 0, True),  # a scan with a page number as text
        ("Scanned by ACME Copier 2024-01-05 12:00 Bates 000123", 0.95, 0, True),  # a stamped scan
        ("", 0.0, 400, True),  # text turned into outlines
        ("\ufffd" * 300, 0.0, 0, False),  # nothing drawn that could be text
        ("\ue001\ue002\ue003 " * 100, 0.02, 300, True),  # a font without a Unicode map
        ("", 0.0, 3, False),  # a blank page with a rule
        ("A short typed note under a logo that is long enough to count as text.", 0.2, 10, False),
    ],
)
def test_no_usable_text(text, cover, paths, ocr):
    assert needs_ocr(text, cover, paths) is ocr


def test_a_page_of_text_is_usable_without_looking_further():
    assert clearly_usable("The quick brown fox jumps over the lazy dog. " * 6)
    assert not clearly_usable("Chapter 3")


class _FakeEngine:
    """Stands in for Tesseract where only the plumbing is tested: counts the page images alive at once."""

    def __init__(self):
        self.alive: list = []
        self.most_alive = 0

    def read_once(self, image, dpi):
        from ingest.ocr.engine import PageText

        self.alive = [ref for ref in self.alive if ref() is not None] + [weakref.ref(image)]
        self.most_alive = max(self.most_alive, len(self.alive))
        return PageText("fake text of a page", 17, 95.0)


@pytest.fixture
def fake_engine(monkeypatch):
    from ingest.ocr import engine

    fake = _FakeEngine()
    monkeypatch.setitem(engine._ENGINES, "eng", fake)
    return fake


def test_pages_are_rendered_one_at_a_time(tmp_path, fake_engine):
    from PIL import Image

    page = Image.new("L", (300, 200), 255)
    page.save(tmp_path / "long.pdf", save_all=True, append_images=[page.copy() for _ in range(39)], resolution=50)
    sections = load_file(tmp_path / "long.pdf")
    assert len(sections) == 40 and fake_engine.most_alive == 1


def test_a_huge_image_is_refused_under_the_pixel_limit_which_the_user_can_raise(tmp_path, fake_engine):
    from PIL import Image

    path = tmp_path / "poster.png"
    Image.new("L", (4000, 3000), 255).save(path)  # 12 megapixels, a few KB
    with pytest.raises(
        LoadError,
        match=r"4000x3000 pixels \(12 megapixels\), above the 10 megapixel limit "
        r"\(--ocr-max-megapixels.*raise the limit",
    ):
        load_file(path, ocr=OcrOptions(max_pixels=10_000_000))
    assert load_file(path, ocr=OcrOptions(max_pixels=20_000_000))[0].meta == {
        "page": 1,
        "ocr": True,
        "ocr_confidence": 0.95,
    }


def _png_bomb(path: Path, side: int) -> None:
    """A valid black-and-white PNG of side x side pixels, a few hundred KB (written by hand: Pillow would take seconds)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, rows = zlib.compressobj(6), b"\x00" * (1 + (side + 7) // 8) * 500
    body = b"".join(packer.compress(rows) for _ in range(side // 500)) + packer.flush()
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", body)
        + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path, fake_engine):
    path = tmp_path / "bomb.png"
    _png_bomb(path, 20000)  # 400 megapixels in about 50 KB
    assert path.stat().st_size < 1_000_000
    with pytest.raises(LoadError, match=r"20000x20000 pixels \(400 megapixels\), above the 100 megapixel limit"):
        load_file(path)


def test_a_corrupt_image_is_named_as_such(tmp_path, fake_engine):
    from PIL import Image

    good = tmp_path / "good.png"
    Image.new("L", (400, 300), 255).save(good)
    broken = tmp_path / "receipt.png"
    broken.write_bytes(good.read_bytes()[:120])
    with pytest.raises(LoadError, match="corrupt image"):
        load_file(broken)
    Image.new("RGB", (800, 600), "white").save(good.with_suffix(".jpg"))
    cut = tmp_path / "photo.jpg"
    cut.write_bytes(good.with_suffix(".jpg").read_bytes()[:600])
    with pytest.raises(LoadError, match="^corrupt image: it cannot be decoded"):
        load_file(cut)
    junk = tmp_path / "scan.tiff"
    junk.write_bytes(b"II*\x00" + b"\x00not a tiff" * 50)
    with pytest.raises(LoadError, match="^(corrupt|not a readable) image"):
        load_file(junk)


def test_webp_and_jpeg_are_read(tmp_path, fake_engine):
    from PIL import Image

    for name in ("photo.webp", "photo.jpg"):
        Image.new("RGB", (300, 200), "white").save(tmp_path / name)
        assert load_file(tmp_path / name)[0].meta["ocr"] is True


def _words(text: str) -> set[str]:
    import re

    return {w.lower() for w in re.findall(r"[A-Za-z]+", text)}


def test_doctor_reports_the_ocr_engine_and_its_models(settings_for, tmp_path):
    import hashlib

    from doctor.ocr_check import ocr_facts
    from doctor.report import DoctorReport

    facts, problems = ocr_facts(settings_for(tmp_path / "db"))
    assert problems == []
    assert facts["engine"] == "tesseract" and facts["mode"] == "auto" and facts["version"].startswith("tesseract 5.")
    assert "eng" in facts["languages_installed"]
    (model,) = facts["models"]
    assert (
        model["language"] == "eng" and model["sha256"] == hashlib.sha256(Path(model["path"]).read_bytes()).hexdigest()
    )
    text = DoctorReport(sections={"ocr": facts}).to_text()
    assert text.startswith("OCR\n  engine: tesseract\n") and f"sha256={model['sha256']}" in text
