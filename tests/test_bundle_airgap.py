"""The proof of the air-gapped install: build the bundle, carry it out of the repository, install it
and run ingest and ask with the installed `localgpt`, all inside a network namespace with nothing
but a loopback interface that is down (`unshare -n`).

Anything reaching for the network fails there; with strace present, every connect/sendto to an
internet address is also recorded, and one attempt fails the test even if the program swallowed
the error. Where qemu-user is installed (CI installs it), the installed bundle also answers under
`qemu-x86_64 -cpu max`: a CPU without AVX-512, whatever CPU runs the test. Deselect with `-m "not bundle"`; CI runs it. Step times are printed (pytest -s shows them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CAN_UNSHARE, EMULATED_ASK, REPO, SAMPLES, assert_answers_the_notice_period

pytestmark = [
    pytest.mark.bundle,
    pytest.mark.slow,
    pytest.mark.skipif(not CAN_UNSHARE, reason="needs `unshare -n` (root) to cut the network off"),
]

STRACE = shutil.which("strace")
QEMU = shutil.which("qemu-x86_64")
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
    traces = [work / f"trace-{n}.log" for n in range(6)]
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
        cli = "import sys; from localgpt import cli; sys.exit(cli(prog_name='localgpt'))"
        emulated = step(
            "ask-on-another-cpu",
            air_gapped(
                [
                    QEMU,
                    "-cpu",
                    "max",
                    str(prefix / "bin" / "python"),
                    "-I",
                    "-c",
                    cli,
                    *EMULATED_ASK,
                    "--db",
                    str(db),
                ],
                work / "trace-qemu.log",
            ),
            timings,
            cwd=work,
            env=emulated_env,
        )
        assert_answers_the_notice_period(json.loads(emulated.stdout))
        traces.append(work / "trace-qemu.log")
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
