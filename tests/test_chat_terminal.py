"""`localgpt chat` at a terminal, driven as a user drives it: a pseudo-terminal, keys typed, screen read.

One chat process serves the whole module (the index and model load once); the tests run in
file order and each leaves the chat at its prompt.
"""

import os
import re
import shutil
import signal
import stat
import sys
import time

import pexpect
import pytest

from conftest import REPO, offline_cmd

PROMPT = "\r\n> "  # the prompt at the start of a line
TIMEOUT = 240  # a loaded 2-core machine answers slowly


@pytest.fixture(scope="module")
def db(sample_db, tmp_path_factory):
    """A copy of the sample index: the chat writes its history file there."""
    copy = tmp_path_factory.mktemp("chat") / "db"
    shutil.copytree(sample_db, copy)
    return copy


@pytest.fixture(scope="module")
def endless_switch(tmp_path_factory):
    """While this file exists the chat's answers cannot end before Ctrl-C (tests/endless_answer.py)."""
    return tmp_path_factory.mktemp("switch") / "endless"


@pytest.fixture(scope="module")
def chat(db, tmp_path_factory, endless_switch):
    home = tmp_path_factory.mktemp("chat-home")
    cmd = offline_cmd(
        [
            sys.executable,
            str(REPO / "tests" / "endless_answer.py"),
            "chat",
            "--db",
            str(db),
            "--max-tokens",
            "32",
            "-k",
            "2",
        ]
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "TERM": "dumb",
        "PYTHONUNBUFFERED": "1",
        "ENDLESS_ANSWER_SWITCH": str(endless_switch),
    }
    # The forked child sets its window size before exec, which sends it SIGWINCH. pytest imports readline,
    # whose SIGWINCH handler runs on the alternate signal stack; after the in-process tests before this
    # module have run (OpenVINO among them) the kernel could not deliver it there and killed the child with
    # SIGSEGV before exec. The child needs no handler before exec: it gets the default (ignore).
    previous = signal.signal(signal.SIGWINCH, signal.SIG_DFL)
    try:
        child = pexpect.spawn(
            cmd[0], cmd[1:], cwd=str(REPO), env=env, encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 200)
        )
    finally:
        signal.signal(signal.SIGWINCH, previous)
    child.logfile_read = sys.stderr  # shown by pytest when a test fails
    child.expect("/help lists commands")
    child.expect("> ")
    yield child
    if child.isalive():
        child.terminate(force=True)


def test_help_lists_the_commands(chat):
    chat.sendline("/help")
    chat.expect(PROMPT)
    for command in ("/sources", "/reset", "/quit", "Ctrl-C"):
        assert command in chat.before


def test_question_streams_an_answer_then_its_sources(chat):
    chat.sendline("How often should the kettle be descaled?")
    chat.expect("Sources")
    chat.expect(PROMPT)
    assert "kettle_manual.docx" in chat.before


def test_resizing_the_terminal_keeps_the_chat(chat):
    """A resize sends SIGWINCH to a process that has the embedding runtime and the LLM loaded."""
    chat.setwinsize(30, 120)
    chat.sendline("/help")
    chat.expect(PROMPT)
    assert chat.isalive() and "/sources" in chat.before
    chat.setwinsize(40, 200)


def test_sources_shows_the_passages_behind_the_last_answer_with_scores(chat):
    chat.sendline("/sources")
    chat.expect(PROMPT)
    lines = [line for line in chat.before.splitlines() if re.search(r"\[\d\] ", line)]
    assert len(lines) == 2  # -k 2
    assert "kettle_manual.docx, Aurora K2 Smart Kettle: User Manual > Care and Descaling" in lines[0]
    assert re.search(r"score \d\.\d{3}", lines[0])
    assert "citric acid" in chat.before  # the passage's own text


def test_follow_up_is_searched_with_the_conversation(chat):
    chat.sendline("What does error E3 mean on it?")
    chat.expect(r"\(searching for: ([^)\r\n]*)")
    understood = chat.match.group(1)
    chat.expect("Sources")
    chat.expect(PROMPT)
    assert "E3" in understood and "kettle" in understood.lower()
    chat.sendline("/sources")
    chat.expect(PROMPT)
    first = next(line for line in chat.before.splitlines() if re.search(r"\[1\] ", line))
    assert "kettle_manual.docx, Aurora K2 Smart Kettle: User Manual > Error Codes" in first


def test_ctrl_c_stops_the_answer_not_the_chat(chat, endless_switch):
    chat.sendline("/reset")  # a question on its own: no follow-up rewrite runs the model before the answer
    chat.expect(PROMPT)
    endless_switch.touch()  # this answer cannot end by itself: Ctrl-C comes while it is being generated
    try:
        chat.sendline("What are the rules for pets in the lease, and what fee applies?")
        deadline = time.monotonic() + TIMEOUT
        while endless_switch.read_text() != "generating" and time.monotonic() < deadline:
            chat.expect([pexpect.TIMEOUT, "never printed"], timeout=0.2)  # keeps reading the screen meanwhile
        assert endless_switch.read_text() == "generating", "the answer never began"
        chat.sendintr()
    finally:
        endless_switch.unlink()
    chat.expect(r"\[stopped\]")
    assert "Sources" not in chat.before
    chat.expect(PROMPT)
    chat.sendline("/help")
    chat.expect("/sources")
    chat.expect(PROMPT)
    assert chat.isalive()


def test_reset_forgets_the_conversation(chat):
    chat.sendline("/reset")
    chat.expect("Conversation forgotten")
    chat.expect(PROMPT)
    chat.sendline("/sources")
    chat.expect("No passages yet")
    chat.expect(PROMPT)


def test_ctrl_d_leaves_and_keeps_a_private_history(chat, db):
    chat.sendeof()
    chat.expect(pexpect.EOF)
    chat.close()
    assert chat.exitstatus == 0, chat.before
    history = db / "chat_history"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    text = history.read_text()
    assert "How often should the kettle be descaled?" in text
    assert "What does error E3 mean on it?" in text
