"""`localgpt watch` against `localgpt ingest` on the same changes, in the same run.

    python benchmarks/watch.py [--runs 10] [--pdf-runs 3] [--files 10000] [--idle 60]

Measured, each against a `localgpt ingest` subprocess doing the same change on an identical
copy of the folder and its index (the watcher must not see the baseline's changes):
  text      save a one-page text file -> searchable (BM25 finds it through a reader that
            refreshes, as `serve` does): median, p95 of --runs saves
  pdf       the same for a 50-page PDF (fpdf2), --pdf-runs saves
  idle      the watcher's CPU seconds over --idle seconds on a folder of --files files, and its
            resident memory (VmRSS, VmHWM); against one re-ingest of the unchanged folder (what
            a cron job that polls pays each time)
  checkout  a `git checkout`-like change of 500 files at once (250 changed, 150 added, 100
            deleted) -> all in the index
The watcher runs with its defaults (debounce 1 s, filesystem events). Figures: docs/watch.md.
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

from common import REPO, percentile

WORDS = (
    "invoice contract tenant notice clause payment schedule warranty kettle filter pump valve budget audit "
    "meeting agenda quarter revenue policy leave holiday manager approval deadline report summary"
).split()


def env() -> dict:
    out = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    out.update(HF_HUB_OFFLINE="1")
    return out


def cli(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "localgpt.py"), *args]


def page(rng: random.Random, marker: str, words: int = 450) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return f"{marker} {text} {marker}\n"


def write_pdf(path: Path, rng: random.Random, marker: str, pages: int = 50) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for n in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 5, f"Page {n + 1}. " + page(rng, marker if n == pages // 2 else "", 300))
    tmp = path.with_name(path.name + ".part")  # as a download or a copy lands: written, then renamed
    pdf.output(str(tmp))
    os.replace(tmp, path)


def make_folder(folder: Path, files: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    for n in range(files):
        sub = folder / f"d{n % 50:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{n:05d}.txt").write_text(" ".join(rng.choice(WORDS) for _ in range(12)) + "\n", encoding="utf-8")


def move_root(db: Path, old: Path, new: Path) -> None:
    """The copied index, told its folder is the copy (the same files): spares a second first ingest."""
    import sqlite3

    with sqlite3.connect(db / "catalog.sqlite") as sql:
        sql.execute("UPDATE roots SET path = ? WHERE path = ?", (str(new.resolve()), str(old.resolve())))
        sql.execute("UPDATE files SET root = ? WHERE root = ?", (str(new.resolve()), str(old.resolve())))
    sql.close()


def ingest(folder: Path, db: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        cli("ingest", "--source-dir", str(folder), "--db", str(db), "--quiet"),
        env=env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"ingest failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started


class Reader:
    """A long-lived reader, as `serve` holds one: BM25 over the index, refreshed before each look."""

    def __init__(self, db: Path):
        from index import open_index

        self.index = open_index(db)

    def finds(self, word: str, source: str) -> bool:
        self.index.refresh()
        return any(c.chunk.source == source for c in self.index.lexical(word, 5))

    def close(self) -> None:
        self.index.close()


def wait_until(check, timeout: float = 600.0) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise SystemExit("timed out")
        time.sleep(0.02)
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds of the process and its live children (parse workers, while they run)."""
    total = cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for cpid in child.read_text().split():
            try:
                total += cpu_seconds(int(cpid))
            except OSError:
                pass
    return total


def memory(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


class Watching:
    def __init__(self, folder: Path, db: Path, log: Path):
        self.log = log
        self.handle = open(log, "w")
        self.proc = subprocess.Popen(
            cli("watch", "--source-dir", str(folder), "--db", str(db)),
            env=env(),
            stderr=self.handle,
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: " watching " in log.read_text() or self.proc.poll() is not None)
        if self.proc.poll() is not None:
            raise SystemExit(f"the watcher ended: {log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self.handle.close()


def latency(kind: str, runs: int, watched: Path, wdb: Path, plain: Path, pdb: Path) -> dict:
    rng = random.Random(kind)
    reader, plain_reader = Reader(wdb), None
    saved, ingested = [], []
    try:
        for n in range(runs):
            marker = f"zq{kind}{n}x{rng.randrange(10**6)}"
            name = f"new-{kind}-{n}.{'pdf' if kind == 'pdf' else 'txt'}"
            for folder in (watched, plain):  # the same file in both
                if kind == "pdf":
                    write_pdf(folder / name, random.Random(marker), marker)
                else:
                    (folder / name).write_text(page(random.Random(marker), marker), encoding="utf-8")
                if folder is watched:
                    started = time.perf_counter()
                    wait_until(lambda marker=marker, name=name: reader.finds(marker, name))
                    saved.append(time.perf_counter() - started)
            started = time.perf_counter()
            ingest(plain, pdb)
            plain_reader = plain_reader or Reader(pdb)
            assert plain_reader.finds(marker, name)
            ingested.append(time.perf_counter() - started)
    finally:
        reader.close()
        if plain_reader:
            plain_reader.close()
    return {"watch": saved, "ingest": ingested}


def checkout(watched: Path, wdb: Path, plain: Path, pdb: Path) -> dict:
    """250 changed, 150 added, 100 deleted, all at once, in both folders."""
    import sqlite3

    rng = random.Random(7)
    files = sorted(p.relative_to(watched) for p in watched.rglob("f*.txt"))
    changed, deleted = files[:250], files[250:350]
    for folder in (watched, plain):
        for rel in changed:
            (folder / rel).write_text("checked out " + " ".join(rng.choice(WORDS) for _ in range(14)) + "\n")
        for rel in deleted:
            (folder / rel).unlink()
        for n in range(150):
            (folder / "branch" / f"b{n:03d}.txt").parent.mkdir(exist_ok=True)
            (folder / "branch" / f"b{n:03d}.txt").write_text("branch " + " ".join(rng.choice(WORDS) for _ in range(14)))
        if folder is watched:
            started = time.perf_counter()
            want_gone = {r.as_posix() for r in deleted}
            want_new = {f"branch/b{n:03d}.txt" for n in range(150)}

            def done(want_new=want_new, want_gone=want_gone) -> bool:
                with sqlite3.connect(f"file:{wdb / 'catalog.sqlite'}?mode=ro", uri=True, timeout=5) as sql:
                    held = {r[0]: r[1] for r in sql.execute("SELECT source, size FROM files")}
                sizes_ok = all(held.get(r.as_posix()) == (watched / r).stat().st_size for r in changed)
                return sizes_ok and want_new <= set(held) and not (want_gone & set(held))

            watch_s = wait_until(done)
    return {"watch": watch_s, "ingest": ingest(plain, pdb), "since": started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pdf-runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--idle", type=float, default=60.0)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        base = Path(tmp)
        watched, wdb, plain, pdb = base / "watched", base / "wdb", base / "plain", base / "pdb"
        make_folder(watched, args.files)
        first = ingest(watched, wdb)
        print(f"first ingest of {args.files} files: {first:.1f} s", flush=True)
        shutil.copytree(watched, plain, copy_function=shutil.copy2)
        shutil.copytree(wdb, pdb)
        move_root(pdb, watched, plain)
        cron = ingest(plain, pdb)

        watcher = Watching(watched, wdb, base / "watch.log")
        try:
            time.sleep(2)  # past its start-up
            cpu0, t0 = tree_cpu(watcher.proc.pid), time.perf_counter()
            time.sleep(args.idle)
            idle_cpu, idle_s = tree_cpu(watcher.proc.pid) - cpu0, time.perf_counter() - t0
            mem = memory(watcher.proc.pid)
            print(
                f"idle, {args.files} files watched: {idle_cpu:.2f} CPU s over {idle_s:.0f} s "
                f"({100 * idle_cpu / idle_s:.2f}% of a core); RSS {mem['VmRSS']:.0f} MB, peak {mem['VmHWM']:.0f} MB; "
                f"one unchanged re-ingest (cron): {cron:.1f} s wall",
                flush=True,
            )
            for kind, runs in (("text", args.runs), ("pdf", args.pdf_runs)):
                got = latency(kind, runs, watched, wdb, plain, pdb)
                w, i = got["watch"], got["ingest"]
                print(
                    f"{kind}: save -> searchable with watch median {statistics.median(w):.2f} s, "
                    f"p95 {percentile(w, 95):.2f} s; localgpt ingest median {statistics.median(i):.2f} s, "
                    f"p95 {percentile(i, 95):.2f} s ({runs} saves)",
                    flush=True,
                )
            got = checkout(watched, wdb, plain, pdb)
            print(
                f"checkout of 500 files: watch {got['watch']:.1f} s; localgpt ingest {got['ingest']:.1f} s", flush=True
            )
            lines = [line for line in (base / "watch.log").read_text().splitlines() if "synced:" in line]
            print("watcher's last batches:\n  " + "\n  ".join(lines[-4:]))
        finally:
            watcher.stop()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
