"""Build the real-documents collection for the dev set in benchmarks/realdocs.

    python benchmarks/realdocs/corpus.py DEST [--debs DIR] [--cache DIR]

Takes seven Debian packages (the R manuals as PDF; the Python library reference, the
Debian Reference, the PostgreSQL manual, the Debian Policy Manual and the Debian
installation guide as HTML; the Filesystem Hierarchy Standard and the licence texts of
base-files as plain text), extracts them with `dpkg -x` and copies a fixed selection of
files into DEST under stable names, one top-level folder per collection (r/, python/,
debian/, postgresql/, licenses/, policy/, fhs/, install/). Without --debs it fetches the packages with
`apt-get download` into a cache folder first.

The questions in answerable.jsonl were written against the package versions in
PACKAGES; another version may move or change a passage, and check.py will say so.
Pure standard library: it imports nothing from the project.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# package -> the version the questions were written against
PACKAGES = {
    "r-doc-pdf": "4.2.2.20221110-2",
    "python3.11-doc": "3.11.2-6+deb12u9",
    "debian-reference-en": "2.100",
    "postgresql-doc-15": "15.20-0+deb12u1",
    "debian-policy": "4.6.2.0",
    "base-files": "12.4+deb12u15",
    "installation-guide-amd64": "20230508+deb12u1",
}

PYTHON_PAGES = [
    "pathlib",
    "json",
    "csv",
    "time",
    "re",
    "subprocess",
    "logging",
    "sqlite3",
    "collections",
    "itertools",
    "functools",
    "random",
    "statistics",
    "shutil",
    "zipfile",
    "tarfile",
    "hashlib",
    "http.server",
    "threading",
    "math",
    "venv",
    "tempfile",
    "glob",
    "textwrap",
    "heapq",
    "enum",
    "dataclasses",
    "secrets",
    "uuid",
    "timeit",
]
DEBIAN_CHAPTERS = ["ch02", "ch03", "ch04", "ch05"]  # package management, initialization, authentication, network
POSTGRESQL_PAGES = [
    "runtime-config-connection",
    "auth-pg-hba-conf",
    "app-pgdump",
    "backup-dump",
    "routine-vacuuming",
    "sql-vacuum",
    "datatype-numeric",
    "datatype-datetime",
    "indexes-types",
    "sql-copy",
    "runtime-config-resource",
    "app-initdb",
    "server-start",
    "datatype-character",
    "transaction-iso",
]

# base-files' /usr/share/common-licenses, less GPL-1, LGPL-2, MPL-1.1, GFDL-1.2 and BSD
# (older versions and a short notice, left out so that questions about them are unanswerable)
LICENSES = ["GPL-2", "GPL-3", "LGPL-2.1", "LGPL-3", "Apache-2.0", "MPL-2.0", "Artistic", "CC0-1.0", "GFDL-1.3"]
# the Debian Policy Manual's chapters (the appendices and the upgrading checklist are left out)
POLICY_CHAPTERS = [
    "ch-scope",
    "ch-archive",
    "ch-binary",
    "ch-source",
    "ch-controlfields",
    "ch-relationships",
    "ch-sharedlibs",
    "ch-opersys",
    "ch-files",
    "ch-customized-programs",
    "ch-docs",
    "ch-maintainerscripts",
]

# the installation guide (English, 64-bit PC): requirements, media, boot parameters, firmware,
# rescue, partitioning (its GPL appendix and most installer walk-through pages left out)
INSTALL_PAGES = [
    "ch02s01",
    "ch02s05",
    "ch03s03",
    "ch03s04",
    "ch04s03",
    "ch04s07",
    "ch05s02",
    "ch05s03",
    "ch05s04",
    "ch06s04",
    "ch07s02",
    "ch08s06",
    "apbs02",
    "apcs01",
    "apcs03",
    "apcs04",
    "apds02",
]

# destination (relative to DEST) -> (package, path inside the extracted package)
SELECTION: dict[str, tuple[str, str]] = {
    "r/R-intro.pdf": ("r-doc-pdf", "usr/share/R/doc/manual/R-intro.pdf"),
    "r/R-data.pdf": ("r-doc-pdf", "usr/share/R/doc/manual/R-data.pdf"),
    **{f"python/{p}.html": ("python3.11-doc", f"usr/share/doc/python3.11/html/library/{p}.html") for p in PYTHON_PAGES},
    **{
        f"debian/{c}.en.html": ("debian-reference-en", f"usr/share/doc/debian-reference-en/docs/{c}.en.html")
        for c in DEBIAN_CHAPTERS
    },
    **{
        f"postgresql/{p}.html": ("postgresql-doc-15", f"usr/share/doc/postgresql-doc-15/html/{p}.html")
        for p in POSTGRESQL_PAGES
    },
    **{f"licenses/{name}.txt": ("base-files", f"usr/share/common-licenses/{name}") for name in LICENSES},
    **{
        f"policy/{c}.html": ("debian-policy", f"usr/share/doc/debian-policy/policy.html/{c}.html")
        for c in POLICY_CHAPTERS
    },
    **{
        f"install/{p}.html": ("installation-guide-amd64", f"usr/share/doc/installation-guide-amd64/en/{p}.html")
        for p in INSTALL_PAGES
    },
    # gzip-compressed in the package; copied decompressed
    "fhs/fhs-3.0.txt": ("debian-policy", "usr/share/doc/debian-policy/fhs/fhs-3.0.txt.gz"),
}

MANIFEST = ".manifest.json"  # hidden: ingest skips it


class CorpusError(Exception):
    pass


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise CorpusError(f"{cmd[0]} is not installed; this script needs Debian's apt-get and dpkg.") from None
    except subprocess.CalledProcessError as exc:
        raise CorpusError(f"{' '.join(cmd)} failed: {exc.stderr.strip() or exc.returncode}") from None
    return done.stdout


def find_debs(debs: Path) -> dict[str, Path]:
    """package name -> its .deb in DEBS (the newest by name when several)."""
    found = {}
    for package in PACKAGES:
        candidates = sorted(debs.glob(f"{package}_*.deb"))
        if not candidates:
            raise CorpusError(
                f"No {package}_*.deb in {debs}. Run without --debs to download it, "
                f"or `apt-get download {package}` there."
            )
        found[package] = candidates[-1]
    return found


def download(cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    missing = [p for p in PACKAGES if not list(cache.glob(f"{p}_*.deb"))]
    if missing:
        print(f"apt-get download {' '.join(missing)} into {cache}", file=sys.stderr)
        _run(["apt-get", "download", *missing], cwd=cache)
    return cache


def deb_version(deb: Path) -> str:
    return _run(["dpkg-deb", "-f", str(deb), "Version"]).strip()


def _inside(root: Path, relative: str) -> Path:
    """The file at ROOT/RELATIVE, following symbolic links as they resolve inside ROOT."""
    path = root / relative
    for _ in range(20):
        if not path.is_symlink():
            return path
        target = Path(path.readlink())
        path = (root / str(target).lstrip("/")) if target.is_absolute() else (path.parent / target)
    raise CorpusError(f"Too many symbolic links at {relative}.")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(dest: Path, debs: dict[str, Path]) -> dict:
    versions = {package: deb_version(deb) for package, deb in debs.items()}
    for package, version in versions.items():
        if version != PACKAGES[package]:
            print(
                f"warning: {package} is {version}; the questions were written against {PACKAGES[package]}. "
                f"Run check.py to see whether every answer is still there.",
                file=sys.stderr,
            )
    dest.mkdir(parents=True, exist_ok=True)
    files = {}
    with tempfile.TemporaryDirectory(prefix="realdocs-") as tmp:
        for package, deb in debs.items():
            root = Path(tmp) / package
            _run(["dpkg", "-x", str(deb), str(root)])
            for name, (owner, inner) in SELECTION.items():
                if owner != package:
                    continue
                source = _inside(root, inner)
                if not source.is_file():
                    raise CorpusError(f"{inner} is not in {deb.name}.")
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.suffix == ".gz" and target.suffix != ".gz":
                    with gzip.open(source, "rb") as packed, target.open("wb") as out:
                        shutil.copyfileobj(packed, out)
                else:
                    shutil.copyfile(source, target)
                files[name] = {
                    "package": package,
                    "path": inner,
                    "sha256": sha256(target),
                    "bytes": target.stat().st_size,
                }
    manifest = {"packages": versions, "files": dict(sorted(files.items()))}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="folder to create (the collection to ingest)")
    parser.add_argument("--debs", type=Path, help="folder holding the seven .deb files (skips apt-get download)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "localgpt-realdocs",
        help="where apt-get download puts the packages when --debs is not given",
    )
    args = parser.parse_args(argv)
    try:
        debs = find_debs(args.debs if args.debs else download(args.cache))
        manifest = build(args.dest, debs)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = sum(f["bytes"] for f in manifest["files"].values())
    print(f"{len(manifest['files'])} files, {total / 1e6:.1f} MB in {args.dest} (list in {args.dest / MANIFEST})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
