"""The server's gate: a token on every request (Bearer header or a cookie set by /login), a cap on
request bodies, no cross-origin access, and headers that keep the page from being framed or sniffed.

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

COOKIE = "localgpt_token"
MAX_BODY = 256 * 1024  # bytes: a question and a conversation, not a document
MIN_TOKEN_CHARS = 16
OPEN_PATHS = ("/login", "/static/style.css", "/favicon.ico", "/static/favicon.svg")
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


def token_of(scope) -> str:
    """The token a request carries: Authorization: Bearer, else the login cookie."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 (a malformed cookie header is no token)
        return ""
    return cookie[COOKIE].value if COOKIE in cookie else ""


class Guard:
    """Wraps the app: token check, body limit, allowed Host names, security headers."""

    def __init__(self, app, token: str | None, allowed_hosts: set[str] | None = None, max_body: int = MAX_BODY):
        self.app, self.token, self.allowed_hosts, self.max_body = app, token, allowed_hosts, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.allowed_hosts is not None:
            host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
            if host not in self.allowed_hosts:  # a DNS-rebinding page in the user's browser
                return await send_json_error(send, 421, f"Host {host!r} is not served here; use http://127.0.0.1.")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await send_json_error(send, 413, f"The request body is larger than {self.max_body} bytes.")
        if self.token and path not in OPEN_PATHS:
            given = token_of(scope)
            if not (given and hmac.compare_digest(given.encode(), self.token.encode())):
                if scope.get("method") == "GET" and not path.startswith(("/api/", "/v1/")):
                    target = quote(path, safe="/")
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 303,
                            "headers": [(b"location", f"/login?next={target}".encode()), *SECURITY_HEADERS],
                        }
                    )
                    return await send({"type": "http.response.body", "body": b""})
                return await send_json_error(
                    send,
                    401,
                    "A token is needed: send 'Authorization: Bearer TOKEN' "
                    "(the token localgpt serve printed), or log in at /login.",
                    [(b"www-authenticate", b"Bearer")],
                )

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
