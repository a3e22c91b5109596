"""The HTTP routes: the web UI, the native JSON API (/api) and the OpenAI-compatible one (/v1).

Every error is one line of JSON, {"error": "..."}, with the status its class carries; never a
traceback (server/http.py). Blocking work (search, generation, rendering) runs in threads
(server/jobs.py); the event loop only moves bytes.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from importlib import resources
from typing import AsyncIterator
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from core.errors import LocalGPTError
from generation.record import answer_record, search_record
from server import openai_compat
from server.engine import Engine
from server.http import (
    EVENT_STREAM_HEADERS,
    SSE_PING,
    RequestError,
    error_response,
    query_fields,
    read_json,
    sse_event,
    status_of,
)
from server.jobs import Job, Jobs
from server.queue import Cancelled
from server.security import COOKIE, Guard

log = logging.getLogger(__name__)


class Server:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.jobs = Jobs()

    async def in_thread(self, fn, *args):
        return await run_in_threadpool(fn, *args)

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
        """The job of answering one request: the answer record, after events while it waits and writes."""

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
            return StreamingResponse(self.sse(job), media_type="text/event-stream", headers=EVENT_STREAM_HEADERS)
        try:
            return JSONResponse(await self.jobs.run(request, job))
        except Cancelled:
            return error_response(499, "The client went away; generation stopped.")

    async def sse(self, job: Job) -> AsyncIterator[str]:
        async for name, data in self.jobs.events(job):
            if name == "done":
                yield sse_event("answer", data)
            elif name == "error":
                yield sse_event("error", {"error": data[1], "status": data[0]})
            elif name == "ping":
                yield SSE_PING
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
        *openai_compat.routes(server.ask_job, server.jobs, engine.started),
        Mount("/static", app=StaticFiles(packages=[("server", "static")]), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        server.jobs.shutdown()

    app = Starlette(
        routes=routes,
        exception_handlers={LocalGPTError: local_error, HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.token = token
    return Guard(app, token, allowed_hosts)
