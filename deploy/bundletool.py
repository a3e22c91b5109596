#!/usr/bin/env python3
"""Small helpers for make-bundle.sh and install.sh (standard library only: it runs before anything is installed).

bundletool.py platform WHEELDIR > PLATFORM     what the bundle targets, from this Python and the wheels
bundletool.py check PLATFORM                   exit 1, saying why, if this Python cannot use the bundle
bundletool.py requirements WHEELDIR > FILE     name==version --hash=sha256:... for every wheel
bundletool.py lock-target LOCK                 the python and platform a requirements.lock was made for
bundletool.py llama-wheel LOCK                 build llama-cpp-python (the lock's version, its sdist hash
                                               checked) with $CMAKE_ARGS, default the portable build, once:
                                               kept in ~/.cache/localgpt/wheels; prints the wheel's path
bundletool.py lock-without-llama LOCK > FILE   the lock less llama-cpp-python (installed from llama-wheel)
bundletool.py carry-libraries WHEEL DIR        write WHEEL to DIR with the shared libraries it needs that a
                                               minimal Linux lacks (libgomp.so.1) inside it, as `auditwheel
                                               repair` does (needs patchelf); prints the new wheel's path
"""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# manylinux tags that predate the glibc-numbered form (PEP 600).
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def this_platform() -> dict[str, str]:
    libc, libc_version = platform.libc_ver()
    return {
        "os": platform.system().lower(),
        "arch": platform.machine(),
        "python": "%d.%d" % sys.version_info[:2],
        "implementation": sys.implementation.name,
        "libc": f"{libc}-{libc_version}" if libc else "",
    }


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def glibc_needed(wheel_dir: Path, build_libc: str) -> str:
    """The oldest glibc every wheel runs on: the highest manylinux tag, and this machine's for wheels built here."""
    needed: tuple[int, ...] = ()
    for wheel in wheel_dir.glob("*.whl"):
        platform_tags = wheel.stem.split("-")[-1].split(".")
        for tag in platform_tags:
            match = re.match(r"manylinux_(\d+)_(\d+)_", tag)
            legacy = next((v for k, v in _LEGACY_MANYLINUX.items() if tag.startswith(k + "_")), None)
            if match:
                needed = max(needed, (int(match[1]), int(match[2])))
            elif legacy:
                needed = max(needed, legacy)
            elif tag.startswith("linux_") and build_libc.startswith("glibc-"):
                needed = max(needed, _version(build_libc)[:2])
    return "glibc-%d.%d" % needed if needed else ""


def platform_record(wheel_dir: Path) -> str:
    here = this_platform()
    record = {**here, "libc": glibc_needed(wheel_dir, here["libc"])}
    return "".join(f"{key}={value}\n" for key, value in record.items())


def read_record(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def describe(record: dict[str, str]) -> str:
    text = f"{record.get('os', '?').capitalize()} {record.get('arch', '?')}, Python {record.get('python', '?')}"
    return text + (f" ({record['libc']} or newer)" if record.get("libc") else "")


def mismatch(bundle: dict[str, str], here: dict[str, str]) -> str:
    """Why this machine cannot use the bundle, or ''."""
    for key in ("os", "arch", "python", "implementation"):
        if bundle.get(key) and bundle[key] != here[key]:
            return f"{key} differs"
    needed = bundle.get("libc", "")
    if needed.startswith("glibc-"):
        if not here["libc"].startswith("glibc-"):
            return "this system has no glibc"
        if _version(here["libc"]) < _version(needed):
            return f"this system has {here['libc']}"
    return ""


def check(path: Path) -> int:
    bundle, here = read_record(path), this_platform()
    reason = mismatch(bundle, here)
    if not reason:
        return 0
    print(
        f"This bundle is for {describe(bundle)}; this machine is {describe(here)} ({sys.executable}): {reason}.\n"
        "Make a bundle on a machine of the same platform, or point PYTHON at a matching interpreter "
        "(PYTHON=/usr/bin/python3.11 ./install.sh PREFIX).",
        file=sys.stderr,
    )
    return 1


def requirements(wheel_dir: Path) -> str:
    lines = []
    for wheel in sorted(wheel_dir.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name.replace('_', '-').lower()}=={version} --hash=sha256:{digest}\n")
    return "".join(lines)


def lock_target(lock: Path) -> str:
    for line in lock.read_text().splitlines():
        if line.startswith("# target:"):
            return line.split(":", 1)[1].strip()
    return ""


# llama.cpp for any x86-64 CPU: no -march=native, one CPU library per CPU generation, the best loaded at run time
# (generation/backends/llama_native.py loads them). About 10 minutes to build on 2 cores, once per machine.
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"
LLAMA = "llama-cpp-python"


def _lock_entries(lock: Path) -> list[list[str]]:
    """The lock's lines grouped by entry (a pin with its hash and comment lines); the header is one group."""
    entries: list[list[str]] = [[]]
    for line in lock.read_text().splitlines(keepends=True):
        if re.match(r"[A-Za-z0-9]", line):
            entries.append([])
        entries[-1].append(line)
    return entries


def lock_without_llama(lock: Path) -> str:
    return "".join("".join(e) for e in _lock_entries(lock) if not (e and e[0].startswith(LLAMA + "==")))


def llama_wheel(lock: Path, python: str | Path = sys.executable) -> str:
    """The wheel of the lock's llama-cpp-python built with $CMAKE_ARGS (default: portable); built once per
    version, sdist hash and arguments, kept in $XDG_CACHE_HOME/localgpt/wheels (pip's own cache would hand
    back a wheel built with other arguments)."""
    entry = next((e for e in _lock_entries(lock) if e and e[0].startswith(LLAMA + "==")), None)
    if entry is None:
        raise SystemExit(f"{lock} pins no {LLAMA}")
    args = os.environ.get("CMAKE_ARGS") or PORTABLE_CMAKE_ARGS
    key = hashlib.sha256(("".join(entry) + args).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "localgpt" / "wheels" / f"{LLAMA}-{key}"
    built = sorted(cache.glob("*.whl"))
    if built:
        return str(built[-1])
    cache.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{LLAMA}-", dir=cache.parent))
    (work / "pin.txt").write_text("".join(line for line in entry if not line.lstrip().startswith("#")))
    print(
        f"Building {entry[0].split()[0]} with CMAKE_ARGS={args!r} (once; about 10 minutes on 2 cores)", file=sys.stderr
    )
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "--no-deps",
            "--require-hashes",
            "-r",
            str(work / "pin.txt"),
            "--wheel-dir",
            str(work),
        ],
        check=True,
        env={**os.environ, "CMAKE_ARGS": args, "FORCE_CMAKE": "1"},
    )
    (work / "pin.txt").unlink()
    (work / "CMAKE_ARGS").write_text(args + "\n")
    os.replace(work, cache)  # whole or not at all: a build killed midway leaves only a temporary folder
    return str(next(cache.glob("*.whl")))


# Shared libraries a wheel may take from the system: glibc's own, and GCC's C++ runtime, which every glibc Linux
# that runs Python has (the manylinux policies' list, less its X11 and GL). Any other library a wheel's code
# links is carried in the wheel. A debootstrap minbase with python3 has these and not libgomp.so.1 (OpenMP).
SYSTEM_LIBRARIES = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libutil.so.1",
    "libresolv.so.2",
    "libnsl.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
}
# Never carried. The GPU driver's libraries come with the driver on the target machine and must match it.
# OpenSSL comes with Python itself (its ssl module links it), and a carried copy would miss the system's
# security fixes; in llama-cpp-python only libllama-common links it (llama.cpp's model downloader, which the
# bindings never load).
NOT_CARRIED = re.compile(r"^lib(cuda|nvidia-[\w-]+|nvcuvid|vulkan|ssl|crypto)\.so")


def _patchelf(*args: str | Path) -> str:
    tool = shutil.which("patchelf")
    if tool is None:
        raise SystemExit(
            "make-bundle needs patchelf to carry llama.cpp's OpenMP library in the bundle: "
            "apt-get install patchelf (or dnf install patchelf, or pip install patchelf)"
        )
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, check=True).stdout.strip()


def _is_elf(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(4) == b"\x7fELF"


def _system_path(elf: Path, library: str) -> Path:
    """Where the dynamic loader finds `library` for `elf` on this machine (ldd, as the loader resolves it)."""
    done = subprocess.run(["ldd", str(elf)], capture_output=True, text=True)
    for line in done.stdout.splitlines():
        name, _, rest = line.strip().partition(" => ")
        if name == library and rest.startswith("/"):
            return Path(rest.split(" (")[0]).resolve()
    raise SystemExit(f"{elf.name} needs {library}, which this machine does not have: install it, then make the bundle")


def _record_line(root: Path, path: Path) -> str:
    data = path.read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path.relative_to(root).as_posix()},sha256={digest},{len(data)}\n"


def carry_libraries(wheel: Path, out_dir: Path) -> str:
    """Copy `wheel` to `out_dir` with the shared libraries its ELF files need beyond SYSTEM_LIBRARIES (and beyond
    its own) carried in `<dist>.libs/` under a name of their own (libgomp-<hash>.so.1, so another copy in the same
    process cannot stand in), each ELF pointed at them (DT_NEEDED renamed, RUNPATH $ORIGIN-relative). The wheel
    unchanged (copied) if it needs nothing. Prints what it carried on stderr; returns the new wheel's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel.name
    with tempfile.TemporaryDirectory(prefix="carry-") as tmp, zipfile.ZipFile(wheel) as source:
        root = Path(tmp)
        source.extractall(root)
        infos = {info.filename: info for info in source.infolist()}
        elves = [root / name for name in infos if not name.endswith("/") and _is_elf(root / name)]
        for elf in elves:  # installed elsewhere than site-packages: a relative RUNPATH could not be known
            if re.search(r"\.data/(data|scripts|headers)/", elf.relative_to(root).as_posix()):
                raise SystemExit(f"{wheel.name}: {elf.relative_to(root)} is installed outside site-packages")
        inside = {elf.name for elf in elves}
        libs = root / f"{wheel.name.split('-')[0]}.libs"
        carried: dict[str, str] = {}  # the name an ELF needs -> the carried copy's name
        pending = list(elves)
        while pending:
            elf = pending.pop()
            for needed in _patchelf("--print-needed", elf).split():
                if needed in inside or needed in SYSTEM_LIBRARIES or needed in carried or NOT_CARRIED.match(needed):
                    continue
                found = _system_path(elf, needed)
                stem, _, suffix = needed.partition(".so")
                name = f"{stem}-{hashlib.sha256(found.read_bytes()).hexdigest()[:8]}.so{suffix}"
                libs.mkdir(exist_ok=True)
                shutil.copyfile(found, libs / name)
                _patchelf("--set-soname", name, libs / name)
                carried[needed] = name
                pending.append(libs / name)
                print(f"    carried {needed} ({found}) as {libs.name}/{name}", file=sys.stderr)
        if not carried:
            shutil.copyfile(wheel, target)
            return str(target)
        for elf in elves + [libs / name for name in carried.values()]:
            needs = set(_patchelf("--print-needed", elf).split())
            renames = [arg for old, new in carried.items() if old in needs for arg in ("--replace-needed", old, new)]
            if not renames:
                continue
            relative = os.path.relpath(libs, elf.parent)
            rpath = [entry for entry in _patchelf("--print-rpath", elf).split(":") if entry]
            wanted = "$ORIGIN" if relative == "." else f"$ORIGIN/{relative}"
            # One change per call: Debian 12's patchelf (0.14) garbles the names when given both at once.
            _patchelf("--set-rpath", ":".join(dict.fromkeys([*rpath, wanted])), elf)
            _patchelf(*renames, elf)
        record = next(name for name in infos if name.endswith(".dist-info/RECORD"))
        files = [root / name for name in infos if not name.endswith("/") and name != record]
        files += sorted(libs.iterdir())
        (root / record).write_text("".join(_record_line(root, path) for path in files) + f"{record},,\n")
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
            for path in files + [root / record]:  # RECORD last, as wheels have it
                name = path.relative_to(root).as_posix()
                info = zipfile.ZipInfo(
                    name, date_time=infos[name].date_time if name in infos else (1980, 1, 1, 0, 0, 0)
                )
                info.external_attr = infos[name].external_attr if name in infos else 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, path.read_bytes())
        os.replace(partial, target)
    return str(target)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "carry-libraries":
        print(carry_libraries(Path(argv[1]), Path(argv[2])))
        return 0
    if len(argv) != 2 or argv[0] not in (
        "platform",
        "check",
        "requirements",
        "lock-target",
        "llama-wheel",
        "lock-without-llama",
    ):
        print(__doc__, file=sys.stderr)
        return 2
    command, arg = argv[0], Path(argv[1])
    if command == "check":
        return check(arg)
    output = {
        "platform": platform_record,
        "requirements": requirements,
        "lock-target": lock_target,
        "llama-wheel": llama_wheel,
        "lock-without-llama": lock_without_llama,
    }[command](arg)
    sys.stdout.write(output if output.endswith("\n") or not output else output + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
