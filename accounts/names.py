"""Names of users and groups: short, printable, the same on every host."""

from __future__ import annotations

import re

from accounts.errors import AccountError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def check_name(name: str, what: str = "user") -> str:
    if not _NAME.match(name or ""):
        raise AccountError(
            f"{name!r} cannot be a {what} name: use 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit."
        )
    return name
