"""What the server does, without HTTP: search, answer, list documents, render a page.

One `Engine` per server. The embedding model and the LLM load once. Each worker thread has its
own connection to the catalog and all share one vector store, so searches run in parallel with
each other; SQLite's WAL and the catalog-first write order (index/__init__.py) give each search a
consistent index while an ingest writes, and the store reopens itself when an ingest by another
process changed it (`Index.refresh`, index/freshness.py). Generation waits its turn in a `GenerationQueue`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from answering import Session, history_of, warm_up
from core.settings import Settings
from core.types import Hit
from generation import Answer, load_llm
from generation.llm import LLM, Message
from index.listing import list_documents
from retrieval import SearchRequest
from server.files import readable, resolve_source
from server.pages import RenderedPage, render_page
from server.queue import Cancelled, GenerationQueue
from watch.status import read_status

log = logging.getLogger(__name__)

Emit = Callable[[str, dict], None]  # (event name, data): one of EVENTS
EVENTS = ("queue", "searching", "token")  # what a client hears while it waits (docs/api.md)


def watcher_health(db: Path) -> dict:
    """Whether a watcher keeps the index in sync (watch/status.py), for /api/health and the page."""
    status = read_status(db)
    if status is None:
        return {"running": False, "last_sync": None}
    return {
        "running": status.running,
        "pid": status.pid,
        "mode": status.mode,
        "state": status.state if status.running else "stopped",
        "last_sync": status.last_sync,
        "last_batch": status.last_batch,
    }


def _silent(name: str, data: dict) -> None:
    pass


class _CancellableLLM:
    """The model, for one request: generation stops at the next token once `cancelled` is set."""

    def __init__(self, llm: LLM, cancelled: threading.Event):
        self._llm, self._cancelled = llm, cancelled

    @property
    def n_ctx(self) -> int:
        return self._llm.n_ctx

    def count_tokens(self, messages: list[Message]) -> int:
        return self._llm.count_tokens(messages)

    def stream_chat(self, messages, max_tokens, temperature, repeat_penalty) -> Iterator[str]:
        stream = self._llm.stream_chat(messages, max_tokens, temperature, repeat_penalty)
        try:
            for piece in stream:
                if self._cancelled.is_set():
                    raise Cancelled()
                yield piece
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()


@dataclass
class Engine:
    settings: Settings
    queue: GenerationQueue = field(default_factory=GenerationQueue)
    _embedder: Any = field(default=None, repr=False)
    _llm: Any = field(default=None, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _open: list = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _accounts: Any = field(default=None, repr=False)
    started: float = field(default_factory=time.time)

    def load(self) -> None:
        """Open the index and load both models now: errors surface at start, not at the first question."""
        retriever = self.retriever()
        retriever.embedder.load()
        warm_up(self.llm())
        log.info("index %s open: %d chunks", retriever.index.path, retriever.index.catalog.chunk_count())

    def retriever(self):
        """This thread's retriever: its own catalog connection, the one vector store and embedder."""
        from retrieval import open_retriever

        found = getattr(self._local, "retriever", None)
        if found is not None:
            return found
        with self._lock:
            if self._embedder is None:
                made = open_retriever(self.settings)  # checks the embedder against the index
                self._embedder = made.embedder
            else:
                made = self._open[0].over(
                    self._open[0].index.for_thread()
                )  # the first one's embedder, options and ranker
            self._open.append(made)
        self._local.retriever = made
        return made

    def llm(self) -> LLM:
        with self._lock:
            if self._llm is None:
                self._llm = load_llm(self.settings)
            return self._llm

    def _fresh(self, search: Callable[[], Any]) -> Any:
        """`search()` against an index view that is current: each search refreshes the index first
        (`Index.refresh`), and the store reopens and retries a read that met vectors an ingest by
        another process changed under it (index/chroma_store.py)."""
        return search()

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: str | None = None,
        where: list[str] | None = None,
        folders: frozenset[str] | None = None,
    ) -> list[Hit]:
        """What `localgpt search` returns for `query`, from `folders` only (None: all of them)."""
        retriever = self.retriever()
        request = SearchRequest(query, k=k, where=where or None, mode=mode, folders=folders)
        retriever.validate(request)
        return self._fresh(lambda: retriever.run(request))

    def session(
        self,
        k: int | None = None,
        mode: str | None = None,
        where: list[str] | None = None,
        cancelled: threading.Event | None = None,
        emit: Emit | None = None,
        folders: frozenset[str] | None = None,
    ) -> Session:
        """The answer service (answering/) for one request: this thread's retriever, the model stopping once
        `cancelled` is set and taken in turn (`emit` hears the place in line), the request's options."""
        retriever = self.retriever()
        retriever.validate(SearchRequest("", where=where or None))  # a bad filter fails before the queue
        cancelled = cancelled or threading.Event()
        emit = emit or _silent
        return Session(
            retriever,
            _CancellableLLM(self.llm(), cancelled),
            self.settings.replace(k=k, search_mode=mode),
            tuple(where or ()),
            model_turn=lambda: self.queue.turn(cancelled, lambda place: emit("queue", {"position": place})),
            reading=self._fresh,
            folders=folders,
        )

    def ask(
        self,
        query: str,
        k: int | None = None,
        mode: str | None = None,
        where: list[str] | None = None,
        history: list[dict] | None = None,
        emit: Emit | None = None,
        cancelled: threading.Event | None = None,
        folders: frozenset[str] | None = None,
    ) -> Answer:
        """The answer to `query` (a follow-up is made standalone from `history`: [{"question",
        "answer"}...], oldest first, as `chat` does). `emit` hears the place in line, the rewritten
        question and the answer's pieces. Raises Cancelled once `cancelled` is set."""
        emit = emit or _silent

        def hear(name: str, data: dict) -> None:
            if name in EVENTS:
                emit(name, data)

        session = self.session(k, mode, where, cancelled, emit, folders)
        return session.ask(query, history_of(history), on_event=hear)

    def documents(self, query: str = "", folders: frozenset[str] | None = None) -> list[dict]:
        """The files of `folders` (None: all) whose source or failure holds every word of `query`."""
        docs = list_documents(self.retriever().index.catalog, readable=folders)
        words = query.lower().split()
        out = []
        for doc in docs:
            if all(w in doc.source.lower() or w in doc.last_failure.lower() for w in words):
                out.append(doc.to_json())
        return out

    def page(
        self,
        source: str,
        page: int,
        highlight: str = "",
        scale: float | None = None,
        folders: frozenset[str] | None = None,
    ) -> RenderedPage:
        path = resolve_source(self.retriever().index.catalog, source, folders)
        return render_page(path, page, highlight, scale) if scale else render_page(path, page, highlight)

    def passage(self, chunk_id: str, folders: frozenset[str] | None = None) -> dict | None:
        """A chunk by its id, if the index holds it in one of `folders` (None: any)."""
        catalog = self.retriever().index.catalog
        chunks = catalog.get_chunks([chunk_id])
        chunk = chunks.get(chunk_id)
        if chunk is None or not readable(catalog, chunk.source, folders):
            return None
        return chunk.to_json()

    def accounts(self):
        """The index's own account store (index/accounts_store.py)."""
        catalog = self.retriever().index.catalog
        with self._lock:
            if self._accounts is None:
                self._accounts = catalog.accounts()
            return self._accounts

    def roots(self):
        return self.retriever().index.catalog.roots()

    def health(self, restricted: bool = False) -> dict:
        """The server's state; for a user who reads only some folders, without the index's size."""
        if restricted:
            return {
                "status": "ok",
                "model_loaded": self._llm is not None,
                "generation_waiting": self.queue.waiting(),
                "uptime_s": round(time.time() - self.started, 1),
            }
        index = self.retriever().index
        catalog = index.catalog
        return {
            "status": "ok",
            "db": str(index.path),
            "files": catalog.file_count(),
            "chunks": catalog.chunk_count(),
            "model_loaded": self._llm is not None,
            "generation_waiting": self.queue.waiting(),
            "uptime_s": round(time.time() - self.started, 1),
            "watcher": watcher_health(Path(self.settings.db)),
        }

    def close(self) -> None:
        with self._lock:
            for retriever in self._open:
                try:
                    retriever.close()
                except Exception as exc:  # noqa: BLE001 (closing at shutdown: log and go on)
                    log.warning("closing an index connection: %s", exc)
            self._open.clear()
