"""Login sessions: a random id in an HttpOnly cookie, kept as its SHA-256 with an expiry; and the
session's CSRF token, an HMAC of the id (so every app host derives the same one, and a page can
send it back as a header that another site's page cannot read or forge)."""

from __future__ import annotations

import hashlib
import hmac
import time

from accounts.tokens import digest, new_secret, same
from index.accounts_store import SessionRow

SESSION_COOKIE = "localgpt_session"
CSRF_COOKIE = "localgpt_csrf"  # readable by the page's script: it sends it back as CSRF_HEADER
CSRF_HEADER = "x-csrf-token"


def new_session(user: str, ttl_s: float, now: float | None = None) -> tuple[str, SessionRow]:
    """(the session id for the cookie, its record)."""
    now = time.time() if now is None else now
    session_id = new_secret()
    return session_id, SessionRow(digest(session_id), user, now, now + ttl_s)


def live(session: SessionRow | None, now: float | None = None) -> bool:
    return session is not None and session.expires_at > (time.time() if now is None else now)


def csrf_token(session_id: str) -> str:
    return hmac.new(session_id.encode("utf-8"), b"localgpt-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_id: str, given: str) -> bool:
    return bool(given) and same(given, csrf_token(session_id))
