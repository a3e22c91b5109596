"""Test-only launcher: localgpt.py with an LLM whose answer cannot end before Ctrl-C.

    python tests/endless_answer.py ARGS...        (as `python localgpt.py ARGS...`)

While the file named by $ENDLESS_ANSWER_SWITCH exists (always, when the variable is unset),
every chat completion runs with the end-of-generation tokens banned (logit bias -inf) and
no token limit but the context window; when the context is full it waits for Ctrl-C
instead of returning. Once its first piece of text is out, the launcher writes
"generating" into the switch file: a test that waits for that word knows generation
is running when it sends the signal, at any CPU speed. The real model, index and CLI
run; only the end of the answer is taken away: the end tokens, and the grounding check's stop
(generation/gate.py stops an answer at its first sentence that fails the check, which would end
it before the signal; here every sentence passes, so the text keeps flowing until Ctrl-C).
It generates (LOCALGPT_ANSWER_STYLE=generate unless set), as the bundled model otherwise quotes.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SWITCH = os.environ.get("ENDLESS_ANSWER_SWITCH")


def active() -> bool:
    return SWITCH is None or Path(SWITCH).exists()


def announce() -> None:
    if SWITCH is not None:
        Path(SWITCH).write_text("generating")


def end_tokens(llama) -> list[int]:
    """Every token that ends generation (EOS, EOT, <|endoftext|>...)."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    return [t for t in range(llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)]


def patch() -> None:
    import llama_cpp

    real = llama_cpp.Llama.create_chat_completion

    def endless(self, *args, **kwargs):
        if not active() or not kwargs.get("stream"):
            return real(self, *args, **kwargs)
        banned = {token: float("-inf") for token in end_tokens(self)}
        kwargs["logit_bias"] = {**(kwargs.get("logit_bias") or {}), **banned}
        kwargs["max_tokens"] = None  # up to the context window
        stream = real(self, *args, **kwargs)

        def pieces():
            announced = False
            for part in stream:
                yield part
                if not announced and part["choices"][0]["delta"].get("content"):
                    announce()
                    announced = True
            announce()
            threading.Event().wait()  # the context is full: the answer goes on until Ctrl-C

        return pieces()

    llama_cpp.Llama.create_chat_completion = endless

    import generation.gate as gate
    from generation.grounding import Verdict

    checks = gate.check_sentence, gate.check_answer
    gate.check_sentence = lambda *args, **kwargs: Verdict(True) if active() else checks[0](*args, **kwargs)
    gate.check_answer = lambda *args, **kwargs: Verdict(True) if active() else checks[1](*args, **kwargs)


if __name__ == "__main__":
    # Ctrl-C as at a terminal, whatever this process inherited: a test run started in the background
    # of a non-interactive shell has SIGINT ignored, and Python then keeps ignoring it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # The model must write for there to be an answer to stop: with the bundled model, --answer-style
    # auto would quote the evidence without running it.
    os.environ.setdefault("LOCALGPT_ANSWER_STYLE", "generate")
    sys.path.insert(0, str(REPO))
    patch()
    sys.argv[0] = str(REPO / "localgpt.py")
    runpy.run_path(str(REPO / "localgpt.py"), run_name="__main__")
