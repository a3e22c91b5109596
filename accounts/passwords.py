"""Passwords, hashed with bcrypt (cost 12) and never kept or logged in clear.

bcrypt reads at most 72 bytes, so a password is first made a fixed 44-byte string (its SHA-256,
base64): a long passphrase counts whole. Checking a user that does not exist still runs bcrypt
(against a hash made once), so the time taken does not tell which names exist.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from accounts.errors import AccountError

MIN_PASSWORD_CHARS = 8
ROUNDS = 12


def _prepared(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def check_new_password(password: str) -> str:
    password = password.rstrip("\r\n")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"The password is too short: use at least {MIN_PASSWORD_CHARS} characters.")
    return password


def hash_password(password: str, rounds: int = ROUNDS) -> str:
    import bcrypt

    return bcrypt.hashpw(_prepared(password), bcrypt.gensalt(rounds)).decode("ascii")


@lru_cache(maxsize=1)
def _stand_in() -> str:
    return hash_password("no such user: a hash to spend the same time on")


def password_matches(password: str, stored: str | None) -> bool:
    """Whether `password` is the one `stored` was made from (None: no such user; never true).
    bcrypt compares in constant time."""
    import bcrypt

    try:
        ok = bcrypt.checkpw(_prepared(password), (stored or _stand_in()).encode("ascii"))
    except ValueError:  # not a bcrypt hash
        return False
    return ok and stored is not None
