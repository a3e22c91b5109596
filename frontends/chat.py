"""`localgpt chat`: questions at a prompt, answers streamed with their sources, follow-ups understood.

At a terminal: a prompt with line editing and history (stdlib readline; the history file lives
in the db folder, owner-only), commands (/help, /sources, /reset, /quit), Ctrl-C stops the answer
being written and Ctrl-D leaves. With stdin not a terminal (questions piped in, one per line)
there is no prompt, banner or history: only the answers and their sources on stdout.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, TextIO

from core.errors import LocalGPTError
from core.files import PRIVATE_FILE, create_private
from frontends.render import Record, closest_lines, evidence_lines, passage_lines, source_lines
from frontends.session import Session
from generation import Answer, AnswerInterrupted
from generation.followup import History, rewrite_followup
from generation.llm import Sampling
from generation.record import answer_record

log = logging.getLogger(__name__)

PROMPT = "> "
HISTORY_FILE = "chat_history"
HISTORY_LINES = 1000
BANNER = "Ask about your documents. /help lists commands; Ctrl-D leaves."
HELP = """\
Type a question and press Enter. Follow-up questions ("and what about pets?") are understood
from the conversation; the line "(searching for: ...)" shows how.
  /sources   the passages behind the last answer, with their scores (* = cited)
  /reset     forget the conversation; the next question starts afresh
  /help      this text
  /quit      leave (Ctrl-D too)
Ctrl-C stops an answer being written and returns to the prompt."""


@dataclass
class Chat:
    session: Session
    out: TextIO
    err: TextIO
    interactive: bool
    history: History = field(default_factory=History)
    last_record: Record | None = None  # the last answer's record (generation/record.py): what /sources lists

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def handle(self, line: str) -> bool:
        """Act on one line the user typed; False when the chat should end."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            return self.command(line)
        try:
            self.ask(line)
        except KeyboardInterrupt:
            if not self.interactive:
                raise
            self.say("\n[stopped]")
        except (LocalGPTError, ValueError) as exc:
            self.err.write(f"Error: {exc}\n")
            self.err.flush()
        return True

    def command(self, line: str) -> bool:
        name = line.split()[0].lower()
        if name in ("/quit", "/exit", "/q"):
            return False
        if name in ("/help", "/?"):
            self.say(HELP)
        elif name == "/reset":
            self.history.clear()
            self.last_record = None
            self.say("Conversation forgotten.")
        elif name == "/sources":
            if not self.last_record or not self.last_record["retrieved"]:
                self.say("No passages yet: ask a question first.")
            else:
                self.say("\n".join(passage_lines(self.last_record)))
        else:
            self.say(f"Unknown command {name}. /help lists the commands.")
        return True

    def ask(self, question: str) -> None:
        settings = self.session.settings
        self.last_record = None
        rewrite = rewrite_followup(
            question, self.history, self.session.llm, settings.history_tokens, Sampling.of(settings)
        )
        if rewrite.method != "as-is" and self.interactive:
            self.say(f"(searching for: {rewrite.standalone})")
        # The question as typed is searched too: if the rewrite went wrong, its own words still count.
        hits = self.session.search(rewrite.standalone, question)
        # /sources lists what was found even if answering fails or is stopped.
        self.last_record = answer_record(Answer(rewrite.standalone, "", retrieved=hits))

        def stream(piece: str) -> None:
            self.out.write(piece)
            self.out.flush()

        try:
            result = self.session.answer(rewrite.standalone, hits, on_token=stream)
        except AnswerInterrupted as stop:
            self.last_record = answer_record(stop.answer)
            raise
        self.last_record = record = answer_record(result)
        self.say()
        lines = evidence_lines(record) + closest_lines(record) + source_lines(record)
        if lines:
            self.say()
            self.say("\n".join(lines))
        self.say()
        self.history.add(question, rewrite.standalone, result.text)


def _lines_from_pipe(stdin: TextIO) -> Iterator[str]:
    yield from stdin


def _lines_from_terminal(history_path: Path | None) -> Iterator[str]:
    """Lines typed at the prompt, with readline editing; Ctrl-C at the prompt gives a fresh prompt."""
    readline = _setup_readline(history_path)
    try:
        while True:
            try:
                line = input(PROMPT)
            except KeyboardInterrupt:
                sys.stdout.write("\n")
                continue
            except EOFError:
                sys.stdout.write("\n")
                return
            if readline and history_path and line.strip():
                _append_history(readline, history_path)
            yield line
    finally:
        if readline and history_path:
            _save_history(readline, history_path)


def _setup_readline(history_path: Path | None):
    try:
        import readline  # only at a terminal: it may write escape codes when imported
    except ImportError:  # Windows without pyreadline: plain input() still works
        return None
    readline.set_history_length(HISTORY_LINES)
    if history_path:
        try:
            create_private(history_path)  # it holds the user's questions
            readline.read_history_file(str(history_path))
        except OSError as exc:
            log.warning("chat history not kept: %s", exc)
    return readline


def _append_history(readline, path: Path) -> None:
    try:
        readline.append_history_file(1, str(path))
    except (OSError, AttributeError) as exc:  # AttributeError: libedit builds without append_history_file
        log.debug("could not append to %s: %s", path, exc)


def _save_history(readline, path: Path) -> None:
    """Rewrite the file with the last HISTORY_LINES lines, so it does not grow for ever."""
    try:
        readline.write_history_file(str(path))
        os.chmod(path, PRIVATE_FILE)
    except OSError as exc:
        log.warning("could not save chat history to %s: %s", path, exc)


def history_path_for(db: Path) -> Path:
    return Path(db) / HISTORY_FILE


def run_chat(
    session: Session,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    interactive: bool | None = None,
) -> None:
    """The chat loop until /quit, Ctrl-D or the end of piped input. The streams default to sys's as they
    are when it runs (not when this module was imported: click's test runner replaces them)."""
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    interactive = stdin.isatty() if interactive is None else interactive
    chat = Chat(session, out, err, interactive)
    if interactive:
        chat.say(BANNER)
        lines = _lines_from_terminal(history_path_for(session.settings.db))
    else:
        lines = _lines_from_pipe(stdin)
    for line in lines:
        if not chat.handle(line):
            break
    if hasattr(lines, "close"):
        lines.close()
