"""The ingest's progress line as the user reads it on stderr: the work done in chunks (not files
only), the file being read, and the time left once it can be told. Driven here by a clock the
test moves; tests/test_ingest_incremental.py checks the line of a real ingest."""

from __future__ import annotations

import io

import pytest

from ingest.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def last_line(stream: io.StringIO) -> str:
    return stream.getvalue().replace("\r", "\n").rstrip("\n").split("\n")[-1].rstrip()


def test_a_big_pdf_read_first_shows_its_name_then_chunks_and_the_time_left(monkeypatch):
    """The run of the issue: a 311-page PDF first, 15 small files after. The line names the
    PDF while it is read, counts chunks as they are embedded (files stay at 0 until one is
    written), and gives an estimate once embedding has run a few seconds."""
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: nothing is cut
    clock, out = Clock(), Terminal()
    progress = Progress(16, stream=out, clock=clock)
    small = [(f"pages/page{i:02d}.html", 40_000) for i in range(14)]
    progress.expect([("R-intro.pdf", 2_000_000), ("notes.txt", 5_000), *small])
    reading = ["notes.txt"]
    progress.follow(lambda: reading)

    clock.now = 0.5
    progress.redraw()
    assert "reading notes.txt" in last_line(out)
    progress.file_read("notes.txt", 4)
    progress.embedding(["notes.txt"])
    progress.chunks_done(4)
    progress.file_done()
    reading[:] = ["R-intro.pdf"]
    clock.now = 1.0
    progress.redraw()
    line = last_line(out)
    assert "reading R-intro.pdf" in line and "1/16 files" in line
    assert "left" not in line  # nothing to go on yet: the PDF is most of what is left, of a type not read

    clock.now = 3.0
    progress.file_read("R-intro.pdf", 1500)
    line = last_line(out)
    assert "left" not in line  # the rest is HTML, of which nothing is read yet
    progress.file_read("pages/page00.html", 30)
    reading[:] = ["pages/page01.html"]
    progress.embedding(["R-intro.pdf", "pages/page00.html"])
    for _ in range(20):  # 640 of the PDF's chunks in 20 s, files still 1/16
        clock.now += 1.0
        progress.chunks_done(32)
    line = last_line(out)
    assert "644/~1,924 chunks" in line, line  # known chunks, and 13 more HTML pages at the first one's rate
    assert "1/16 files" in line and "chunks/s" in line
    assert "reading pages/page01.html" in line
    assert "left" in line, line
    assert "%" in line


def test_the_estimate_waits_for_the_type_of_most_unread_bytes():
    clock, out = Clock(), Terminal()
    progress = Progress(2, stream=out, clock=clock)
    progress.expect([("a.txt", 1_000), ("big.pdf", 900_000)])
    progress.file_read("a.txt", 3)
    progress.embedding(["a.txt"])
    for _ in range(10):
        clock.now += 1.0
        progress.chunks_done(10)
    assert progress.total_chunks() is None and progress.seconds_left() is None
    line = progress.line()
    assert "100 chunks" in line and "~" not in line and "left" not in line and "elapsed" in line


def test_once_every_file_is_read_the_total_is_exact_and_the_estimate_falls_to_zero():
    clock, out = Clock(), io.StringIO()  # not a terminal: one line every 10 s, and the last
    progress = Progress(2, stream=out, clock=clock)
    progress.expect([("a.md", 10_000), ("b.md", 30_000)])
    progress.file_read("a.md", 10)
    progress.file_read("b.md", 30)
    progress.embedding(["b.md", "a.md"])
    for _ in range(9):
        clock.now += 1.0
        progress.chunks_done(4)
    line = progress.line()
    assert "36/40 chunks" in line and "~0:01 left" in line, line
    assert "embedding b.md and 1 more" in line
    progress.chunks_done(4)
    progress.file_done(2)
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines  # the first event's line, then the last: no flood in a log file
    assert "40/40 chunks" in lines[-1] and "2/2 files" in lines[-1] and "100%" in lines[-1]
    assert "left" not in lines[-1] and "embedding" not in lines[-1]


def test_files_read_while_the_ingest_embeds_count_at_once_and_only_once():
    """The workers read ahead while the big PDF's chunks are embedded: the estimate counts the
    files they finished before the pipeline takes them up, and not again when it does."""
    clock = Clock()
    progress = Progress(3, enabled=False, clock=clock)
    progress.expect([("big.pdf", 900_000), ("a.html", 50_000), ("b.html", 50_000)])
    progress.file_read("big.pdf", 900)
    finished = [("a.html", 40)]
    progress.follow(lambda: ["b.html"], lambda: finished)
    assert progress.total_chunks() is None  # nothing known of HTML yet ...
    progress.line()
    assert progress.total_chunks() == (980, False)  # ... until a line is drawn: a.html's 40, b.html likewise
    progress.file_read("a.html", 40)
    progress.file_read("b.html", 35)
    assert progress.total_chunks() == (975, True)


def test_unchanged_and_failed_files_count_as_read_without_skewing_the_estimate():
    clock = Clock()
    progress = Progress(3, enabled=False, clock=clock)
    progress.expect([("a.txt", 1_000), ("b.txt", 1_000), ("c.txt", 1_000)])
    progress.file_read("a.txt", 10)
    progress.file_read("b.txt", None)  # unchanged content: nothing to embed
    assert progress.total_chunks() == (20, False)
    progress.file_read("c.txt", None)
    assert progress.total_chunks() == (10, True)


def test_on_a_narrow_terminal_the_file_name_is_cut_not_the_line_wrapped():
    clock = Clock()
    progress = Progress(1, enabled=False, clock=clock)
    name = "a/very/long/folder/name/that/goes/on/" + "x" * 80 + "/manual.pdf"
    progress.expect([(name, 1000)])
    progress.follow(lambda: [name])
    line = progress.line(width=100)
    assert len(line) < 100 and "reading a/very" in line and "manual.pdf" in line and "…" in line


@pytest.mark.slow
def test_a_real_ingest_draws_its_line_in_place_on_a_terminal(tmp_path):
    """The sample documents ingested with stderr on a terminal (a pty 120 columns wide): the
    line is redrawn in place, fits the terminal, and ends with every chunk of the report
    embedded and every file done; the report itself is as before."""
    import fcntl
    import json
    import os
    import pty
    import struct
    import subprocess
    import termios

    from conftest import SAMPLES, localgpt_cmd

    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    report = tmp_path / "r.json"
    cmd = localgpt_cmd("ingest", "--source-dir", str(SAMPLES), "--db", str(tmp_path / "db"), "--report", str(report))
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=side, env=env) as proc:
        os.close(side)
        drawn = b""
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:  # the other side closed
                break
            if not data:
                break
            drawn += data
        stdout = proc.stdout.read().decode()
    os.close(main)
    assert proc.returncode == 0, (stdout, drawn)
    text = drawn.decode("utf-8", "replace")
    lines = [part.rstrip() for part in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if part.strip()]
    assert "\r" in text and lines, text  # redrawn in place
    assert all(len(line) < 120 for line in lines), lines
    files = json.loads(report.read_text())["files"]
    chunks = sum(f["chunks"] for f in files)
    assert f"{chunks:,}/{chunks:,} chunks" in lines[-1] and f"{len(files)}/{len(files)} files" in lines[-1], lines
    assert "100%" in lines[-1] and "elapsed" in lines[-1] and "left" not in lines[-1]
    assert "4 new" in stdout
