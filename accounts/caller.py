"""Who is asking: a user with their groups and readable folders, and what they came in with.

`folders` None: everything (the one person of a loopback or --token server). A set, even empty:
only those folders, as the index records them; the index applies it inside every query
(core/filters.py `within_folders`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.keys import allows

ADMIN_GROUP = "admin"


@dataclass(frozen=True)
class Caller:
    user: str | None  # None: the owner of a single-user server
    via: str  # "owner" (loopback or --token), "session", "key", "header"
    groups: tuple[str, ...] = ()
    folders: frozenset[str] | None = None
    scope: str = "ask"  # an API key's scope; everyone else may ask
    session_id: str = field(default="", repr=False)  # a cookie session's id: its CSRF token is made from it

    @property
    def is_admin(self) -> bool:
        return self.user is None or ADMIN_GROUP in self.groups

    def may(self, action: str) -> bool:
        """Whether this caller may `action` ("search" or "ask")."""
        return allows(self.scope, action)

    @property
    def name(self) -> str:
        """What the audit log calls this caller."""
        return self.user if self.user is not None else "(owner)"


OWNER = Caller(None, "owner")


def caller_for(store, user: str, via: str, scope: str = "ask", session_id: str = "") -> Caller:
    """The caller a known user is, now: their groups and folders as the store has them at this request."""
    return Caller(user, via, tuple(store.groups_of(user)), frozenset(store.folders_of(user)), scope, session_id)
