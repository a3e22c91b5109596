"""The proof of the air-gapped install: build the bundle, carry it out of the repository, install it
and run ingest and ask with the installed `localgpt`, all inside a network namespace with nothing
but a loopback interface that is down (`unshare -n`).

Anything reaching for the network fails there; with strace present, every connect/sendto to an
internet address is also recorded, and one attempt fails the test even if the program swallowed
the error. Where qemu-user is installed (CI installs it), the installed bundle also answers under
`qemu-x86_64 -cpu max`: a CPU without AVX-512, whatever CPU runs the test. Deselect with `-m "not bundle"`; CI runs it. Step times are printed (pytest -s shows them).

The same bundle then goes where users take it: a minimal Linux with only Python (Debian bookworm minbase
with python3, no libgomp, no python3-venv: deploy/base-rootfs.sh, made with debootstrap once per machine and
kept in ~/.cache/localgpt/rootfs), installed and asked in a chroot of it with no network; and the container,
built from it on that base by deploy/build-container.sh (podman import, buildah bud and buildah run inside
`unshare -n`; `podman run` cannot run in this sandbox). Both need root; the container needs buildah and
podman, and CI installs them (.ci/run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generation.backends.llama_native import installed_build

from conftest import (
    CAN_UNSHARE,
    EMULATED_ASK,
    EMULATED_GENERATION,
    NOTICE_QUESTION,
    REPO,
    SAMPLES,
    assert_quotes_the_clause,
    write_one_clause_folder,
)

pytestmark = [
    pytest.mark.bundle,
    pytest.mark.slow,
    pytest.mark.skipif(not CAN_UNSHARE, reason="needs `unshare -n` (root) to cut the network off"),
]

STRACE = shutil.which("strace")
QEMU = shutil.which("qemu-x86_64")
PATCHELF = shutil.which("patchelf")
CONTAINER_TOOLS = [tool for tool in ("buildah", "podman") if shutil.which(tool) is None]
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)  # a plain interpreter, as on the target machine


def step(name: str, args: list[str], timings: dict, **kwargs) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, timeout=1500, **kwargs)
    timings[name] = round(time.monotonic() - started, 1)
    print(f"{name}: {timings[name]}s", file=sys.stderr)
    assert done.returncode == 0, f"{name} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def air_gapped(args: list[str], trace: Path) -> list[str]:
    """`args` with no network at all, and their network calls recorded where strace exists."""
    if STRACE:
        args = [STRACE, "-f", "--seccomp-bpf", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace), *args]
    return ["unshare", "-n", *args]


def network_attempts(traces: list[Path]) -> list[str]:
    """Connects and sends to internet addresses; the served web app's own loopback traffic is not one."""
    found = []
    for trace in traces:
        if trace.exists():
            found += [
                line
                for line in trace.read_text(errors="replace").splitlines()
                if "AF_INET" in line and "127.0.0.1" not in line
            ]
    return found


# Run by the installed Python inside the namespace: `localgpt serve` from the bundle, its page, script and API.
SERVE_CHECK = """
import json, subprocess, time, urllib.request
server = subprocess.Popen(["{localgpt}", "serve", "--db", "{db}", "--port", "18780"], stderr=subprocess.PIPE, text=True)
def get(path, data=None):
    request = urllib.request.Request("http://127.0.0.1:18780" + path, data=data, headers={{"content-type": "application/json"}})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read().decode()
try:
    for _ in range(600):
        try:
            health = json.loads(get("/api/health"))
            break
        except OSError:
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.5)
    assert health["files"] == 4, health
    assert "/static/app.js" in get("/") and "readEvents" in get("/static/app.js")
    assert json.loads(get("/api/search", json.dumps({{"query": "notice period"}}).encode()))
    print("web app served")
finally:
    server.terminate()
    server.wait(timeout=30)
"""


@pytest.fixture(scope="module")
def carried(tmp_path_factory):
    """The bundle, with an extra GGUF and embedding model, built here and copied to a folder outside the repo."""
    from embeddings.bundled import bundled_embedding_model_path
    from generation.backends.bundled import bundled_llm_path

    work = tmp_path_factory.mktemp("airgap")
    extra_gguf = work / "team-model.gguf"
    shutil.copyfile(bundled_llm_path(), extra_gguf)
    extra_embedder = work / "team-embedder"
    shutil.copytree(bundled_embedding_model_path(), extra_embedder)
    timings: dict[str, float] = {}
    built = step(
        "make-bundle",
        [
            str(REPO / "deploy" / "make-bundle.sh"),
            str(work / "built"),
            "--gguf",
            str(extra_gguf),
            "--embedding-model",
            str(extra_embedder),
        ],
        timings,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert "SHA-256 of its SHA256SUMS" in built.stdout
    carried = work / "usb-stick" / "localgpt-bundle"
    carried.parent.mkdir()
    shutil.move(work / "built", carried)  # what was built is gone from where it was built
    size = sum(p.stat().st_size for p in carried.rglob("*") if p.is_file())
    print(f"bundle: {size / 2**20:.0f} MiB, {len(list((carried / 'wheels').iterdir()))} wheels", file=sys.stderr)
    return work, carried, timings


def test_bundle_installs_and_answers_with_no_network(carried):
    work, bundle, timings = carried
    prefix = work / "opt" / "localgpt"
    docs = work / "private-docs"
    shutil.copytree(SAMPLES, docs)
    db = work / "private-index"
    traces = [work / f"trace-{n}.log" for n in range(7)]
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCALGPT_", "PYTHON"))}
    clean_env["PYTHON"] = BASE_PYTHON
    run = dict(cwd=work, env=clean_env)  # not the repo: nothing may come from the checkout

    installed = step("install", air_gapped([str(bundle / "install.sh"), str(prefix)], traces[0]), timings, **run)
    assert "All" in installed.stderr and "files match SHA256SUMS" in installed.stderr
    localgpt = prefix / "bin" / "localgpt"
    where = subprocess.run(
        [str(prefix / "bin" / "python"), "-I", "-c", "import localgpt; print(localgpt.__file__)"],
        capture_output=True,
        text=True,
        **run,
    )
    assert where.stdout.strip().startswith(str(prefix)), where

    ingested = step(
        "ingest",
        air_gapped([str(localgpt), "ingest", "--source-dir", str(docs), "--db", str(db), "--quiet"], traces[1]),
        timings,
        **run,
    )
    assert "4 new" in ingested.stdout and "0 failed" in ingested.stdout

    asked = step(
        "ask",
        air_gapped(
            [str(localgpt), "ask", "--db", str(db), "--json", "What is the notice period in the lease?"], traces[2]
        ),
        timings,
        **run,
    )
    answer = json.loads(asked.stdout)
    assert answer["answer"].strip()
    assert any(p["source"] == "lease_agreement.pdf" for p in answer["passages"])

    checked = subprocess.run(
        air_gapped([str(localgpt), "doctor", "--json", "--db", str(db)], traces[3]),
        capture_output=True,
        text=True,
        timeout=300,
        **run,
    )
    report = json.loads(checked.stdout)
    assert checked.returncode == 0, report["problems"]
    # The bundle's extra models are this install's defaults, copied into the prefix.
    assert report["llm"]["path"] == str(prefix / "share/localgpt/models/team-model.gguf")
    assert report["embedding_model"]["path"] == str(prefix / "share/localgpt/models/embedding/team-embedder")
    assert report["index"]["files"] == 4 and report["index"]["private"] is True

    # The installed bundle on another CPU: qemu's "max" model has AVX2 and no AVX-512. A llama.cpp built with
    # -march=native on an AVX-512 machine dies there (exit 132); the bundle's portable wheel picks a variant.
    if QEMU is not None:
        models = prefix / "share/localgpt/models"
        emulated_env = {
            **clean_env,
            "LOCALGPT_MODEL": str(models / "team-model.gguf"),
            "LOCALGPT_EMBEDDING_MODEL": str(models / "embedding/team-embedder"),
        }
        # Emulated kernels run thousands of times slower (tests/conftest.py): a one-sentence index, and two tokens.
        clause_db = work / "one-clause-index"
        clause = [str(localgpt), "ingest", "--source-dir", str(write_one_clause_folder(work / "one-clause")), "--quiet"]
        step("ingest-one-clause", air_gapped([*clause, "--db", str(clause_db)], traces[6]), timings, **run)
        python = [QEMU, "-cpu", "max", str(prefix / "bin" / "python"), "-I", "-c"]
        cli = "import sys; from localgpt import cli; sys.exit(cli(prog_name='localgpt'))"
        emulated = step(
            "ask-on-another-cpu",
            air_gapped([*python, cli, *EMULATED_ASK, "--db", str(clause_db)], work / "trace-qemu.log"),
            timings,
            cwd=work,
            env=emulated_env,
        )
        assert_quotes_the_clause(json.loads(emulated.stdout))
        wrote = step(
            "generate-on-another-cpu",
            air_gapped([*python, EMULATED_GENERATION], work / "trace-qemu-llm.log"),
            timings,
            cwd=work,
            env=emulated_env,
        )
        generated = json.loads(wrote.stdout.strip().splitlines()[-1])
        assert generated["text"].strip(), wrote.stdout
        if installed_build().portable:  # the bundle carries the venv's portable wheel: the same variants
            assert generated["variant"] in installed_build().variants, generated
        traces += [work / "trace-qemu.log", work / "trace-qemu-llm.log"]
    elif os.environ.get("CI"):
        pytest.fail(
            "CI must run the installed bundle on an emulated CPU: install qemu-user (apt-get install qemu-user)"
        )

    served = step(
        "serve",
        air_gapped(
            [
                "sh",
                "-c",
                f'ip link set lo up && exec {prefix / "bin" / "python"} -I -c "$0"',
                SERVE_CHECK.format(localgpt=localgpt, db=db),
            ],
            traces[5],
        ),
        timings,
        **run,
    )
    assert "web app served" in served.stdout, served.stderr[-2000:]

    again = step("install-again", air_gapped([str(bundle / "install.sh"), str(prefix)], traces[4]), timings, **run)
    assert "Installed localgpt" in again.stdout

    assert network_attempts(traces) == [], "something reached for the network"
    print(f"timings (s): {timings}; network calls traced: {bool(STRACE)}", file=sys.stderr)


def needs(missing: list[str], install: str) -> None:
    """Skip without the tools (fail in CI, which installs them)."""
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI must run this: needs {', '.join(missing)} ({install})")
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: {install}")


@pytest.fixture(scope="module")
def minimal_linux():
    """A tar of Debian bookworm minbase with python3 and nothing else, made with debootstrap once per machine."""
    needs([] if shutil.which("debootstrap") else ["debootstrap"], "apt-get install debootstrap")
    started = time.monotonic()
    made = subprocess.run([str(REPO / "deploy" / "base-rootfs.sh")], capture_output=True, text=True, timeout=900)
    assert made.returncode == 0, made.stderr[-3000:]
    print(f"base-rootfs: {time.monotonic() - started:.1f}s", file=sys.stderr)
    return Path(made.stdout.strip())


def assert_cites_the_lease(answer: dict) -> None:
    """The citation and its evidence, whatever words the model chose."""
    assert answer["passages"][0]["source"] == "lease_agreement.pdf"
    assert "sixty (60) days" in answer["evidence"][0]["text"]
    assert "lease_agreement.pdf" in answer["evidence"][0]["citation"]


def in_chroot(root: Path, bundle: Path, args: list[str], trace: Path) -> list[str]:
    """`args` run inside the root filesystem as its own system, the bundle at /mnt/bundle, with no network."""
    script = (  # $0: the root, $1: the bundle, then the command; the mounts end with the namespace
        'mount --rbind /dev "$0/dev" && mount -t proc proc "$0/proc" && '
        'mount --bind "$1" "$0/mnt/bundle" && mount -o remount,bind,ro "$0/mnt/bundle" && shift && '
        'exec chroot "$0" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"'
    )
    return air_gapped(["unshare", "--mount", "--fork", "sh", "-c", script, str(root), str(bundle), *args], trace)


def test_the_bundle_installs_and_answers_on_a_minimal_linux_with_only_python(carried, minimal_linux, tmp_path):
    """The air-gapped host: no libgomp, no python3-venv, no network, no package mirror."""
    _, bundle, _ = carried
    timings: dict[str, float] = {}
    root = tmp_path / "root"
    root.mkdir()
    step("unpack-minimal-linux", ["tar", "-C", str(root), "-xf", str(minimal_linux)], timings)
    (root / "mnt" / "bundle").mkdir(parents=True, exist_ok=True)
    assert not list(root.glob("usr/lib/*/libgomp.so*")), "the base has libgomp: it proves nothing"
    assert not list(root.glob("usr/lib/python3*/ensurepip")), "the base has python3-venv"
    shutil.copytree(SAMPLES, root / "root" / "documents")
    traces = [tmp_path / f"trace-{n}.log" for n in range(5)]
    localgpt = "/opt/localgpt/bin/localgpt"

    installed = step(
        "install", in_chroot(root, bundle, ["/mnt/bundle/install.sh", "/opt/localgpt"], traces[0]), timings
    )
    assert "Installed localgpt" in installed.stdout
    assert "llama.cpp on this CPU: runs" in installed.stderr, installed.stderr[-2000:]
    ingested = step(
        "ingest",
        in_chroot(
            root,
            bundle,
            [localgpt, "ingest", "--source-dir", "/root/documents", "--db", "/root/index", "--quiet"],
            traces[1],
        ),
        timings,
    )
    assert "4 new" in ingested.stdout and "0 failed" in ingested.stdout
    asked = step(
        "ask",
        in_chroot(root, bundle, [localgpt, "ask", "--db", "/root/index", "--json", NOTICE_QUESTION], traces[2]),
        timings,
    )
    assert_cites_the_lease(json.loads(asked.stdout))

    # The machine for real: the same llama.cpp without its carried copy, pointed back at the system's
    # libgomp.so.1, which this system lacks. install.sh and doctor name the library and its packages.
    needs([] if PATCHELF else ["patchelf"], "apt-get install patchelf")
    [carried_gomp] = root.glob("opt/localgpt/lib/python3*/site-packages/*.libs/libgomp-*.so.1")
    for library in root.glob("opt/localgpt/lib/python3*/site-packages/**/libggml*.so*"):
        needed = subprocess.run([PATCHELF, "--print-needed", str(library)], capture_output=True, text=True).stdout
        if carried_gomp.name in needed.split():
            subprocess.run([PATCHELF, "--replace-needed", carried_gomp.name, "libgomp.so.1", str(library)], check=True)
    carried_gomp.unlink()
    again = subprocess.run(
        in_chroot(root, bundle, ["/mnt/bundle/install.sh", "/opt/localgpt"], traces[3]),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert again.returncode == 1, again.stderr[-2000:]
    assert "this system lacks a shared library" in again.stderr and "cannot run on this CPU" not in again.stderr
    assert "libgomp.so.1" in again.stderr and "apt-get install libgomp1" in again.stderr
    assert "dnf install libgomp" in again.stderr
    checked = subprocess.run(
        in_chroot(root, bundle, [localgpt, "doctor", "--json", "--db", "/root/index"], traces[4]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(checked.stdout)
    assert checked.returncode == 1
    assert [p["reason"] for p in report["problems"] if p["severity"] == "error"] == ["llm-library-missing"]
    assert network_attempts(traces) == [], "something reached for the network"
    print(f"minimal linux timings (s): {timings}", file=sys.stderr)
    shutil.rmtree(root)  # 2.5 GB; pytest keeps the last runs' temporary folders (a failed one stays to look at)


def test_the_container_builds_from_the_bundle_and_answers_with_no_network(carried, minimal_linux, tmp_path):
    """deploy/build-container.sh as docs/deploy.md tells a user: the image, then ingest and ask inside it."""
    needs(CONTAINER_TOOLS, "apt-get install buildah podman")
    _, bundle, _ = carried
    timings: dict[str, float] = {}
    image = f"localhost/localgpt-test-{os.getpid()}"
    try:
        # Its scratch folder (the documents' copy, the index) inside this test's own, not the shared /tmp.
        scratch = {**os.environ, "TMPDIR": str(tmp_path)}
        built = step(
            "build-container", [str(REPO / "deploy" / "build-container.sh"), str(bundle), image], timings, env=scratch
        )
        assert re.search(r"Image \S+: built and checked offline in \d+s \(\S+\)", built.stderr), built.stderr[-2000:]
        print(built.stderr.strip().splitlines()[-1], file=sys.stderr)
        # The answer as the user reads it: the lease's clause quoted as evidence, cited, whatever the model wrote.
        evidence = built.stdout.split("Evidence (quoted from the documents):")[-1]
        assert re.search(r"\[1\] \".*sixty \(60\) days.*\" \(lease_agreement\.pdf, page \d+\)", evidence), built.stdout
        assert re.search(r"Sources:\n\s+\[1\] lease_agreement\.pdf, page \d+", built.stdout), built.stdout
        # The image as a user runs it: its non-root user, the bundle's models its defaults, no network.
        container = step("buildah-from", ["buildah", "from", "-q", image], timings).stdout.strip()
        try:
            inside = ["unshare", "-n", "buildah", "run", "--isolation", "chroot", container, "--"]
            doctor = subprocess.run(
                [*inside, "/opt/localgpt/bin/localgpt", "doctor", "--json"], capture_output=True, text=True, timeout=300
            )
            report = json.loads(doctor.stdout)
            assert report["llm"]["path"] == "/opt/localgpt/share/localgpt/models/team-model.gguf"
            assert report["cpu"]["llama_cpp_cpu_variant"], report["cpu"]
            assert not [p for p in report["problems"] if p["reason"].startswith("llm-")], report["problems"]
            user = subprocess.run([*inside, "id", "-u"], capture_output=True, text=True, timeout=60)
            assert user.stdout.strip() == "10001"
        finally:
            subprocess.run(["buildah", "rm", container], capture_output=True)
    finally:
        subprocess.run(["buildah", "rmi", "-f", image], capture_output=True)
    print(f"container timings (s): {timings}", file=sys.stderr)
