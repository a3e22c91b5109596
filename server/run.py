"""Starting the server: the bind address and token rules, then uvicorn."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.errors import LocalGPTError
from core.settings import Settings
from server.security import MIN_TOKEN_CHARS, is_loopback, new_token

log = logging.getLogger(__name__)


class ServeError(LocalGPTError):
    """The server cannot start as asked (an unsafe bind, a weak token)."""


@dataclass(frozen=True)
class Plan:
    host: str
    port: int
    token: str | None
    generated: bool  # the token was made here: print it once

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def plan(host: str, port: int, token: str) -> Plan:
    """Loopback: a token is optional. Any other address: a token is required; none given makes one."""
    token = token.strip()
    if token and len(token) < MIN_TOKEN_CHARS:
        raise ServeError(
            f"The token is too short ({len(token)} characters): use at least {MIN_TOKEN_CHARS}, "
            "or leave --token out on a non-loopback address to have one generated."
        )
    if is_loopback(host):
        return Plan(host, port, token or None, False)
    if token:
        return Plan(host, port, token, False)
    return Plan(host, port, new_token(), True)


def allowed_hosts(plan: Plan) -> set[str] | None:
    """Host headers accepted: on loopback without a token only loopback names (a web page in the user's
    browser cannot reach the server through a rebound DNS name); elsewhere the token protects it."""
    if plan.token is None:
        return {"127.0.0.1", "localhost", "::1", plan.host.lower()}
    return None


def build(settings: Settings, plan: Plan):
    from server.app import build_app
    from server.engine import Engine

    engine = Engine(settings)
    engine.load()
    return build_app(engine, plan.token, allowed_hosts(plan)), engine


def run(app, engine, plan: Plan, watch: bool = False) -> None:
    """Serve until stopped; with `watch`, a watcher of the index's folders runs beside it (watch/child.py)."""
    import uvicorn

    watcher = None
    if watch:
        from watch.child import spawn_watcher

        watcher = spawn_watcher(engine.settings)
    try:
        uvicorn.run(
            app,
            host=plan.host,
            port=plan.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
            server_header=False,
        )
    finally:
        if watcher is not None:
            from watch.child import stop_watcher

            stop_watcher(watcher)
        engine.close()
