"""The server's gate: who is asking on every request (for one person a token, Bearer header or a
cookie set by /login; with users a `Caller`, server/auth.py), a CSRF token on a cookie session's
requests that change anything, a cap on request bodies, no cross-origin access, and headers that
keep the page from being framed or sniffed.

A plain ASGI middleware, not Starlette's BaseHTTPMiddleware: it must not buffer streamed answers
or hide a client's disconnect from the route that is generating.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from http.cookies import SimpleCookie
from urllib.parse import quote

from accounts.caller import OWNER, Caller
from accounts.errors import NotAllowed
from accounts.sessions import CSRF_HEADER, SESSION_COOKIE, csrf_ok
from core.errors import LocalGPTError

COOKIE = "localgpt_token"
MAX_BODY = 256 * 1024  # bytes: a question and a conversation, not a document
MIN_TOKEN_CHARS = 16
OPEN_PATHS = ("/login", "/api/login", "/static/style.css", "/favicon.ico", "/static/favicon.svg")
ASK_PATHS = ("/api/ask", "/v1/chat/completions")  # a key of scope `search` may not use these
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")  # requests that change nothing: no CSRF token needed
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def json_error(status: int, message: str) -> tuple[int, bytes]:
    return status, (json.dumps({"error": message}, ensure_ascii=False) + "\n").encode("utf-8")


async def send_json_error(send, status: int, message: str, extra_headers=()) -> None:
    status, body = json_error(status, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
                *extra_headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookie(headers: dict[str, str], name: str) -> str:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 (a malformed cookie header is no cookie)
        return ""
    return cookie[name].value if name in cookie else ""


def _bearer(headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else ""


def token_of(scope) -> str:
    """The token a request carries: Authorization: Bearer, else the login cookie."""
    headers = _headers(scope)
    return _bearer(headers) or _cookie(headers, COOKIE)


async def _redirect_to_login(send, path: str) -> None:
    target = quote(path, safe="/")
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", f"/login?next={target}".encode()), *SECURITY_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _same_origin(headers: dict[str, str]) -> bool:
    """Whether a browser says the request comes from our own page (Fetch metadata, else Origin)."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = headers.get("origin")
    return origin is not None and origin.split("://", 1)[-1] == headers.get("host", "")


class Guard:
    """Wraps the app: who is asking (the token, or with users a `Caller`), body limit, allowed Host
    names, security headers. The caller goes to the routes as `scope["state"]["caller"]`."""

    def __init__(
        self, app, token: str | None, allowed_hosts: set[str] | None = None, max_body: int = MAX_BODY, team=None
    ):
        self.app, self.token, self.allowed_hosts, self.max_body = app, token, allowed_hosts, max_body
        self.team = team  # server/auth.py `Team`: a server with users; None: one person

    async def _single_user(self, scope, send, path: str) -> Caller | None:
        if not self.token:
            return OWNER
        given = token_of(scope)
        if given and hmac.compare_digest(given.encode(), self.token.encode()):
            return OWNER
        if scope.get("method") == "GET" and not path.startswith(("/api/", "/v1/")):
            await _redirect_to_login(send, path)
            return None
        await send_json_error(
            send,
            401,
            "A token is needed: send 'Authorization: Bearer TOKEN' "
            "(the token localgpt serve printed), or log in at /login.",
            [(b"www-authenticate", b"Bearer")],
        )
        return None

    async def _team_caller(self, scope, send, path: str, headers: dict[str, str]) -> Caller | None:
        from starlette.concurrency import run_in_threadpool

        team = self.team
        peer = (scope.get("client") or ("", 0))[0]
        client = team.address(peer, headers)
        method = scope.get("method", "GET")
        who = "(unknown)"
        try:
            caller = await run_in_threadpool(
                team.caller, headers, peer, _bearer(headers), _cookie(headers, SESSION_COOKIE)
            )
            who = caller.name
            if method not in SAFE_METHODS:
                if caller.via == "session" and not csrf_ok(caller.session_id, headers.get(CSRF_HEADER, "")):
                    raise NotAllowed(
                        "This request needs its CSRF token: send the header X-CSRF-Token with the value "
                        "POST /api/login returned (the page sends it from the localgpt_csrf cookie)."
                    )
                if caller.via == "header" and not _same_origin(headers):
                    raise NotAllowed("Refused: this request did not come from this server's own page.")
            if path in ASK_PATHS and not caller.may("ask"):
                raise NotAllowed("This key may only search (scope search): make one with --scope ask to ask.")
        except LocalGPTError as exc:
            status = getattr(exc, "http_status", 401)
            team.audit.write(
                {"user": who, "action": "refused", "path": path, "status": status, "reason": str(exc), "client": client}
            )
            if status == 401 and method == "GET" and not path.startswith(("/api/", "/v1/")):
                await _redirect_to_login(send, path)
                return None
            extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
            await send_json_error(send, status, str(exc), extra)
            return None
        return caller

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = _headers(scope)
        if self.allowed_hosts is not None:
            host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
            if host not in self.allowed_hosts:  # a DNS-rebinding page in the user's browser
                return await send_json_error(send, 421, f"Host {host!r} is not served here; use http://127.0.0.1.")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await send_json_error(send, 413, f"The request body is larger than {self.max_body} bytes.")
        if path not in OPEN_PATHS:
            if self.team is None:
                caller = await self._single_user(scope, send, path)
            else:
                caller = await self._team_caller(scope, send, path, headers)
            if caller is None:
                return
            scope = {**scope, "state": {**scope.get("state", {}), "caller": caller}}

        received = 0
        max_body = self.max_body

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge()
            return message

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        try:
            await self.app(scope, limited_receive, with_headers)
        except BodyTooLarge:
            await send_json_error(send, 413, f"The request body is larger than {self.max_body} bytes.")


class BodyTooLarge(Exception):
    pass
