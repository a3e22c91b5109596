"""Who a request is, on a server with users (`localgpt users add`): a `Caller` from, in this order,

- the user a trusted reverse proxy names (--trusted-user-header), from --trusted-proxy only: the
  header from any other address is refused, whatever else the request carries;
- `Authorization: Bearer KEY`, an API key (`localgpt keys create`, or POST /api/keys);
- the session cookie that POST /api/login (or the /login form) set, while it lasts.

Each is looked up in the index's own store at every request: a revoked key, a removed user, a
revoked grant take effect at the next request. Blocking lookups run in a thread, off the event loop.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

from accounts.audit import AuditLog, NoAudit
from accounts.caller import Caller, caller_for
from accounts.errors import LoginRefused, NotAllowed
from accounts.keys import looks_like_key
from accounts.passwords import password_matches
from accounts.ratelimit import LoginLimiter
from accounts.sessions import new_session
from accounts.tokens import digest
from index.accounts_store import AccountStore


def proxy_set(text: str) -> frozenset[str]:
    """The addresses of --trusted-proxy (comma-separated), normalised."""
    out = set()
    for part in text.split(","):
        part = part.strip()
        if part:
            try:
                out.add(str(ipaddress.ip_address(part.strip("[]"))))
            except ValueError:
                raise ValueError(
                    f"--trusted-proxy {part!r} is not an IP address (give the proxy's address, e.g. 127.0.0.1)."
                ) from None
    return frozenset(out)


def _normal(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


@dataclass
class Team:
    """The accounts side of a server with users."""

    store: AccountStore
    session_s: float = 12 * 3600.0
    trusted_header: str = ""  # lower-case header name; "" trusts none
    trusted_proxies: frozenset[str] = frozenset()
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    audit: AuditLog | NoAudit = field(default_factory=NoAudit)

    def address(self, client: str, headers: dict[str, str]) -> str:
        """The address a request comes from, for the login limit and the audit log: the connection's
        peer, or, from a trusted proxy, the last address its X-Forwarded-For names (serve runs
        uvicorn without proxy headers, so that only --trusted-proxy is believed about them)."""
        forwarded = headers.get("x-forwarded-for", "")
        if forwarded and _normal(client) in self.trusted_proxies:
            return forwarded.split(",")[-1].strip() or client
        return client

    def caller(self, headers: dict[str, str], client: str, bearer: str, session_id: str) -> Caller:
        """The caller of a request (its headers lower-cased, the connection's peer address, its Bearer
        token and session cookie); raises LoginRefused (401) or NotAllowed (403)."""
        if self.trusted_header and self.trusted_header in headers:
            if _normal(client) not in self.trusted_proxies:
                raise NotAllowed(
                    f"The header {self.trusted_header} is accepted only from the trusted proxy; "
                    "this request came from elsewhere."
                )
            name = headers[self.trusted_header].strip()
            if self.store.user(name) is None:
                raise NotAllowed(f"The proxy named {name!r}, who is no user here (`localgpt users add {name}`).")
            return caller_for(self.store, name, "header")
        if bearer:
            key = self.store.key_by_hash(digest(bearer)) if looks_like_key(bearer) else None
            if key is None:
                raise LoginRefused(
                    "That key is not valid (revoked, or never made): make one with `localgpt keys create`."
                )
            return caller_for(self.store, key.user, "key", key.scope)
        if session_id:
            session = self.store.session(digest(session_id))
            if session is None or session.expires_at <= time.time():
                raise LoginRefused("Your session has expired or ended: log in again at /login.")
            return caller_for(self.store, session.user, "session", session_id=session_id)
        raise LoginRefused(
            'Log in first: POST /api/login with {"user": ..., "password": ...} (or the /login page), '
            "or send 'Authorization: Bearer KEY' with a key from `localgpt keys create`."
        )

    def login(self, user: str, password: str, client: str) -> tuple[str, Caller, float]:
        """(session id, the caller, when it expires) for a right password; raises TooManyAttempts
        (429) or LoginRefused (401, the same for an unknown user as for a wrong password)."""
        self.limiter.check(user, client)
        row = self.store.user(user)
        if not password_matches(password, row.password_hash if row else None):
            self.limiter.failed(user, client)
            raise LoginRefused("Wrong user name or password.")
        self.limiter.succeeded(user)
        session_id, session = new_session(user, self.session_s)
        self.store.add_session(session)
        return session_id, caller_for(self.store, user, "session", session_id=session_id), session.expires_at

    def logout(self, session_id: str) -> None:
        if session_id:
            self.store.end_session(digest(session_id))

    def allow_admin(self, caller: Caller) -> None:
        if not caller.is_admin or caller.via == "key":
            raise NotAllowed("Only members of the group 'admin', logged in (not with a key), may manage users.")
