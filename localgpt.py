"""localgpt: ask questions of your own documents, fully offline, with citations.

This file is only the command line: each command reads its options into Settings,
calls one function of ingest/, retrieval/ or generation/, and prints the result.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Callable

import click

from core.display import plural, shown
from core.errors import LocalGPTError, NoIndexError
from core.offline import enforce_offline
from frontends.accounts_cli import add_commands as add_account_commands
from core.settings import (
    CHAT,
    EMBEDDING,
    GENERATION,
    HELP,
    INDEX,
    INGEST,
    RETRIEVAL,
    SERVER,
    WATCH,
    default_of,
    env_var,
    load_settings,
    names_of,
    option_flags,
)


def setting_option(name: str, **extra: Any) -> Callable:
    """A click option for a setting: help and default from core.settings, LOCALGPT_* named in --help.
    A yes/no setting is a flag pair, --name/--no-name."""
    default = default_of(name)
    flags = option_flags(name)
    shown = "" if default in ("", None) else f" [default: {default}]"
    help_text = f"{HELP[name]}{shown} [env: {env_var(name)}]"
    kind = type(default)
    if kind is bool:
        pair = "/".join((flags[0], "--no-" + flags[0].removeprefix("--")))
        return click.option(pair, name, default=None, help=help_text, **extra)
    click_type = str if kind.__name__ in ("PosixPath", "WindowsPath") else kind
    return click.option(*flags, name, default=None, type=click_type, help=help_text, **extra)


def setting_options(*names: str) -> Callable:
    """The options of `names`, in that order in --help."""

    def decorate(command: Callable) -> Callable:
        for name in reversed(names):
            command = setting_option(name)(command)
        return command

    return decorate


# The option groups, from the stages of the settings table: every command that searches takes the same
# options, and every command that answers takes those and the generation settings.
SEARCH_SETTINGS = names_of(INDEX, EMBEDDING, RETRIEVAL)
ANSWER_SETTINGS = names_of(INDEX, EMBEDDING, RETRIEVAL, GENERATION)
INGEST_SETTINGS = names_of(INDEX, EMBEDDING, INGEST)
WATCH_SETTINGS = tuple(n for n in names_of(INDEX, EMBEDDING, INGEST, WATCH) if n != "source_dir")


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
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@cli.command()
@setting_options(*INGEST_SETTINGS)
@click.option(
    "--exclude",
    "exclude",
    multiple=True,
    metavar="GLOB",
    help="Do not ingest files matching GLOB (gitignore syntax, as in the folder's .localgptignore); repeat for several.",
)
@click.option("--quiet", is_flag=True, help="No progress bar; only the final summary and the failures.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="Write the outcome of every file to this JSON file.",
)
def ingest(quiet: bool, report_path: str | None, exclude: tuple[str, ...], **options: Any) -> None:
    """Read a folder of documents into the index (again: only what changed).

    An index holds several folders: ingesting one touches only that folder's files
    (`localgpt documents` lists them, `localgpt remove` takes files or a folder out).

    \b
    Exit codes: 0 every file ingested (or failed before and acknowledged: localgpt
    acknowledge); 3 some files failed anew (listed with the reason); 1 nothing could be
    done (missing or empty folder, index locked or built otherwise).

    \b
    localgpt ingest --source-dir ~/private --db db
    localgpt ingest --source-dir ~/mail-export --db db --exclude 'drafts/' --exclude '*.tmp.pdf'
    localgpt ingest --source-dir ~/private --quiet --report outcome.json   # for cron
    """
    from ingest.progress import Progress

    settings = settings_from(options)
    progress = Progress(0, enabled=not quiet)

    report = run_guarded(lambda: ingest_beside_a_watcher(settings, progress, exclude))
    click.echo(report.summary())
    for outcome in report.failed:
        known = " (known)" if outcome.known else ""
        click.echo(f"  failed{known}: {shown(outcome.source)}: {outcome.reason}")
    for outcome in report.outcomes:
        if outcome.status == "skipped" and outcome.reason.startswith("symbolic link"):
            click.echo(f"  skipped: {shown(outcome.source)}: {outcome.reason}")
    if report_path:
        with open(report_path, "w", encoding="utf-8") as handle:
            json.dump(report.to_json(), handle, indent=2, ensure_ascii=False)
    sys.exit(report.exit_code)


@cli.command()
@click.option(
    "--source-dir",
    "source_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="A folder to keep in sync; repeat for several. Default: every folder the index holds "
    "(localgpt documents), else $LOCALGPT_SOURCE_DIR.",
)
@setting_options(*WATCH_SETTINGS)
@click.option(
    "--exclude",
    "exclude",
    multiple=True,
    metavar="GLOB",
    help="Do not ingest files matching GLOB (gitignore syntax, as in the folder's .localgptignore); repeat for several.",
)
@click.option("--end-with", "parent", type=int, default=None, hidden=True)  # serve --watch: stop when it ends
def watch(source_dirs: tuple[str, ...], exclude: tuple[str, ...], parent: int | None, **options: Any) -> None:
    """Keep the index in sync with folders until stopped (Ctrl-C, SIGTERM).

    First an incremental ingest of each folder (what changed while nobody watched), then
    every change as filesystem events report it: one batch after a quiet second, files still
    being written waited for, renames kept without embedding again, temp files ignored.
    One line per batch on stderr. A second watcher of the same --db stops with an error; an
    ingest meanwhile is waited for (docs/watch.md).

    \b
    localgpt watch --source-dir ~/private --db db
    localgpt watch --db db                          # every folder the index holds
    localgpt watch --source-dir /mnt/nas/docs --poll 30   # a filesystem without events
    """
    from watch.runner import run_watch

    settings = settings_from(options)
    if parent:
        from watch.child import end_with

        end_with(parent)

    def say(line: str) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {line}", err=True)

    run_guarded(lambda: run_watch(settings, source_dirs, exclude, say))


def ingest_beside_a_watcher(settings, progress, exclude):
    """`run_ingest`; when the index is busy because a watcher's batch is writing, the error says so."""
    from core.errors import IngestLockedError
    from ingest.pipeline import run_ingest
    from watch.status import read_status

    try:
        return run_ingest(settings, progress=progress, exclude=exclude)
    except IngestLockedError as exc:
        status = read_status(settings.db)
        if status is None or not status.running:
            raise
        raise IngestLockedError(
            f"{exc} It is `localgpt watch` (pid {status.pid}), which keeps this index in sync with "
            f"{', '.join(status.folders)}: their changes reach the index without an ingest."
        ) from None


@cli.command("build-onnx")
@setting_option("embedding_model")
@setting_option("embedding_precision")
@setting_option("onnx_cache")
def build_onnx(**options: Any) -> None:
    """Export the embedding model to ONNX now (done once, on first use, otherwise).

    \b
    For an air-gapped machine: build it where torch and onnx are installed, copy the folder
    printed here into the other machine's --onnx-cache (default ~/.cache/localgpt/onnx).

    \b
    localgpt build-onnx
    localgpt build-onnx --onnx-cache /media/usb/onnx-cache
    """
    from embeddings.embedder import prepare_onnx

    settings = settings_from(options)
    click.echo(run_guarded(lambda: prepare_onnx(settings)))


def where_option(command: Callable) -> Callable:
    return click.option(
        "--where",
        "where",
        multiple=True,
        metavar="KEY=VALUE",
        help="Only passages whose metadata matches: source=GLOB (e.g. 'contracts/*'), page=N or N-M, "
        "KEY=VALUE; alternatives with |; repeat to require several.",
    )(command)


def _answer_options(command: Callable) -> Callable:
    """The options of every command that answers questions (ask, chat, batch), --where included."""
    return where_option(setting_options(*ANSWER_SETTINGS)(command))


def _eval_options(command: Callable) -> Callable:
    """`search`'s options but those --modes replaces (eval scores several modes, each at its own k)."""
    names = [n for n in SEARCH_SETTINGS if n not in ("k", "search_mode", "mmr")]
    return where_option(setting_options(*names)(command))


def check_question(question: str) -> str:
    if not question.strip():
        raise click.BadParameter(
            'the question is empty. Ask something, e.g. localgpt ask "What is the rent?"', param_hint="QUESTION"
        )
    return question


@cli.command()
@click.argument("question")
@_answer_options
@click.option("--show-sources", is_flag=True, help="After the answer, print every retrieved passage with its score.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (answer, sources, passages) instead of text."
)
def ask(question: str, as_json: bool, show_sources: bool, where: tuple[str, ...], **options: Any) -> None:
    """Answer QUESTION from the index, citing file and page.

    The answer streams as it is written; Ctrl-C stops it (exit code 130). Passages are
    numbered in the prompt and the answer cites them as [1], [2]; the sources it cites
    are listed after it. When no passage is relevant enough (--min-score), the answer is
    a refusal and the model is not asked.

    \b
    localgpt ask "What is the notice period in the lease?"
    localgpt ask --show-sources "How often should the kettle be descaled?"
    localgpt ask --where 'source=contracts/*' --mode bm25 "What does clause 14.2 say?"
    localgpt ask --model ~/models/Llama-3.2-3B-Instruct-Q4_K_M.gguf --n-ctx 8192 --excerpt-sentences 0 "Who signed?"
    """
    from answering import open_session
    from frontends.render import closest_lines, evidence_lines, retrieved_lines, source_lines
    from generation import AnswerInterrupted
    from generation.record import answer_record

    check_question(question)
    settings = settings_from(options)
    if sys.stderr.isatty():  # a person waiting: say at once that something is happening
        click.echo("Searching the index and loading the model...", err=True)

    def stream(name: str, data: dict) -> None:
        if name == "token":
            click.echo(data["text"], nl=False)
            sys.stdout.flush()

    def run():
        with open_session(settings, where) as session:
            return session.ask(question, on_event=None if as_json else stream)

    interrupted = False
    try:
        result = run_guarded(run)
    except AnswerInterrupted as stop:
        result, interrupted = stop.answer, True
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        sys.exit(130)
    record = answer_record(result)
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo()
        if interrupted:
            click.echo("[answer interrupted]", err=True)
        blocks = [
            evidence_lines(record),
            closest_lines(record),
            source_lines(record, none_cited="The answer cited no passage. Passages it was given:"),
            retrieved_lines(record, settings.min_score) if show_sources else [],
        ]
        for lines in filter(None, blocks):
            click.echo("\n" + "\n".join(lines))
    if result.left_out:
        click.echo(
            f"Note: {plural(len(result.left_out), 'relevant passage')} did not fit the context window "
            f"(--n-ctx {settings.n_ctx}) and were left out: " + "; ".join(h.chunk.citation() for h in result.left_out),
            err=True,
        )
    if result.answer_method == "quoted" and result.withheld and not as_json:
        click.echo(
            f"Note: the model's own answer was not shown ({result.withheld}); the answer quotes the documents.",
            err=True,
        )
    if interrupted:
        sys.exit(130)


@cli.command()
@click.argument("question")
@setting_options(*SEARCH_SETTINGS)
@where_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON array of hits: the matched chunk's full text, and "
    "its widened passage (text, and where the chunk sits in it).",
)
def search(question: str, where: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Show the passages that match QUESTION, best first, without generating an answer.

    \b
    localgpt search "where does it say the deposit is returned?"
    localgpt search --mode bm25 "ERR-4031"
    localgpt search --where 'source=contracts/*' -k 3 "notice period"
    localgpt search --json "clause 14.2" | jq '.[0].text'
    """
    from frontends.render import search_lines
    from generation.record import search_record
    from retrieval import SearchRequest, open_retriever

    check_question(question)
    settings = settings_from(options)

    def run():
        with open_retriever(settings) as retriever:
            request = SearchRequest(question, where=list(where) or None)
            retriever.validate(request)
            return retriever.run(request)

    records = search_record(run_guarded(run))
    click.echo(json.dumps(records, ensure_ascii=False) if as_json else "\n".join(search_lines(records)))


@cli.command(name="eval")
@click.argument("qa_file", type=click.Path(dir_okay=False))
@_eval_options
@click.option(
    "--modes",
    default=None,
    metavar="LIST",
    help="Comma-separated modes to score: dense, bm25, hybrid, each optionally +rerank and/or +mmr. "
    "[default: dense,bm25,hybrid, and hybrid+rerank when a reranker is set]",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures instead of a table.")
@click.option(
    "--mlflow",
    "mlflow_dir",
    default=None,
    metavar="DIR",
    help="Also log the run's settings and figures to the local MLflow file store DIR "
    "(needs the optional extra: pip install 'localgpt[mlflow]').",
)
def eval_command(
    qa_file: str, where: tuple[str, ...], modes: str | None, as_json: bool, mlflow_dir: str | None, **options: Any
) -> None:
    """Score retrieval on a question set (JSONL) against the current index.

    Prints recall@1/5/10, MRR@10, nDCG@10 and latency p50/p95 for each mode.
    Each line of QA_FILE: {"question": ..., "qrels": [paths or chunk ids]} or
    {"question": ..., "expected": [answer strings], "match": "any" or "all"}.

    \b
    localgpt eval questions.jsonl
    localgpt eval --reranker ~/models/ms-marco-MiniLM-L-6-v2 --json questions.jsonl
    localgpt eval --mlflow ~/localgpt-runs questions.jsonl
    """
    from evaluation import evaluate, load_qa
    from evaluation.runner import default_modes
    from retrieval import open_retriever

    settings = settings_from(options)

    def run():
        if mlflow_dir:
            from evaluation.mlflow_log import require_mlflow

            require_mlflow()  # before the run, not after it
        items = load_qa(qa_file)
        names = [m for m in modes.split(",") if m.strip()] if modes else default_modes(bool(settings.reranker))
        with open_retriever(settings) as retriever:
            return evaluate(retriever, items, names, where=list(where) or None)

    report = run_guarded(run)
    click.echo(json.dumps(report.to_json(), ensure_ascii=False) if as_json else report.table())
    if mlflow_dir:
        from evaluation.mlflow_log import log_eval

        run_id = run_guarded(lambda: log_eval(mlflow_dir, report.to_json(), settings, qa_file))
        click.echo(f"Logged to MLflow in {mlflow_dir} (experiment localgpt-retrieval, run {run_id}).", err=True)


@cli.command()
@setting_option("db")
@setting_option("index_url")
@setting_option("index_password_file")
@setting_option("embedding_model")
@setting_option("device")
@setting_option("model")
@setting_option("ocr")
@setting_option("ocr_language")
@setting_option("host")
@setting_option("port")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def doctor(as_json: bool, **options: Any) -> None:
    """Check this install: versions, models (path, size, SHA-256), devices, the index, disk, memory, offline switches.

    \b
    Exit codes: 0 nothing needed is missing or broken; 1 a problem, named in brackets
    (llm-missing, embedding-model-missing, index-embedder-mismatch, index-readable-by-others, ...).

    \b
    localgpt doctor
    localgpt doctor --db ~/indexes/work --json
    """
    from doctor import run_doctor

    settings = settings_from(options)
    report = run_guarded(lambda: run_doctor(settings))
    click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False) if as_json else report.to_text())
    sys.exit(report.exit_code)


@cli.command()
@click.argument("patterns", nargs=-1, metavar="[GLOB]...")
@setting_options(*names_of(INDEX))
@click.option("--folder", help="Only the files ingested from this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of files instead of text.")
def documents(patterns: tuple[str, ...], folder: str | None, as_json: bool, **options: Any) -> None:
    """List what the index holds: each file with its folder, chunks, pages, size, when it was
    ingested, and the reason it failed in its folder's last ingest, if it did.

    GLOB: only sources matching it ('*.pdf', 'office/*'), or under a folder of sources ('office').

    \b
    localgpt documents
    localgpt documents --folder ~/private '*.pdf'
    localgpt documents --json | jq '.[] | select(.last_failure != "")'
    """
    from index import open_configured_index
    from index.listing import list_documents, render

    settings = settings_from(options)

    def run():
        with open_configured_index(settings) as index:
            return list_documents(index.catalog, folder, patterns), index.catalog.roots()

    docs, roots = run_guarded(run)
    click.echo(json.dumps([d.to_json() for d in docs], ensure_ascii=False) if as_json else render(docs, roots))


@cli.group("index")
def index_group() -> None:
    """Work on a whole index: `localgpt index copy` moves it to PostgreSQL (or back)."""


@index_group.command("copy")
@setting_options(*names_of(INDEX))
@click.option(
    "--to",
    "destination",
    required=True,
    help="Where to copy the index: a postgresql:// URL (as --index-url takes it) or a folder.",
)
def copy_index_command(destination: str, **options: Any) -> None:
    """Copy the index (--db, or --index-url) to another place without embedding anything again:
    a folder index into a team's PostgreSQL database, or back. Run it again to bring the copy up
    to date; a copy that was stopped finishes where it stopped.

    \b
    localgpt index copy --db ~/localgpt-db --to 'postgresql://localgpt@10.0.0.7/team?schema=handbook'
    localgpt index copy --index-url 'postgresql://localgpt@10.0.0.7/team' --to ~/backup-db
    """
    from index import configured_index_exists, index_label, open_configured_index, open_index
    from index.copy import copy_index
    from index.pg_connect import is_postgres_url

    settings = settings_from(options)
    to_url = destination if is_postgres_url(destination) else ""

    def run():
        if not configured_index_exists(settings):
            raise NoIndexError(f"No index at {index_label(settings.db, settings.index_url)}: nothing to copy.")
        with open_configured_index(settings) as source:
            with open_index(
                destination, write=True, index_url=to_url, password_file=settings.index_password_file
            ) as dest:
                return copy_index(source, dest), str(dest.path)

    report, where = run_guarded(run)
    click.echo(
        f"Copied {index_label(settings.db, settings.index_url)} to {where}: {plural(len(report.copied), 'file')} "
        f"({plural(report.chunks, 'chunk')}) copied, {report.unchanged} unchanged, {len(report.removed)} removed."
    )


@cli.command()
@click.argument("targets", nargs=-1, required=True, metavar="SOURCE...")
@setting_options(*names_of(INDEX))
def remove(targets: tuple[str, ...], **options: Any) -> None:
    """Take files or a whole folder out of the index; the files on disk are not touched.

    SOURCE: a folder the index holds (its path), a file or folder on disk inside one, a
    source as `localgpt documents` lists it, a folder of sources, or a glob ('office/*.tmp').
    If one matches nothing, nothing is removed. A file still in an ingested folder comes back
    at that folder's next ingest unless excluded (.localgptignore or --exclude).

    \b
    localgpt remove ~/old-projects
    localgpt remove 'office/drafts/*' secrets.txt
    """
    from index import configured_index_exists, index_label, open_configured_index
    from index.listing import remove as remove_from, resolve_targets

    settings = settings_from(options)

    def run():
        if not configured_index_exists(settings):
            raise NoIndexError(f"No index at {index_label(settings.db, settings.index_url)}: nothing to remove.")
        with open_configured_index(settings, write=True) as index:
            removal = resolve_targets(index.catalog, targets)
            remove_from(index, removal)
            return removal

    removal = run_guarded(run)
    for source in removal.sources:
        click.echo(f"removed: {shown(source)}")
    for folder in removal.folders:
        click.echo(f"removed folder: {shown(folder)} (ingest it again to bring it back)")
    click.echo(
        f"{plural(len(removal.sources), 'file')} removed from {index_label(settings.db, settings.index_url)}; "
        "nothing on disk was touched."
    )


@cli.command()
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@setting_options(*names_of(INDEX))
def acknowledge(sources: tuple[str, ...], **options: Any) -> None:
    """Mark failures of the last ingest as known: while the file and the reason stay the same,
    later ingests still list them, as "failed (known)", but exit 0 for them, not 3.

    Without SOURCE: every failure `localgpt documents` shows. A file that changes, or fails for
    another reason, counts as a new failure again.

    \b
    localgpt acknowledge scans/receipt.pdf
    localgpt acknowledge            # all current failures
    """
    from index import configured_index_exists, index_label, open_configured_index

    settings = settings_from(options)

    def run():
        if not configured_index_exists(settings):
            raise NoIndexError(f"No index at {index_label(settings.db, settings.index_url)}: nothing to acknowledge.")
        with open_configured_index(settings, write=True) as index:
            unknown = sorted(set(sources) - set(index.catalog.failures()))
            if unknown:
                raise LocalGPTError(
                    f"No failure recorded for {', '.join(map(shown, unknown))}; nothing was marked. "
                    "`localgpt documents` shows each file's last failure."
                )
            return index.catalog.acknowledge_failures(list(sources) or None)

    marked = run_guarded(run)
    for source in marked:
        click.echo(f"acknowledged: {shown(source)}")
    click.echo(f"{plural(len(marked), 'failure')} marked as known.")


@cli.command()
@_answer_options
@setting_options(*names_of(CHAT))
def chat(where: tuple[str, ...], **options: Any) -> None:
    """Ask questions one after another; follow-ups are understood from the conversation.

    \b
    At a terminal: a prompt with line editing and history (kept in DB/chat_history);
    /help, /sources (passages behind the last answer), /reset, /quit; Ctrl-C stops
    an answer, Ctrl-D leaves. Piped: one question per line, answers on stdout.

    \b
    localgpt chat
    printf "What is the rent?\\nAnd the deposit?\\n" | localgpt chat
    """
    from frontends.chat import run_chat
    from answering import open_session

    settings = settings_from(options)

    def run() -> None:
        if sys.stdin.isatty():
            click.echo("Loading the index and the model...", err=True)
        with open_session(settings, where=where) as session:
            run_chat(session)

    try:
        run_guarded(run)
    except KeyboardInterrupt:
        click.echo("", err=True)
        sys.exit(130)


@cli.command()
@click.argument("questions", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Answers file: .jsonl, .csv or .md (a report). Rerunning with the same file resumes.",
)
@_answer_options
@click.option("--quiet", is_flag=True, help="No progress bar; only the final summary.")
def batch(questions: str, output: str, quiet: bool, where: tuple[str, ...], **options: Any) -> None:
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
    from frontends.batch import EXIT_INTERRUPTED, progress_callbacks, run_batch
    from frontends.batch_files import format_for, read_questions
    from answering import open_session
    from core.locks import output_lock

    settings = settings_from(options)
    on_start, on_done, close = progress_callbacks(not quiet)

    def run():
        format_for(output)  # a wrong extension fails before the model loads
        items = read_questions(questions, sys.stdin)
        with output_lock(output), open_session(settings, where=where) as session:
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


@cli.command()
@setting_options(*ANSWER_SETTINGS, *names_of(CHAT, SERVER, WATCH))  # --where is per request
@click.option(
    "--watch",
    "watch_folders",
    is_flag=True,
    help="Keep the index in sync with its folders while serving (localgpt watch, in a process of its own).",
)
def serve(watch_folders: bool, **options: Any) -> None:
    """Serve the web app and the HTTP API (native JSON and OpenAI-compatible) on this machine.

    Binds 127.0.0.1 by default: only this machine can connect. On any other address every
    request needs a token (--token, or one generated and printed once): that is for one person.
    For a team, add users (`localgpt users add`, `localgpt grant`): everyone then logs in, on
    loopback too, and reads only their groups' folders. docs/api.md lists the routes; any
    OpenAI client works with base URL http://HOST:PORT/v1 and model "localgpt".

    \b
    localgpt serve --db db                             # http://127.0.0.1:8000/
    localgpt serve --db db --host 0.0.0.0 --port 8080  # for a team: prints the token once
    localgpt serve --db db --watch                     # and follow the folders' changes
    localgpt serve --db db --trusted-user-header X-Forwarded-User --trusted-proxy 127.0.0.1
    """
    from server.run import build, plan as plan_for, run

    settings = settings_from(options)
    plan = run_guarded(lambda: plan_for(settings.host, settings.port, settings.token))
    click.echo("Loading the index and the model...", err=True)
    app, engine, plan, team = run_guarded(lambda: build(settings, plan))
    from index import index_label

    click.echo(f"localgpt is serving {index_label(settings.db, settings.index_url)} at {plan.url}", err=True)
    if team is not None:
        audit = getattr(team.audit, "path", None)
        click.echo(
            "Users log in with their passwords (/login) or keys; each reads only the folders granted to their groups."
            + (f" Audit log: {audit}" if audit else " No audit log (--no-audit)."),
            err=True,
        )
    elif plan.generated:
        click.echo(f"Token (shown once; every request needs it): {plan.token}", err=True)
    elif plan.token is None:
        click.echo("Only this machine can connect (127.0.0.1); no token is needed.", err=True)
    click.echo(plan.url)
    sys.stdout.flush()
    run(app, engine, plan, watch=watch_folders)


@cli.command("model-server", context_settings={"ignore_unknown_options": True})
@setting_options("model", "n_ctx", "threads", "n_gpu_layers")
@click.option("--host", "bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", "bind_port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--api-key-file",
    default="",
    help="File holding the key every request must carry (Authorization: Bearer KEY). "
    "Off loopback without one, a key is made and printed once.",
)
@click.argument("extra", nargs=-1, type=click.UNPROCESSED, metavar="[-- LLAMA_CPP_SERVER_ARGS]...")
def model_server(bind: str, bind_port: int, api_key_file: str, extra: tuple[str, ...], **options: Any) -> None:
    """Serve a GGUF model over an OpenAI-compatible API, for another host's --llm-url.

    llama-cpp-python's own server, with this install's CPU variants loaded (plain
    `python -m llama_cpp.server` cannot load them). Arguments after `--` go to it as they are.

    \b
    localgpt model-server                                  # the bundled model on 127.0.0.1:8080
    localgpt model-server --model big.gguf --host 0.0.0.0  # for a team: prints the key once
    localgpt ask "..." --llm-url http://GPU-HOST:8080/v1 --llm-api-key-file key.txt
    """
    from generation.backends.model_server import plan_model_server, run_model_server

    settings = settings_from(options)
    plan = run_guarded(lambda: plan_model_server(settings, bind, bind_port, api_key_file))
    click.echo(f"Serving {plan.model.name} at {plan.url}", err=True)
    if plan.generated:
        click.echo(f"API key (shown once; every request needs it): {plan.api_key}", err=True)
    elif not plan.api_key:
        click.echo("Only this machine can connect; no key is needed.", err=True)
    run_guarded(lambda: run_model_server(plan, extra))


add_account_commands(cli, setting_options(*names_of(INDEX)), settings_from, run_guarded)  # users, grant, revoke, keys


if __name__ == "__main__":
    cli()
