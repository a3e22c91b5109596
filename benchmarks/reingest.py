"""Re-ingesting a folder of 1,000 files that did not change (the daily re-run), against the
first ingest of the same folder and against the CLI's own start-up, in the same run.

    python benchmarks/reingest.py [--files 1000] [--runs 5]

The folder is generated (text, Markdown, HTML and CSV files of a few hundred words, in 20
sub-folders) under a temporary directory. Timed, each as a `localgpt ingest` subprocess:
  first     the first ingest (reads, embeds and writes everything), once
  unchanged re-ingest with nothing changed: size + mtime say so, no file is opened
  touched   re-ingest after every file's mtime changed but not its content: each file is
            hashed (sha-256) and found unchanged, nothing is embedded
  floor     `localgpt --help`: interpreter and CLI start-up, the least any command costs
Medians of --runs for the re-ingests and the floor.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO

WORDS = (
    "invoice contract tenant notice clause payment schedule warranty kettle filter pump valve budget audit "
    "meeting agenda quarter revenue policy leave holiday manager approval deadline report summary"
).split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."


def make_folder(root: Path, files: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    for n in range(files):
        folder = root / f"dept-{n % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        body = [sentence(rng) for _ in range(rng.randint(6, 14))]
        kind = n % 4
        if kind == 0:
            (folder / f"note-{n:04d}.txt").write_text("\n".join(body), encoding="utf-8")
        elif kind == 1:
            (folder / f"memo-{n:04d}.md").write_text(f"# Memo {n}\n\n" + "\n\n".join(body), encoding="utf-8")
        elif kind == 2:
            paragraphs = "".join(f"<p>{s}</p>" for s in body)
            (folder / f"page-{n:04d}.html").write_text(
                f"<html><body><h1>Page {n}</h1>{paragraphs}</body></html>", encoding="utf-8"
            )
        else:
            rows = "\n".join(f"{i},{rng.choice(WORDS)},{rng.randint(1, 999)}" for i in range(len(body)))
            (folder / f"table-{n:04d}.csv").write_text("row,item,amount\n" + rows + "\n", encoding="utf-8")


def timed(args: list[str]) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(REPO / "localgpt.py"), *args], capture_output=True, text=True, env=env, cwd=REPO
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"localgpt {' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return seconds, (done.stdout + done.stderr).strip().splitlines()[-1] if (done.stdout + done.stderr).strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="reingest-bench-"))
    try:
        source, db = work / "docs", work / "db"
        make_folder(source, args.files)
        ingest = ["ingest", "--source-dir", str(source), "--db", str(db), "--quiet"]
        first, summary = timed(ingest)
        print(f"first ingest: {first:.1f}s  ({summary})", flush=True)
        unchanged, touched, floor = [], [], []
        for _ in range(args.runs):
            floor.append(timed(["--help"])[0])
            seconds, summary = timed(ingest)
            unchanged.append(seconds)
            assert f"{args.files} unchanged" in summary, summary
            now = time.time()
            for path in source.rglob("*"):
                if path.is_file():
                    os.utime(path, (now, now))
            seconds, summary = timed(ingest)
            touched.append(seconds)
            assert f"{args.files} unchanged" in summary, summary
        print(f"last summary: {summary}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = statistics.median
    print(f"\n{args.files} files, medians of {args.runs} runs")
    print(f"  CLI start-up (localgpt --help)        {med(floor):6.2f} s")
    print(
        f"  re-ingest, nothing changed            {med(unchanged):6.2f} s  ({med(unchanged) / first:.1%} of the first ingest)"
    )
    print(
        f"  re-ingest, every mtime changed         {med(touched):6.2f} s  ({med(touched) / first:.1%} of the first ingest)"
    )
    print(f"  first ingest                          {first:6.2f} s")


if __name__ == "__main__":
    main()
