"""llama.cpp's native libraries: which CPU they were built for, and the CPU variants of a portable build.

A portable build (`GGML_NATIVE=OFF GGML_BACKEND_DL=ON GGML_CPU_ALL_VARIANTS=ON`, what deploy/make-bundle.sh
makes) carries its CPU code as one library per CPU generation, libggml-cpu-<variant>.so, and llama.cpp
loads the best one the CPU can run. llama-cpp-python's wheel puts them in site-packages/bin, where
llama.cpp does not look (it searches the Python executable's folder and the working folder), so
`load_cpu_backends` loads them from there, through the very libggml that libllama uses (the wheel
holds copies of it under two names; a second copy would have a registry llama never reads).

A native build (pip's default, `-march=native`) has one libggml-cpu.so made for the building CPU: on
an older CPU it dies with an illegal instruction. `probe()` runs in a child process so a caller
survives that (doctor, install.sh).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from generation.backends.system_libraries import install_hint, missing_library

log = logging.getLogger(__name__)

VARIANT = re.compile(r"^libggml-cpu-(.+)\.so$")
ILLEGAL_INSTRUCTION = (-4, 132)  # SIGILL: killed directly, or through a shell
REPORT_COMMAND = "import sys; from generation.backends.llama_native import main; sys.exit(main())"
NOT_INSTRUCTIONS = {"LLAMAFILE", "OPENMP", "REPACK", "ACCELERATE", "KLEIDIAI"}  # in llama.cpp's list, not CPU features


@dataclass
class Build:
    """What the installed llama-cpp-python carries, read from its files (nothing loaded)."""

    package: Path | None
    variants: dict[str, Path] = field(default_factory=dict)  # variant name -> its library

    @property
    def installed(self) -> bool:
        return self.package is not None

    @property
    def portable(self) -> bool:
        return bool(self.variants)

    def describe(self) -> str:
        if not self.installed:
            return "not installed"
        if self.portable:
            return (
                f"portable: any x86-64 CPU, {len(self.variants)} CPU variants chosen at run time "
                f"({', '.join(sorted(self.variants))})"
            )
        return "native: built for the CPU that built it (-march=native); another CPU may lack its instructions"


def _package_dir() -> Path | None:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0])


def installed_build(package: Path | None = None) -> Build:
    package = package if package is not None else _package_dir()
    if package is None:
        return Build(None)
    variants: dict[str, Path] = {}
    for folder in (package / "lib", package.parent / "bin"):  # beside libggml, or the wheel's data folder
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                match = VARIANT.match(path.name)
                if match:
                    variants.setdefault(match[1], path)
    return Build(package, variants)


# Variants this build carries that must not run. sapphirerapids: its AMX code faults with an illegal
# instruction (tileloadd) on Sapphire Rapids under Linux 6.x, seen on an Intel Xeon VM with AMX enabled
# (kernel 6.18): llama.cpp requests AMX permission on the main thread only and its tile configuration can be
# optimised away (llama.cpp pull request 26954). Its next best variant there (AVX-512 with bfloat16) ran.
SKIPPED_VARIANTS = {"sapphirerapids": "AMX faults (illegal instruction) in this llama.cpp"}


def variant_scores(build: Build) -> dict[str, int]:
    """Each variant's own score for this CPU (0: it cannot run here), asked from its library as llama.cpp
    does when it picks one, and closed again."""
    import _ctypes
    import ctypes

    from llama_cpp import llama_cpp as _bindings  # noqa: F401  (loads libggml-base, which variants need)

    scores = {}
    for name, path in build.variants.items():
        try:
            library = ctypes.CDLL(str(path))
        except OSError:
            continue
        try:
            score = library.ggml_backend_score
            score.restype = ctypes.c_int
            scores[name] = score()
        except AttributeError:
            pass
        finally:
            _ctypes.dlclose(library._handle)
    return scores


def best_variant(scores: dict[str, int]) -> str | None:
    """The highest-scoring variant that can run here, the skipped ones left out."""
    usable = {name: score for name, score in scores.items() if score > 0 and name not in SKIPPED_VARIANTS}
    return max(usable, key=usable.get) if usable else None


def load_cpu_backends() -> str | None:
    """Load a portable build's best CPU variant for this CPU if llama.cpp has no backend yet.
    Returns the variant's library, None when nothing was needed. Idempotent."""
    build = installed_build()
    if not build.portable:
        return None
    import ctypes

    from llama_cpp import llama_cpp as bindings

    lib = bindings._lib  # libllama: its symbol lookup reaches the libggml it was linked with
    lib.ggml_backend_reg_count.restype = ctypes.c_size_t
    if lib.ggml_backend_reg_count() > 0:
        return None
    chosen = best_variant(variant_scores(build))
    if chosen is None:
        from core.errors import ModelLoadError

        raise ModelLoadError(
            f"None of llama.cpp's CPU variants ({', '.join(sorted(build.variants))}) runs on this CPU. "
            "Reinstall llama-cpp-python built on this machine (see docs/deploy.md)."
        )
    lib.ggml_backend_load.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_load.restype = ctypes.c_void_p
    # llama-cpp-python routes llama.cpp's log through this logger; Llama(verbose=False) quiets it, later
    quiet = logging.getLogger("llama-cpp-python")
    level = quiet.level
    quiet.setLevel(max(level, logging.ERROR))  # no "load_backend: loaded CPU backend" line on every answer
    try:
        loaded = lib.ggml_backend_load(str(build.variants[chosen]).encode())
    finally:
        quiet.setLevel(level)
    if not loaded:
        from core.errors import ModelLoadError

        raise ModelLoadError(f"llama.cpp could not load its {chosen} CPU variant from {build.variants[chosen]}.")
    log.debug("llama.cpp CPU variant %s loaded from %s", chosen, build.variants[chosen])
    return str(build.variants[chosen])


def loaded_variant() -> str:
    """The CPU variant this process loaded ('' for a native build), from the mapped libraries."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return ""
    names = {m[1] for m in re.finditer(r"/libggml-cpu-([^/\s]+)\.so\s*$", maps, re.MULTILINE)}
    return ",".join(sorted(names))


def probe_here() -> None:
    """Load llama.cpp in this process as an answer would and print what it runs with (JSON): probe's child."""
    load_cpu_backends()
    import llama_cpp

    llama_cpp.llama_backend_init()
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    print(json.dumps({"variant": loaded_variant(), "system_info": info.strip()}))


@dataclass
class Probe:
    ok: bool
    variant: str = ""  # the CPU variant chosen (portable builds)
    compiled: str = ""  # llama.cpp's own list of the CPU features it runs with
    problem: str = ""
    missing_library: str = ""  # a shared library the system lacks (libgomp.so.1): not the CPU's fault
    illegal_instruction: bool = False  # built for a CPU with instructions this one lacks


def probe(python: str | None = None, timeout: float = 60) -> Probe:
    """Load llama.cpp in a child process: whether this CPU can run the installed build, and with what."""
    code = "from generation.backends.llama_native import probe_here; probe_here()"
    root = str(Path(__file__).resolve().parents[2])  # the folder holding generation/, for the child
    try:
        done = subprocess.run(
            [python or sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=root
        )
    except subprocess.TimeoutExpired:
        return Probe(False, problem=f"loading llama.cpp took over {timeout:.0f} s")
    if done.returncode in ILLEGAL_INSTRUCTION:
        return Probe(
            False,
            problem="llama.cpp died with an illegal instruction: it was built for a CPU with instructions "
            "this one lacks. Install a portable build (docs/deploy.md, 'Any x86-64 CPU').",
            illegal_instruction=True,
        )
    if done.returncode != 0 and missing_library(done.stderr):
        library = missing_library(done.stderr)
        return Probe(
            False,
            problem=f"llama.cpp could not be loaded: this system lacks the shared library {library}, which it "
            f"needs (the CPU is fine). To fix, {install_hint(library)}; or install from a bundle made by "
            "deploy/make-bundle.sh, which carries it.",
            missing_library=library,
        )
    if done.returncode != 0:
        return Probe(
            False,
            problem=f"llama.cpp could not be loaded (exit {done.returncode}): "
            f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}",
        )
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Probe(False, problem=f"llama.cpp's probe printed no report: {done.stdout[-200:]!r}")
    features = re.search(r"CPU : (.*?)(?:\| \S+ : |$)", data["system_info"])
    flags = re.finditer(r"(\w+) = 1", features[1] if features else data["system_info"])
    compiled = " ".join(m[1] for m in flags if m[1] not in NOT_INSTRUCTIONS)
    return Probe(True, variant=data["variant"], compiled=compiled)


# install.sh's check (REPORT_COMMAND) exits with one of these when llama.cpp does not run, and says why.
EXIT_CPU = 1  # an illegal instruction: built for a CPU with instructions this one lacks
EXIT_LIBRARY_MISSING = 3  # the system lacks a shared library llama.cpp needs (named)
EXIT_LOAD_FAILED = 4  # not installed, or another failure to load (its message shown)


def main() -> int:
    """This CPU, the installed build, whether it runs here: install.sh's check, as REPORT_COMMAND. Exit 0 if it
    runs; otherwise EXIT_CPU, EXIT_LIBRARY_MISSING or EXIT_LOAD_FAILED."""
    from core.cpu import shown_features

    build = installed_build()
    print(f"CPU features: {' '.join(shown_features()) or 'none of the vector extensions'}")
    print(f"llama.cpp build: {build.describe()}")
    if not build.installed:
        return EXIT_LOAD_FAILED
    found = probe()
    if not found.ok:
        print(f"llama.cpp on this CPU: {found.problem}")
        if found.missing_library:
            return EXIT_LIBRARY_MISSING
        return EXIT_CPU if found.illegal_instruction else EXIT_LOAD_FAILED
    variant = f"the {found.variant} variant, " if found.variant else ""
    print(f"llama.cpp on this CPU: runs ({variant}built for: {found.compiled or '-'})")
    return 0
