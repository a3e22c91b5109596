"""The HTTP routes: the web UI, the native JSON API (/api) and the OpenAI-compatible one (/v1).

Every error is one line of JSON, {"error": "..."}, with the status its class carries; never a
traceback (server/http.py). Blocking work (search, generation, rendering) runs in threads
(server/jobs.py); the event loop only moves bytes.
"""

from __future__ import annotations

import contextlib
import hmac
import html
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

from accounts.audit import NoAudit
from accounts.caller import Caller
from core.errors import LocalGPTError
from generation.record import answer_record, search_record
from server import openai_compat, team_routes
from server.auditing import audit_event, sources_of_hits, sources_of_records
from server.auth import Team
from server.engine import Engine
from server.http import (
    EVENT_STREAM_HEADERS,
    SSE_PING,
    RequestError,
    caller_of,
    error_response,
    query_fields,
    read_json,
    sse_event,
    status_of,
)
from server.jobs import Job, Jobs
from server.queue import Cancelled
from server.security import COOKIE, Guard
from server.team_routes import set_session

log = logging.getLogger(__name__)


class Server:
    def __init__(self, engine: Engine, team: Team | None = None):
        self.engine = engine
        self.team = team
        self.audit = team.audit if team is not None else NoAudit()
        self.jobs = Jobs()

    async def in_thread(self, fn, *args):
        return await run_in_threadpool(fn, *args)

    # --- routes -----------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        caller = caller_of(request)
        found = await self.in_thread(self.engine.health, caller.folders is not None)
        if caller.user is not None:
            found["user"] = caller.user
        return JSONResponse(found)

    async def search(self, request: Request) -> Response:
        caller = caller_of(request)
        fields = query_fields(await read_json(request))
        hits = await self.in_thread(
            lambda: self.engine.search(fields["query"], fields["k"], fields["mode"], fields["where"], caller.folders)
        )
        self.audit.write(audit_event(caller, "search", query=fields["query"], sources=sources_of_hits(hits)))
        return JSONResponse(search_record(hits))

    def ask_job(self, fields: dict, history: list, caller: Caller) -> Job:
        """The job of answering one request for `caller`: the answer record, after events while it
        waits and writes. Only `caller`'s folders are searched, the follow-up's too."""

        def job(emit, cancelled):
            result = self.engine.ask(
                fields["query"],
                fields["k"],
                fields["mode"],
                fields["where"],
                history,
                emit=emit,
                cancelled=cancelled,
                folders=caller.folders,
            )
            record = answer_record(result)
            self.audit.write(
                audit_event(
                    caller,
                    "ask",
                    query=fields["query"],
                    refused=record["refused"],
                    sources=sources_of_records(record["sources"] or record["closest"]),
                )
            )
            return record

        return job

    async def ask(self, request: Request) -> Response:
        caller = caller_of(request)
        data = await read_json(request)
        fields = query_fields(data)
        history = data.get("history") or []
        if not isinstance(history, list) or not all(isinstance(t, dict) for t in history):
            raise RequestError('\'history\' must be a list of {"question": ..., "answer": ...}, oldest first.')
        job = self.ask_job(fields, history, caller)
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
        caller = caller_of(request)
        query = request.query_params.get("q", "")
        found = await self.in_thread(self.engine.documents, query, caller.folders)
        self.audit.write(audit_event(caller, "documents", query=query, count=len(found)))
        return JSONResponse(found)

    async def page(self, request: Request) -> Response:
        params = request.query_params
        source = params.get("source", "")
        try:
            number = int(params.get("page", ""))
            scale = float(params["scale"]) if "scale" in params else None
        except ValueError:
            raise RequestError("'page' must be a page number (1 is the first) and 'scale' a number.") from None
        caller = caller_of(request)
        try:
            rendered = await self.in_thread(
                self.engine.page, source, number, params.get("highlight", ""), scale, caller.folders
            )
        except LocalGPTError as exc:
            self.audit.write(audit_event(caller, "page", sources=[source], page=number, status=status_of(exc)))
            raise
        self.audit.write(audit_event(caller, "page", sources=[source], page=number))
        return Response(
            rendered.png,
            media_type="image/png",
            headers={"cache-control": "private, max-age=300", "x-highlight-boxes": str(rendered.highlighted)},
        )

    async def passage(self, request: Request) -> Response:
        """A chunk's passage by chunk id (for formats that have no page image)."""
        caller = caller_of(request)
        chunk_id = request.query_params.get("id", "")
        found = await self.in_thread(self.engine.passage, chunk_id, caller.folders)
        if found is None:
            return error_response(404, f"No passage {chunk_id!r} in the index.")
        self.audit.write(audit_event(caller, "passage", sources=[found["source"]]))
        return JSONResponse(found)

    async def index_page(self, request: Request) -> Response:
        return HTMLResponse(static_text("index.html"), headers={"cache-control": "no-store"})

    async def favicon(self, request: Request) -> Response:
        """The icon browsers ask for at /favicon.ico (the pages link the SVG one)."""
        icon = resources.files("server").joinpath("static", "favicon.ico").read_bytes()
        return Response(icon, media_type="image/x-icon", headers={"cache-control": "public, max-age=86400"})

    async def login(self, request: Request) -> Response:
        """The login page: a user name and password on a server with users, else the token."""
        team = self.team
        page = login_page(team is not None)
        if request.method != "POST":
            return HTMLResponse(page)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))  # a urlencoded form
        target = str(request.query_params.get("next", "/"))
        target = target if target.startswith("/") and not target.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        if team is None:
            token = request.app.state.token
            given = (form.get("token") or [""])[0]
            if token and hmac.compare_digest(given.encode(), token.encode()):
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
                return response
            return HTMLResponse(page.replace("<!--message-->", "<p class=error>Wrong token.</p>"), status_code=401)
        user, password = (form.get("user") or [""])[0], (form.get("password") or [""])[0]
        client = team.address(request.client.host if request.client else "", dict(request.headers))
        try:
            session_id, caller, expires_at = await self.in_thread(team.login, user, password, client)
        except LocalGPTError as exc:
            team.audit.write({"user": user, "action": "login", "status": status_of(exc), "client": client})
            message = html.escape(str(exc))
            return HTMLResponse(
                page.replace("<!--message-->", f"<p class=error>{message}</p>"), status_code=status_of(exc)
            )
        team.audit.write(audit_event(caller, "login", client=client))
        set_session(response, request, session_id, expires_at)
        return response


LOGIN_FORMS = {
    False: (
        "<p>This server needs its token: the one <code>localgpt serve</code> printed when it started.</p>",
        '<label for="token">Token</label>\n'
        '    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>',
    ),
    True: (
        "<p>Log in with your user name and password.</p>",
        '<label for="user">User</label>\n'
        '    <input id="user" name="user" autocomplete="username" required autofocus>\n'
        '    <label for="password">Password</label>\n'
        '    <input id="password" name="password" type="password" autocomplete="current-password" required>',
    ),
}


def login_page(users: bool) -> str:
    intro, fields = LOGIN_FORMS[users]
    return static_text("login.html").replace("<!--intro-->", intro).replace("<!--fields-->", fields)


def static_text(name: str) -> str:
    return resources.files("server").joinpath("static", name).read_text(encoding="utf-8")


def build_app(
    engine: Engine, token: str | None = None, allowed_hosts: set[str] | None = None, team: Team | None = None
):
    """The ASGI app: routes, error handlers, and the Guard (who asks, sizes, hosts, headers) around
    them. `team`: the accounts of a server with users (server/auth.py); None: one person."""
    server = Server(engine, team)

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
        *team_routes.routes(team, engine),
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
    return Guard(app, token, allowed_hosts, team=team)
