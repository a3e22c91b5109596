"""localgpt: ask questions of your own documents, fully offline, with citations.

This file is only the command line: each command reads its options into Settings,
calls one function of ingest/, retrieval/ or generation/, and prints the result.
"""
from __future__ import annotations

import json
import logging
import sys
from typing import Any, Callable

import click

from core.errors import LocalGPTError
from core.offline import enforce_offline
from core.settings import HELP, default_of, env_var, load_settings

# Option names for settings whose CLI name differs from --setting-name.
_FLAG_NAMES = {"k": ("-k", "--k")}


def setting_option(name: str, **extra: Any) -> Callable:
    """A click option for a setting: help and default from core.settings, LOCALGPT_* named in --help."""
    default = default_of(name)
    flags = _FLAG_NAMES.get(name, (f"--{name.replace('_', '-')}",))
    shown = "" if default in ("", None) else f" [default: {default}]"
    kind = type(default)
    if kind is bool:
        return click.option(*flags, name, default=None, help=f"{HELP[name]}{shown} [env: {env_var(name)}]", is_flag=False,
                            type=click.BOOL, **extra)
    click_type = str if kind.__name__ in ("PosixPath", "WindowsPath") else kind
    return click.option(*flags, name, default=None, type=click_type, help=f"{HELP[name]}{shown} [env: {env_var(name)}]", **extra)


def settings_from(options: dict[str, Any]):
    try:
        return load_settings(options)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def run_guarded(action: Callable[[], Any]) -> Any:
    """Our own errors become one line and an exit code, never a traceback."""
    try:
        return action()
    except LocalGPTError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens to stderr.")
@click.version_option(package_name="localgpt", message="localgpt %(version)s")
def cli(verbose: bool) -> None:
    """Ask questions of your own documents. Nothing leaves this machine.

    \b
    localgpt ingest --source-dir ~/private --db db
    localgpt ask "What is the notice period in the lease?"
    """
    enforce_offline()
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@setting_option("source_dir")
@setting_option("db")
@setting_option("embedding_model")
@setting_option("device")
@setting_option("chunk_tokens")
@setting_option("chunk_overlap")
@click.option("--quiet", is_flag=True, help="No progress; only the final summary.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write the outcome of every file to this JSON file.")
def ingest(quiet: bool, report_path: str | None, **options: Any) -> None:
    """Read a folder of documents into the index (again: only what changed).

    \b
    Exit codes: 0 every file ingested; 3 some files failed (listed with the reason);
    1 nothing could be done (missing or empty folder, index locked or built otherwise).
    """
    from ingest.pipeline import run_ingest  # noqa: PLC0415

    settings = settings_from(options)

    def on_file(outcome) -> None:
        if not quiet and outcome.status in ("new", "changed", "failed"):
            detail = f"{outcome.chunks} chunks" if outcome.status != "failed" else outcome.reason
            click.echo(f"  {outcome.status:<8} {outcome.source} ({detail})", err=True)

    report = run_guarded(lambda: run_ingest(settings, on_file=on_file))
    click.echo(report.summary())
    for outcome in report.failed:
        click.echo(f"  failed: {outcome.source}: {outcome.reason}")
    if report_path:
        with open(report_path, "w", encoding="utf-8") as handle:
            json.dump(report.to_json(), handle, indent=2, ensure_ascii=False)
    sys.exit(report.exit_code)


@cli.command()
@click.argument("question")
@setting_option("db")
@setting_option("embedding_model")
@setting_option("device")
@setting_option("k")
@setting_option("min_score")
@setting_option("model")
@setting_option("n_ctx")
@setting_option("max_tokens")
@setting_option("temperature")
@setting_option("threads")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (answer, sources, passages) instead of text.")
def ask(question: str, as_json: bool, **options: Any) -> None:
    """Answer QUESTION from the index, citing file and page.

    \b
    localgpt ask "What is the notice period in the lease?"
    localgpt ask --model ~/models/llama-3.1-8b-instruct.Q4_K_M.gguf "Who signed the contract?"
    """
    from generation import answer, load_llm  # noqa: PLC0415
    from retrieval import open_retriever  # noqa: PLC0415

    settings = settings_from(options)

    def run():
        with open_retriever(settings) as retriever:
            hits = retriever.search(question)
            llm = load_llm(settings)
            stream = None if as_json else (lambda piece: click.echo(piece, nl=False))
            return answer(question, hits, llm, settings, on_token=stream)

    result = run_guarded(run)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    click.echo()
    print_sources(result)


def print_sources(result) -> None:
    if result.refused:
        return
    if result.cited:
        click.echo("\nSources:")
        for n in result.cited:
            click.echo(f"  [{n}] {result.passages[n - 1].chunk.citation()}")
    else:
        click.echo("\nSources (the answer cited none; passages it was given):")
        for n, hit in enumerate(result.passages, start=1):
            click.echo(f"  [{n}] {hit.chunk.citation()}")


def _query_options(command: Callable) -> Callable:
    """The options of every command that answers questions (chat, batch)."""
    for name in reversed(("db", "embedding_model", "device", "k", "min_score", "model", "n_ctx", "max_tokens",
                          "temperature", "threads")):
        command = setting_option(name)(command)
    return command


@cli.command()
@_query_options
@setting_option("history_tokens")
def chat(**options: Any) -> None:
    """Ask questions one after another; follow-ups are understood from the conversation.

    \b
    At a terminal: a prompt with line editing and history (kept in DB/chat_history);
    /help, /sources (passages behind the last answer), /reset, /quit; Ctrl-C stops
    an answer, Ctrl-D leaves. Piped: one question per line, answers on stdout.
    \b
    localgpt chat
    printf "What is the rent?\\nAnd the deposit?\\n" | localgpt chat
    """
    from frontends.chat import run_chat  # noqa: PLC0415
    from frontends.session import open_session  # noqa: PLC0415

    settings = settings_from(options)

    def run() -> None:
        if sys.stdin.isatty():
            click.echo("Loading the index and the model...", err=True)
        with open_session(settings) as session:
            run_chat(session)

    try:
        run_guarded(run)
    except KeyboardInterrupt:
        click.echo("", err=True)
        sys.exit(130)


@cli.command()
@click.argument("questions", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Answers file: .jsonl, .csv or .md (a report). Rerunning with the same file resumes.")
@_query_options
@click.option("--quiet", is_flag=True, help="No progress bar; only the final summary.")
def batch(questions: str, output: str, quiet: bool, **options: Any) -> None:
    """Answer every question in QUESTIONS, writing each answer to --output as it is done.

    \b
    QUESTIONS: a text file (one question a line; blank lines and # comments skipped),
    .jsonl ({"id": ..., "question": ...} a line) or .csv (a question column, an id
    column if present); - reads a text file from stdin.
    Interrupted? Run the same command again: answered questions are skipped.
    \b
    Exit codes: 0 every question answered; 3 some failed (recorded with their error,
    retried by a rerun); 1 nothing could be done (no index, unreadable file); 130 interrupted.
    \b
    localgpt batch questions.txt -o answers.jsonl
    localgpt batch questions.csv -o report.md
    """
    from frontends.batch import EXIT_INTERRUPTED, progress_callbacks, run_batch  # noqa: PLC0415
    from frontends.batch_files import format_for, read_questions  # noqa: PLC0415
    from frontends.session import open_session  # noqa: PLC0415

    settings = settings_from(options)
    on_start, on_done, close = progress_callbacks(not quiet)

    def run():
        format_for(output)  # a wrong extension fails before the model loads
        items = read_questions(questions, sys.stdin)
        with open_session(settings) as session:
            return run_batch(session, items, output, on_done=on_done, on_start=on_start)

    try:
        report = run_guarded(run)
    except KeyboardInterrupt:
        close()
        click.echo(f"Interrupted. Answers so far are in {output}; run the same command again to go on.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    close()
    click.echo(report.summary())
    for question, error in report.failed:
        click.echo(f"  failed: {question.id}: {error}")
    sys.exit(report.exit_code)


if __name__ == "__main__":
    cli()
