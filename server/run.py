"""Starting the server: the bind address and token rules, then uvicorn."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import LocalGPTError
from core.settings import Settings
from server.security import MIN_TOKEN_CHARS, is_loopback, new_token

if TYPE_CHECKING:
    from server.auth import Team

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


def allowed_hosts(plan: Plan, team: bool = False) -> set[str] | None:
    """Host headers accepted: on loopback without a token or users only loopback names (a web page in
    the user's browser cannot reach the server through a rebound DNS name); elsewhere the token or
    the users' logins protect it."""
    if plan.token is None and not team:
        return {"127.0.0.1", "localhost", "::1", plan.host.lower()}
    return None


def audit_path(settings: Settings) -> Path:
    return Path(settings.audit_log).expanduser() if settings.audit_log else Path(settings.db) / "audit.jsonl"


def team_for(settings: Settings, store) -> "Team | None":
    """The accounts side of the server when the index has users; None: one person (as before users)."""
    from accounts.audit import AuditLog, NoAudit
    from accounts.ratelimit import LoginLimiter
    from server.auth import Team, proxy_set

    if settings.trusted_proxy and not settings.trusted_user_header:
        raise ServeError("--trusted-proxy needs --trusted-user-header: the header that proxy names the user in.")
    if not store.has_users():
        if settings.trusted_user_header:
            raise ServeError(
                "--trusted-user-header names users, and the index has none: add them first "
                "(`localgpt users add NAME --group G`), with the names the proxy sends."
            )
        return None
    if settings.trusted_user_header and not settings.trusted_proxy:
        raise ServeError(
            "--trusted-user-header needs --trusted-proxy ADDRESS: the header is believed from that proxy only."
        )
    try:
        proxies = proxy_set(settings.trusted_proxy)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    audit = NoAudit()
    if settings.audit:
        path = audit_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        audit = AuditLog(path)
    return Team(
        store,
        session_s=settings.session_hours * 3600.0,
        trusted_header=settings.trusted_user_header.strip().lower(),
        trusted_proxies=proxies,
        limiter=LoginLimiter(settings.login_attempts, 60.0),
        audit=audit,
    )


def build(settings: Settings, plan: Plan):
    """(the app, its engine, the plan as it stands): with users in the index no token is used."""
    from server.app import build_app
    from server.engine import Engine

    engine = Engine(settings)
    try:
        team = team_for(settings, engine.accounts())  # opens the index: before the model loads
        if team is not None:
            if plan.token and not plan.generated:
                raise ServeError(
                    "This index has users (`localgpt users list`): they log in with their own passwords or keys, "
                    "so --token is not used. Leave it out, or serve an index without users for one person."
                )
            plan = replace(plan, token=None, generated=False)
        engine.load()
    except BaseException:
        engine.close()
        raise
    return build_app(engine, plan.token, allowed_hosts(plan, team is not None), team), engine, plan, team


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
            proxy_headers=False,  # X-Forwarded-* are believed from --trusted-proxy only (server/auth.py)
        )
    finally:
        if watcher is not None:
            from watch.child import stop_watcher

            stop_watcher(watcher)
        engine.close()
