"""Managing accounts, for the CLI (users, grant, revoke, keys) and the admin API: each operation
checks what it is given and says what to do when it cannot be done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from accounts.errors import AccountError
from accounts.folders import resolve_folder
from accounts.keys import new_key
from accounts.names import check_name
from accounts.passwords import check_new_password, hash_password
from index.accounts_store import AccountExists, AccountStore, KeyRow
from index.catalog import Root


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...]
    folders: tuple[str, ...]
    keys: int
    created_at: float

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "groups": list(self.groups),
            "folders": list(self.folders),
            "keys": self.keys,
            "created_at": self.created_at,
        }


def add_user(store: AccountStore, name: str, password: str, groups: Sequence[str] = ()) -> None:
    check_name(name)
    for group in groups:
        check_name(group, "group")
    hashed = hash_password(check_new_password(password))
    try:
        store.add_user(name, hashed, groups)
    except AccountExists:
        raise AccountError(
            f"There is a user {name!r} already: `localgpt users passwd {name}` sets a new password."
        ) from None


def set_password(store: AccountStore, name: str, password: str) -> None:
    hashed = hash_password(check_new_password(password))
    if not store.set_password(name, hashed):
        raise AccountError(f"No user {name!r}: `localgpt users list` shows them.")


def remove_user(store: AccountStore, name: str) -> None:
    if not store.remove_user(name):
        raise AccountError(f"No user {name!r}: `localgpt users list` shows them.")


def change_groups(store: AccountStore, name: str, add: Sequence[str] = (), remove: Sequence[str] = ()) -> list[str]:
    """The user's groups after adding and removing some (at their next request)."""
    if store.user(name) is None:
        raise AccountError(f"No user {name!r}: `localgpt users list` shows them.")
    for group in add:
        store.add_to_group(name, check_name(group, "group"))
    for group in remove:
        if not store.remove_from_group(name, group):
            raise AccountError(
                f"{name} is not in the group {group!r}; their groups: {', '.join(store.groups_of(name)) or 'none'}."
            )
    return store.groups_of(name)


def list_users(store: AccountStore) -> list[UserInfo]:
    keys: dict[str, int] = {}
    for key in store.keys():
        keys[key.user] = keys.get(key.user, 0) + 1
    return [
        UserInfo(
            u.name,
            tuple(store.groups_of(u.name)),
            tuple(sorted(store.folders_of(u.name))),
            keys.get(u.name, 0),
            u.created_at,
        )
        for u in store.users()
    ]


def grant(store: AccountStore, roots: Sequence[Root], group: str, folder: str) -> tuple[Root, bool]:
    """(the folder, whether it is new for that group)."""
    check_name(group, "group")
    root = resolve_folder(roots, folder)
    return root, store.grant(group, root.path)


def revoke(store: AccountStore, roots: Sequence[Root], group: str, folder: str) -> str:
    """The path of the folder taken from the group (a grant of a folder the index no longer holds
    is revoked by its path)."""
    try:
        path = resolve_folder(roots, folder).path
    except AccountError:
        if store.revoke(group, folder):
            return folder
        raise
    if not store.revoke(group, path):
        raise AccountError(f"The group {group!r} could not read {path}: nothing to revoke (`localgpt grant --list`).")
    return path


def create_key(store: AccountStore, user: str, scope: str) -> tuple[str, KeyRow]:
    if store.user(user) is None:
        raise AccountError(f"No user {user!r}: `localgpt users add {user}` makes one.")
    key, row = new_key(user, scope)
    store.add_key(row)
    return key, row


def revoke_key(store: AccountStore, key_id: str, user: str | None = None) -> None:
    if not store.revoke_key(key_id, user):
        raise AccountError(f"No key {key_id!r}{' of yours' if user else ''}: `localgpt keys list` shows their ids.")
