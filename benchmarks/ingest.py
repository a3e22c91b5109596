"""Ingestion speed and memory: ours against the plain LangChain pipeline, in the same run.

    python benchmarks/ingest.py [--runs N] [--pdfs R-data] [--html 6] [--variants default,onnx,int8] [--stages]

Corpus: R manuals (PDF, Debian's r-doc-pdf) and Python library pages (HTML, python3.11-doc),
fetched once with `apt-get download` and unpacked with `dpkg -x` under
~/.cache/localgpt-bench/ (override with LOCALGPT_BENCH_CACHE).

For each pipeline, in a subprocess: wall time, chunks, chunks/s, peak RSS of the whole
process tree (main process and workers, sampled every 0.1 s). Then the bare embedder
(our default backend) embeds the very chunks we wrote: its rate is the ceiling our
pipeline is measured against. Ours and the bare embedder run once per variant (VARIANTS: the
defaults, i.e. OpenVINO in bfloat16 on a CPU that has it; ONNX Runtime in exact float32; the opt-in
int8 model; torch). `--stages` also prints where our ingest's time went (the "stages" of its
`--report`, core/stages.py), medians over the runs. Baseline: shared/bench/naive_langchain_ingest.py beside the checkout
(../shared, or ../../shared from a worktree; --naive PATH names another copy) (same
model). It needs langchain-chroma, langchain-community and langchain-huggingface, which
localgpt does not depend on: they are looked for in the venv, then in
~/.cache/localgpt-bench/naive-site (pip install --target there, --no-deps, so the venv is
left alone); without them the baseline is skipped with a message.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, on_path

on_path()

CACHE = Path(os.environ.get("LOCALGPT_BENCH_CACHE", Path.home() / ".cache" / "localgpt-bench"))
NAIVE_CANDIDATES = [up / "shared" / "bench" / "naive_langchain_ingest.py" for up in (REPO.parent, REPO.parent.parent)]
NAIVE_SITE = CACHE / "naive-site"
PACKAGES = {"r-doc-pdf": "usr/share/doc/r-doc-pdf/manual", "python3.11-doc": "usr/share/doc/python3.11/html/library"}
HTML_PAGES = [
    "json",
    "csv",
    "pathlib",
    "re",
    "datetime",
    "collections",
    "itertools",
    "functools",
    "argparse",
    "sqlite3",
    "os.path",
    "shutil",
    "string",
    "textwrap",
    "random",
    "statistics",
    "heapq",
    "bisect",
    "enum",
    "dataclasses",
]


def extracted() -> Path:
    """Unpack the two doc packages (downloading them with apt-get if missing)."""
    root, debs = CACHE / "ingest" / "extracted", CACHE / "debs"
    if all((root / sub).is_dir() for sub in PACKAGES.values()):
        return root
    debs.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        if not list(debs.glob(f"{package}_*.deb")):
            print(f"fetching {package} with apt-get download ...", file=sys.stderr)
            subprocess.run(["apt-get", "download", package], cwd=debs, check=True)
        (deb,) = sorted(debs.glob(f"{package}_*.deb"))[-1:]
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def make_corpus(pdfs: list[str], html: int) -> Path:
    root = extracted()
    corpus = CACHE / "ingest" / f"corpus-{'-'.join(pdfs)}-{html}html"
    if corpus.is_dir():
        return corpus
    work = Path(tempfile.mkdtemp(dir=corpus.parent))
    for name in pdfs:
        shutil.copy2(root / PACKAGES["r-doc-pdf"] / f"{name}.pdf", work / f"{name}.pdf")
    for page in HTML_PAGES[:html]:
        shutil.copy2(root / PACKAGES["python3.11-doc"] / f"{page}.html", work / f"{page}.html")
    work.rename(corpus)
    return corpus


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, read from /proc (Linux; 0 elsewhere)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as handle:
                total += next((int(line.split()[1]) * 1024 for line in handle if line.startswith("VmRSS:")), 0)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue  # the process ended while being read
    return total


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds, peak RSS (bytes) of the process tree, and the finished process."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=REPO)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.1)
    wall = time.perf_counter() - started
    out.seek(0), err.seek(0)
    done = subprocess.CompletedProcess(
        cmd, proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")
    )
    return wall, peak, done


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    env.update(extra)
    return env


VARIANTS = {  # name -> the settings ours and its bare embedder run with
    "default": {},
    "onnx": {"embedding_backend": "onnx"},
    "int8": {"embedding_precision": "int8"},
    "torch": {"embedding_backend": "torch"},
}


def variant_env(variant: str) -> dict[str, str]:
    return {f"LOCALGPT_{key.upper()}": value for key, value in VARIANTS[variant].items()}


def run_ours(corpus: Path, work: Path, variant: str) -> dict:
    db, report = work / f"ours-{variant}-db", work / f"ours-{variant}.json"
    shutil.rmtree(db, ignore_errors=True)
    cmd = [
        sys.executable,
        str(REPO / "localgpt.py"),
        "ingest",
        "--source-dir",
        str(corpus),
        "--db",
        str(db),
        "--quiet",
        "--report",
        str(report),
    ]
    wall, peak, done = measure(cmd, clean_env(**variant_env(variant)))
    if done.returncode not in (0, 3):
        raise SystemExit(f"our ingest failed ({done.returncode}): {done.stdout}{done.stderr}")
    data = json.loads(report.read_text())
    return {
        "wall": wall,
        "peak": peak,
        "chunks": data["chunks_written"],
        "db": db,
        "backend": f"{data['embedding_backend']} {data['embedding_compute']}",
        "stages": data.get("stages", {}),
        "elapsed": data["elapsed_s"],
    }


def naive_env() -> dict[str, str] | None:
    probe = "import langchain_chroma, langchain_community, langchain_huggingface"
    for extra in ({}, {"PYTHONPATH": str(NAIVE_SITE)}):
        env = clean_env(**extra)
        if subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True).returncode == 0:
            return env
    return None


def run_naive(corpus: Path, work: Path, model_dir: Path, env: dict[str, str], script: Path) -> dict:
    db = work / "naive-db"
    shutil.rmtree(db, ignore_errors=True)
    wall, peak, done = measure([sys.executable, str(script), str(corpus), str(db), str(model_dir)], env)
    if done.returncode != 0:
        raise SystemExit(f"the naive pipeline failed: {done.stderr[-2000:]}")
    line = [row for row in done.stdout.splitlines() if "chunks=" in row][-1]
    chunks = int(line.split("chunks=")[1].split()[0])
    return {"wall": wall, "peak": peak, "chunks": chunks}


STANDALONE = """
import json, sqlite3, sys, time
sys.path.insert(0, {repo!r})
from core.settings import load_settings
from embeddings import load_embedder
texts = [r[0] for r in sqlite3.connect({catalog!r}).execute("SELECT text FROM chunks")]
embedder = load_embedder(load_settings({overrides!r}, environ={{}}))
embedder.embed(texts[:8])  # load the model; not timed
started = time.perf_counter()
embedder.embed(texts)
print(json.dumps({{"seconds": time.perf_counter() - started, "chunks": len(texts), "backend": embedder.backend}}))
"""


def run_standalone(db: Path, variant: str) -> dict:
    code = STANDALONE.format(repo=str(REPO), catalog=str(db / "catalog.sqlite"), overrides=VARIANTS[variant])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"the standalone embedder failed: {done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return {"rate": data["chunks"] / data["seconds"], **data}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="repetitions (medians are reported)")
    parser.add_argument("--pdfs", default="R-data", help="R manuals to include (comma-separated)")
    parser.add_argument("--html", type=int, default=6, help="Python library pages to include")
    parser.add_argument(
        "--variants", default="default,onnx,int8", help=f"embedding set-ups to run ours with: {', '.join(VARIANTS)}"
    )
    parser.add_argument("--stages", action="store_true", help="print where our ingest's time went, stage by stage")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the naive pipeline (ours and the bare embedder only)"
    )
    parser.add_argument(
        "--naive",
        type=Path,
        default=next((p for p in NAIVE_CANDIDATES if p.exists()), None),
        help="the baseline script (default: shared/bench/naive_langchain_ingest.py beside the checkout)",
    )
    args = parser.parse_args()

    from core.settings import load_settings
    from embeddings.embedder import embedding_model_path, prepare_onnx

    corpus = make_corpus(args.pdfs.split(","), args.html)
    size = sum(p.stat().st_size for p in corpus.iterdir()) / 1e6
    print(f"corpus: {corpus} ({len(list(corpus.iterdir()))} files, {size:.1f} MB); {os.cpu_count()} CPUs")
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}: use {', '.join(VARIANTS)}")
    for variant in variants:
        settings = load_settings(VARIANTS[variant], environ={})
        print(f"ONNX export (cached, not timed): {prepare_onnx(settings)}")
    env = None if args.no_baseline or args.naive is None else naive_env()
    if not args.no_baseline and args.naive is None:
        print(
            "baseline skipped: no naive_langchain_ingest.py in "
            + " or ".join(str(p.parent) for p in NAIVE_CANDIDATES)
            + "; pass --naive PATH"
        )
    elif env is None and not args.no_baseline:
        print(
            "baseline skipped: langchain-chroma, langchain-community and langchain-huggingface are not importable.\n"
            f"  pip install --target {NAIVE_SITE} --no-deps langchain-chroma langchain-community langchain-huggingface "
            "langchain-classic SQLAlchemy httpx-sse dataclasses-json marshmallow typing-inspect mypy_extensions"
        )
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    naive: list[dict] = []
    ours: dict[str, list[dict]] = {p: [] for p in variants}
    alone: dict[str, list[dict]] = {p: [] for p in variants}
    try:
        for run in range(args.runs):
            if env is not None:
                naive.append(run_naive(corpus, work, embedding_model_path(load_settings(environ={})), env, args.naive))
                print(f"run {run + 1}: naive {naive[-1]['chunks']} chunks in {naive[-1]['wall']:.1f}s", flush=True)
            for variant in variants:
                ours[variant].append(run_ours(corpus, work, variant))
                done = ours[variant][-1]
                print(
                    f"run {run + 1}: ours ({variant}) {done['chunks']} chunks in {done['wall']:.1f}s ({done['backend']})",
                    flush=True,
                )
                alone[variant].append(run_standalone(done["db"], variant))
                bare = alone[variant][-1]
                print(
                    f"run {run + 1}: bare embedder ({variant}) {bare['chunks']} chunks in {bare['seconds']:.1f}s",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    rate = lambda rows: statistics.median(r["chunks"] / r["wall"] for r in rows)  # noqa: E731
    print(f"\nmedians of {args.runs} run(s), {size:.1f} MB of documents")
    print(
        f"{'pipeline':<16}{'chunks':>8}{'wall s':>9}{'chunks/s':>10}{'MB/s':>7}{'peak MB':>9}{'bare chunks/s':>15}{'share':>7}"
    )
    rows = ([("naive", naive, None)] if naive else []) + [(f"ours {p}", ours[p], alone[p]) for p in variants]
    for name, runs, bare in rows:
        bare_rate = statistics.median(r["rate"] for r in bare) if bare else None
        extra = f"{bare_rate:>15.1f}{100 * rate(runs) / bare_rate:>6.0f}%" if bare_rate else ""
        print(
            f"{name:<16}{med(runs, 'chunks'):>8.0f}{med(runs, 'wall'):>9.1f}{rate(runs):>10.1f}{size / med(runs, 'wall'):>7.2f}"
            f"{med(runs, 'peak') / 1e6:>9.0f}{extra}"
        )
    for p in variants:
        bare_rate = statistics.median(r["rate"] for r in alone[p])
        line = f"ours {p}: {100 * rate(ours[p]) / bare_rate:.0f}% of the bare embedder (target >= 85%)"
        if naive:
            line += (
                f"; {rate(ours[p]) / rate(naive):.2f}x naive chunks/s (target >= 3x), "
                f"{med(naive, 'wall') / med(ours[p], 'wall'):.2f}x by wall time; "
                f"peak memory {med(ours[p], 'peak') / med(naive, 'peak'):.2f}x naive (target < 1)"
            )
        print(line)
    if args.stages:
        for p in variants:
            print_stages(p, ours[p])


def print_stages(variant: str, runs: list[dict]) -> None:
    """The stage table of one variant: medians over the runs, each with its share of the ingest's
    wall time (worker stages are CPU seconds summed over the workers, so they can exceed it)."""
    names = sorted({name for r in runs for name in r["stages"]})
    elapsed = statistics.median(r["elapsed"] for r in runs)
    print(f"\nours {variant}: where the time went (medians of {len(runs)} run(s); ingest {elapsed:.1f} s)")
    print(f"  {'stage':<50}{'seconds':>9}{'share':>8}")
    main_sum = 0.0
    for name in names:
        seconds = statistics.median(r["stages"].get(name, 0.0) for r in runs)
        if name.startswith("main "):
            main_sum += seconds
        print(f"  {name:<50}{seconds:>9.2f}{100 * seconds / elapsed:>7.0f}%")
    other = max(0.0, elapsed - main_sum)
    print(f"  {'main, not in a stage':<50}{other:>9.2f}{100 * other / elapsed:>7.0f}%")


if __name__ == "__main__":
    main()
