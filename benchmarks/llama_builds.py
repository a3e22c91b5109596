"""Tokens/s of two llama-cpp-python builds on this CPU, in the same run: e.g. portable against native.

    python benchmarks/llama_builds.py --a native= --b portable=/tmp/portable-site [--runs 5] [--tokens 128] [--model F.gguf]

Each build is NAME=SITE: SITE is a folder holding that build's `llama_cpp` package (an unpacked wheel),
put first on the path of a child process; an empty SITE means the one installed in this environment.
The children alternate (a, b, a, b, ...), each loading the bundled SmolLM2 GGUF and generating
--tokens tokens at temperature 0 with the end-of-generation tokens banned, so every run generates
the same number; threads as LOCALGPT_THREADS or 2. Prints each build's median generation tokens/s,
prompt tokens/s, the CPU variant it loaded, and the ratio b/a.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from common import REPO

CHILD = r"""
import json, sys, time
sys.path.insert(0, {repo!r})
from generation.backends.llama_native import load_cpu_backends, loaded_variant
from generation.backends.bundled import bundled_llm_path
load_cpu_backends()
import llama_cpp
llm = llama_cpp.Llama(model_path={model!r} or str(bundled_llm_path()), n_ctx=2048, n_threads={threads}, verbose=False)
vocab = llama_cpp.llama_model_get_vocab(llm.model)
banned = {{t: float("-inf") for t in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)}}
prompt = "Explain, step by step and in detail, how to look after a kettle, its parts and its care. " * 4
started = time.perf_counter()
first = None
count = 0
for part in llm.create_completion(prompt, max_tokens={tokens}, temperature=0.0, logit_bias=banned, stream=True):
    count += 1
    if first is None:
        first = time.perf_counter()
done = time.perf_counter()
prompt_tokens = len(llm.tokenize(prompt.encode()))
print(json.dumps({{"gen_tps": (count - 1) / (done - first), "prompt_tps": prompt_tokens / (first - started),
                  "tokens": count, "variant": loaded_variant(), "module": llama_cpp.__file__}}))
"""


def run_child(site: str, threads: int, tokens: int, model: str = "") -> dict:
    env = {**os.environ}
    if site:
        env["PYTHONPATH"] = site + os.pathsep + env.get("PYTHONPATH", "")
    code = CHILD.format(repo=str(REPO), threads=threads, tokens=tokens, model=model)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd="/")
    if done.returncode != 0:
        raise SystemExit(
            f"the child for {site or 'the installed build'} failed ({done.returncode}): {done.stderr[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, help="NAME=SITE of the baseline build")
    parser.add_argument("--b", required=True, help="NAME=SITE of the build compared with it")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--model", default="", help="a GGUF file (default: the bundled SmolLM2)")
    args = parser.parse_args()
    threads = int(os.environ.get("LOCALGPT_THREADS") or 2)
    builds = [tuple(spec.split("=", 1)) for spec in (args.a, args.b)]
    results: dict[str, list[dict]] = {name: [] for name, _ in builds}
    for run in range(args.runs):
        for name, site in builds:
            results[name].append(run_child(site, threads, args.tokens, args.model))
            r = results[name][-1]
            print(
                f"run {run + 1} {name}: {r['gen_tps']:.1f} tokens/s generating, {r['prompt_tps']:.0f} prompt tokens/s "
                f"({r['variant'] or 'native'}; {Path(r['module']).parent})",
                flush=True,
            )
    medians = {name: statistics.median(r["gen_tps"] for r in rows) for name, rows in results.items()}
    prompt = {name: statistics.median(r["prompt_tps"] for r in rows) for name, rows in results.items()}
    print(f"\nmedians of {args.runs} alternating runs, {args.tokens} tokens, {threads} threads")
    for name, _ in builds:
        print(f"{name:<10} {medians[name]:7.1f} tokens/s generating {prompt[name]:8.0f} prompt tokens/s")
    (a, _), (b, _) = builds
    print(f"{b}/{a}: {medians[b] / medians[a]:.3f} generating, {prompt[b] / prompt[a]:.3f} prompt")


if __name__ == "__main__":
    main()
