"""API keys: `lgk_<id>_<secret>`, shown once, kept as their SHA-256 with a public id (what `keys
list` shows and `keys revoke` takes) and a scope: `search` (search only) or `ask` (search and ask)."""

from __future__ import annotations

import secrets
import time

from accounts.errors import AccountError
from accounts.tokens import digest, new_secret
from index.accounts_store import KeyRow

SCOPES = ("search", "ask")
PREFIX = "lgk_"


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise AccountError(f"Unknown scope {scope!r}: use search (search only) or ask (search and ask).")
    return scope


def new_key(user: str, scope: str) -> tuple[str, KeyRow]:
    """(the key to show once, its record)."""
    key_id = secrets.token_hex(4)
    key = f"{PREFIX}{key_id}_{new_secret()}"
    return key, KeyRow(key_id, digest(key), user, check_scope(scope), time.time())


def looks_like_key(text: str) -> bool:
    return text.startswith(PREFIX)


def allows(scope: str, action: str) -> bool:
    """Whether a key of `scope` may `action` ("search" or "ask")."""
    return action == "search" or scope == "ask"
