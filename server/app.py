"""The HTTP routes: the web UI, the native JSON API (/api) and the OpenAI-compatible one (/v1).

Every error is one line of JSON, {"error": "..."}, with a status code; never a traceback.
Blocking work (search, generation, rendering) runs in threads; the event loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any, AsyncIterator, Callable
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from core.errors import LocalGPTError, NoIndexError
from generation.record import answer_record, search_record
from server.engine import Engine, RequestError
from server.files import FileRefused, SourceNotFound
from server.queue import Cancelled
from server.security import COOKIE, MAX_BODY, Guard, json_error
from server import openai_compat

log = logging.getLogger(__name__)

ASK_THREADS = 64  # requests that may wait in line for the model at once
PING_S = 2.0  # seconds between keep-alive comments in a silent event stream
Job = Callable[[Callable[[str, dict], None], threading.Event], Any]


def error_response(status: int, message: str) -> Response:
    status, body = json_error(status, message)
    return Response(body, status_code=status, media_type="application/json")


def status_of(exc: Exception) -> int:
    if isinstance(exc, SourceNotFound):
        return 404
    if isinstance(exc, FileRefused):
        return 403
    if isinstance(exc, NoIndexError):
        return 503
    return 400


async def read_json(request: Request) -> dict:
    body = b""
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY:
            raise RequestError(f"The request body is larger than {MAX_BODY} bytes.")
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise RequestError(f"The request body is not JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise RequestError('The request body must be a JSON object, e.g. {"query": "What is the rent?"}.')
    return data


def query_fields(data: dict, question_key: str = "query") -> dict:
    """`query`, `k`, `mode`, `where` of a request, checked as the CLI checks them."""
    query = data.get(question_key)
    if not isinstance(query, str) or not query.strip():
        raise RequestError(f"'{question_key}' must be a non-empty string: the question.")
    k = data.get("k")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 100):
        raise RequestError("'k' must be a whole number from 1 to 100.")
    mode = data.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise RequestError("'mode' must be dense, bm25 or hybrid.")
    where = data.get("where")
    if isinstance(where, str):
        where = [where]
    if where is not None and not (isinstance(where, list) and all(isinstance(w, str) for w in where)):
        raise RequestError("'where' must be a list of KEY=VALUE strings, as --where takes them.")
    return {"query": query, "k": k, "mode": mode, "where": where}


class Server:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.asks = ThreadPoolExecutor(max_workers=ASK_THREADS, thread_name_prefix="ask")

    async def in_thread(self, fn, *args):
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(fn, *args)

    async def run_job(self, request: Request, job: Job) -> Any:
        """Run `job` in an ask thread; set its cancel flag if the client disconnects before it ends."""
        cancelled = threading.Event()
        future = asyncio.get_running_loop().run_in_executor(self.asks, job, lambda name, data: None, cancelled)
        try:
            while True:
                done, _ = await asyncio.wait({future}, timeout=0.25)
                if done:
                    return future.result()
                if await request.is_disconnected():
                    cancelled.set()
        finally:
            cancelled.set()

    async def events(self, job: Job) -> AsyncIterator[tuple[str, Any]]:
        """`job`'s events as they happen, then ("done", its result) or ("error", (status, message));
        if the consumer stops (the client went away) the job is cancelled."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancelled = threading.Event()

        def emit(name: str, data: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (name, data))
            except RuntimeError:  # the loop is gone (shutdown)
                cancelled.set()

        def run() -> None:
            try:
                emit("done", job(emit, cancelled))
            except Cancelled:
                log.info("generation stopped: the client disconnected")
            except LocalGPTError as exc:
                emit("error", (status_of(exc), str(exc)))
            except Exception:
                log.exception("answering failed")
                emit("error", (500, "Internal error while answering; the server log has the details."))

        future = loop.run_in_executor(self.asks, run)
        try:
            while True:
                try:
                    name, data = await asyncio.wait_for(queue.get(), timeout=PING_S)
                except asyncio.TimeoutError:
                    name, data = "ping", None  # a send now and then: a gone client is noticed even while waiting
                yield name, data
                if name in ("done", "error"):
                    break
        finally:
            cancelled.set()  # the client went away (or the answer is out): the job stops or has stopped
            future.cancel()  # only cancels a job still waiting for a thread

    # --- routes -----------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return JSONResponse(await self.in_thread(self.engine.health))

    async def search(self, request: Request) -> Response:
        fields = query_fields(await read_json(request))
        hits = await self.in_thread(
            lambda: self.engine.search(fields["query"], fields["k"], fields["mode"], fields["where"])
        )
        return JSONResponse(search_record(hits))

    def ask_job(self, fields: dict, history: list) -> Job:
        def job(emit, cancelled):
            result = self.engine.ask(
                fields["query"], fields["k"], fields["mode"], fields["where"], history, emit=emit, cancelled=cancelled
            )
            return answer_record(result)

        return job

    async def ask(self, request: Request) -> Response:
        data = await read_json(request)
        fields = query_fields(data)
        history = data.get("history") or []
        if not isinstance(history, list) or not all(isinstance(t, dict) for t in history):
            raise RequestError('\'history\' must be a list of {"question": ..., "answer": ...}, oldest first.')
        job = self.ask_job(fields, history)
        if data.get("stream"):
            return StreamingResponse(
                self.sse(job),
                media_type="text/event-stream",
                headers={"cache-control": "no-store", "x-accel-buffering": "no"},
            )
        try:
            return JSONResponse(await self.run_job(request, job))
        except Cancelled:
            return error_response(499, "The client went away; generation stopped.")

    async def sse(self, job: Job) -> AsyncIterator[str]:
        async for name, data in self.events(job):
            if name == "done":
                yield sse_event("answer", data)
            elif name == "error":
                yield sse_event("error", {"error": data[1], "status": data[0]})
            elif name == "ping":
                yield ": ping\n\n"
            else:
                yield sse_event(name, data)

    async def documents(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        return JSONResponse(await self.in_thread(self.engine.documents, query))

    async def page(self, request: Request) -> Response:
        params = request.query_params
        source = params.get("source", "")
        try:
            number = int(params.get("page", ""))
            scale = float(params["scale"]) if "scale" in params else None
        except ValueError:
            raise RequestError("'page' must be a page number (1 is the first) and 'scale' a number.") from None
        rendered = await self.in_thread(self.engine.page, source, number, params.get("highlight", ""), scale)
        return Response(
            rendered.png,
            media_type="image/png",
            headers={"cache-control": "private, max-age=300", "x-highlight-boxes": str(rendered.highlighted)},
        )

    async def passage(self, request: Request) -> Response:
        """A chunk's passage by chunk id (for formats that have no page image)."""
        chunk_id = request.query_params.get("id", "")
        chunks = await self.in_thread(lambda: self.engine.retriever().index.catalog.get_chunks([chunk_id]))
        if chunk_id not in chunks:
            return error_response(404, f"No passage {chunk_id!r} in the index.")
        return JSONResponse(chunks[chunk_id].to_json())

    async def index_page(self, request: Request) -> Response:
        return HTMLResponse(static_text("index.html"), headers={"cache-control": "no-store"})

    async def favicon(self, request: Request) -> Response:
        """The icon browsers ask for at /favicon.ico (the pages link the SVG one)."""
        icon = resources.files("server").joinpath("static", "favicon.ico").read_bytes()
        return Response(icon, media_type="image/x-icon", headers={"cache-control": "public, max-age=86400"})

    async def login(self, request: Request) -> Response:
        token = request.app.state.token
        if request.method == "POST":
            form = parse_qs((await request.body()).decode("utf-8", "replace"))  # a urlencoded form of one field
            given = (form.get("token") or [""])[0]
            if token and hmac.compare_digest(given.encode(), token.encode()):
                target = str(request.query_params.get("next", "/"))
                target = target if target.startswith("/") and not target.startswith("//") else "/"
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
                return response
            return HTMLResponse(
                static_text("login.html").replace("<!--message-->", "<p class=error>Wrong token.</p>"), status_code=401
            )
        return HTMLResponse(static_text("login.html"))


def sse_event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def static_text(name: str) -> str:
    return resources.files("server").joinpath("static", name).read_text(encoding="utf-8")


def build_app(engine: Engine, token: str | None = None, allowed_hosts: set[str] | None = None):
    """The ASGI app: routes, error handlers, and the Guard (token, sizes, hosts, headers) around them."""
    server = Server(engine)

    async def local_error(request: Request, exc: Exception) -> Response:
        return error_response(status_of(exc), str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        return error_response(getattr(exc, "status_code", 500), getattr(exc, "detail", "") or "Error.")

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("request %s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(500, "Internal error; the server log has the details.")

    from starlette.exceptions import HTTPException

    routes = [
        Route("/", server.index_page),
        Route("/login", server.login, methods=["GET", "POST"]),
        Route("/favicon.ico", server.favicon),
        Route("/api/health", server.health),
        Route("/api/search", server.search, methods=["POST"]),
        Route("/api/ask", server.ask, methods=["POST"]),
        Route("/api/documents", server.documents),
        Route("/api/page", server.page),
        Route("/api/passage", server.passage),
        *openai_compat.routes(server),
        Mount("/static", app=StaticFiles(packages=[("server", "static")]), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        server.asks.shutdown(wait=False, cancel_futures=True)

    app = Starlette(
        routes=routes,
        exception_handlers={LocalGPTError: local_error, HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.token = token
    return Guard(app, token, allowed_hosts)
