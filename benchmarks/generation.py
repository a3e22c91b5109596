"""Speed of `ask`: time to first token and tokens/s, against llama-cpp-python called directly.

    python benchmarks/generation.py [--db DB] [--repeats 5] [--threads N] [--max-tokens 64]

Ours: what `ask` runs, the answer service (`answering.Session.ask`): retrieval (question embedded,
index searched), evidence, prompt packing, generation and its checks, with the models already
loaded (as in a chat session or a batch run); the clock starts before retrieval and stops at the
first text shown (a quoted answer is shown whole, at the end: it has no tokens/s). Raw: a separate `llama_cpp.Llama` on the same
GGUF, same n_ctx and threads, `create_chat_completion(stream=True)` on the very messages
ours sent, same sampling settings; the clock starts at the call. Both run in the same
process, alternating question by question, each repeated; medians are reported.
Tokens are counted with the model's tokenizer on the raw generated text, the same way for both.

Without --db the sample documents (source_documents/) are ingested into a temporary index.
A cold start of the CLI (`localgpt ask` in a new process: Python, torch, the embedding
model and the GGUF loaded) is timed once as well, for information.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import REPO, on_path, sample_index

on_path()

QUESTIONS = [
    "What is the notice period in the lease?",
    "How often should the kettle be descaled?",
    "What are the core hours?",
    "How much is the home-office equipment stipend?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--no-cold", action="store_true", help="Skip the cold-start CLI measurement.")
    args = parser.parse_args()

    from core.offline import enforce_offline
    from core.settings import load_settings
    from answering import open_session, warm_up
    from generation.backends.local_gguf import llm_path
    from generation.prompt import pack_prompt

    enforce_offline()
    db = sample_index(args.db)
    settings = load_settings({"db": db, "threads": args.threads, "max_tokens": args.max_tokens})
    threads = settings.threads or os.cpu_count() or 1

    opened = contextlib.ExitStack()
    session = opened.enter_context(open_session(settings))
    session.search("warm up")  # the embedding model loads on first use
    llm = session.llm
    warm_up(llm)  # loaded now even where `ask` would quote without it: raw below needs its CPU variants loaded
    from llama_cpp import Llama  # after ours: loading it loaded a portable build's CPU variants too

    raw = Llama(model_path=str(llm_path(settings)), n_ctx=settings.n_ctx, n_threads=threads, verbose=False)

    def tokens(text: str) -> int:
        return len(raw.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0

    methods: list[str] = []  # how each answer was shown: generated (streamed) or quoted

    def ours(question: str) -> tuple[float, float, list]:
        pieces: list[str] = []
        first: list[float] = []
        start = time.perf_counter()

        def on_event(name: str, data: dict) -> None:
            if name == "token":
                if not first:
                    first.append(time.perf_counter())
                pieces.append(data["text"])

        result = session.ask(question, on_event=on_event)
        hits = result.retrieved
        end = time.perf_counter()
        if result.refused or not first:
            raise SystemExit(f"no answer generated for {question!r}; the benchmark needs answerable questions")
        methods.append(result.answer_method)
        n = tokens("".join(pieces))
        streamed = result.answer_method == "generated"  # a quoted answer is shown whole: no rate
        rate = (n - 1) / (end - first[0]) if streamed and n > 1 and end > first[0] else float("nan")
        return first[0] - start, rate, hits

    def direct(messages: list) -> tuple[float, float]:
        pieces: list[str] = []
        start = time.perf_counter()
        first = None
        for part in raw.create_chat_completion(
            messages=messages,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            repeat_penalty=settings.repeat_penalty,
            stream=True,
        ):
            piece = part["choices"][0]["delta"].get("content")
            if piece:
                if first is None:
                    first = time.perf_counter()
                pieces.append(piece)
        end = time.perf_counter()
        n = tokens("".join(pieces))
        rate = (n - 1) / (end - first) if first and n > 1 and end > first else float("nan")
        return (first or end) - start, rate

    results = {"ours": {"first": [], "rate": []}, "raw": {"first": [], "rate": []}}
    for _ in range(args.repeats):
        for question in QUESTIONS:
            first, rate, hits = ours(question)
            results["ours"]["first"].append(first)
            results["ours"]["rate"].append(rate)
            relevant = [h for h in hits if (h.relevance or 0) >= settings.min_score]
            packed = pack_prompt(question, relevant, llm, settings.max_tokens, settings.excerpt_sentences)
            first, rate = direct(packed.messages)
            results["raw"]["first"].append(first)
            results["raw"]["rate"].append(rate)
    opened.close()

    def med(values: list[float]) -> float:
        values = [v for v in values if v == v]
        return statistics.median(values) if values else float("nan")

    print(
        f"model {llm_path(settings).name}, n_ctx {settings.n_ctx}, threads {threads}, max_tokens {settings.max_tokens}, "
        f"{len(QUESTIONS)} questions x {args.repeats} repeats, excerpt_sentences {settings.excerpt_sentences}"
    )
    shown = ", ".join(f"{m or 'none'} {methods.count(m)}" for m in sorted(set(methods)))
    print(f"answers shown: {shown} (tokens/s counts generated answers only; `ask` shows the quoted ones whole)")
    print(f"{'':<34}{'first token (median)':>22}{'tokens/s (median)':>20}")
    print(
        f"{'ask (retrieval + packing + stream)':<34}{med(results['ours']['first']):>21.3f}s{med(results['ours']['rate']):>20.1f}"
    )
    print(f"{'llama-cpp-python direct':<34}{med(results['raw']['first']):>21.3f}s{med(results['raw']['rate']):>20.1f}")
    ratio = med(results["ours"]["rate"]) / med(results["raw"]["rate"])
    print(
        f"tokens/s ours / raw: {ratio:.2f} (target >= 0.90); first token target < 1 s: "
        f"{'met' if med(results['ours']['first']) < 1 else 'NOT met'}"
    )

    if not args.no_cold:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "localgpt.py"),
                "ask",
                "--db",
                str(db),
                "--max-tokens",
                str(args.max_tokens),
                *(["--threads", str(args.threads)] if args.threads else []),
                QUESTIONS[0],
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        proc.stdout.read(1)
        cold_first = time.perf_counter() - start
        proc.communicate()
        print(f"cold CLI start (new process, all models loaded from disk): first character after {cold_first:.2f}s")


if __name__ == "__main__":
    main()
