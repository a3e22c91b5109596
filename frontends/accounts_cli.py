"""The account commands of the CLI: `localgpt users`, `grant`, `revoke`, `keys` (for `serve` to a team).

They read and write only the index's catalog (`index.opening.open_catalog`), so they work while a
server runs on the same index. A password comes from --password-file or the first line of
standard input, or, at a terminal, is typed twice without echo: nothing needs a terminal, and a
password is never an argument (the process list shows those).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import click

from core.display import plural


def read_password(password_file: str | None, confirm: bool = True) -> str:
    """The password: the first line of `password_file`, or of standard input; typed at a terminal."""
    if password_file:
        text = Path(password_file).read_text(encoding="utf-8")
        return text.splitlines()[0] if text.strip() else ""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=confirm, err=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def add_commands(cli: click.Group, index_options: Callable, settings_from: Callable, run_guarded: Callable) -> None:
    """Register the commands on `cli`; `index_options` adds --db and --index-url (localgpt.py)."""

    def with_store(options: dict[str, Any], action: Callable) -> Any:
        from index.opening import open_catalog

        settings = settings_from(options)

        def run():
            with open_catalog(settings.db, settings.index_url, settings.index_password_file) as catalog:
                return action(catalog.accounts(), catalog.roots())

        return run_guarded(run)

    password_file = click.option(
        "--password-file",
        type=click.Path(exists=True, dir_okay=False),
        help="Read the password from the first line of this file (else standard input, or typed at a terminal).",
    )

    @cli.group()
    def users() -> None:
        """Users of `localgpt serve`: each logs in with a password and reads only the folders granted
        to their groups (`localgpt grant`). Members of the group `admin` may manage users from the
        server too. With any user added, `serve` asks everyone to log in, on loopback too.

        \b
        localgpt users add alice --group hr --password-file alice.pw
        printf '%s\\n' "$PASSWORD" | localgpt users add bob --group engineering
        localgpt users list
        """

    @users.command("add")
    @click.argument("name")
    @click.option("--group", "groups", multiple=True, help="A group the user is in (repeat for several).")
    @password_file
    @index_options
    def users_add(name: str, groups: tuple[str, ...], password_file: str | None, **options: Any) -> None:
        """Add the user NAME, in the groups given.

        \b
        localgpt users add alice --group hr --group admin --password-file alice.pw
        """
        from accounts.manage import add_user

        password = read_password(password_file)
        with_store(options, lambda store, roots: add_user(store, name, password, groups))
        click.echo(f"Added {name}" + (f" in {', '.join(groups)}." if groups else " (in no group: reads nothing yet)."))

    @users.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON array of users.")
    @index_options
    def users_list(as_json: bool, **options: Any) -> None:
        """List the users, their groups and the folders they may read.

        \b
        localgpt users list --json
        """
        from accounts.manage import list_users

        found = with_store(options, lambda store, roots: list_users(store))
        if as_json:
            click.echo(json.dumps([u.to_json() for u in found], ensure_ascii=False))
            return
        if not found:
            click.echo("No users: `serve` runs for one person (see `localgpt users add --help`).")
        for user in found:
            groups = ", ".join(user.groups) or "no group"
            folders = ", ".join(user.folders) or "no folder"
            click.echo(f"{user.name}  ({groups}; reads {folders}; {plural(user.keys, 'key')})")

    @users.command("remove")
    @click.argument("name")
    @index_options
    def users_remove(name: str, **options: Any) -> None:
        """Remove the user NAME, with their keys and sessions (their next request is refused).

        \b
        localgpt users remove bob
        """
        from accounts.manage import remove_user

        with_store(options, lambda store, roots: remove_user(store, name))
        click.echo(f"Removed {name}; their keys and sessions no longer work.")

    @users.command("groups")
    @click.argument("name")
    @click.option("--add", "added", multiple=True, help="A group to put NAME in (repeat for several).")
    @click.option("--remove", "removed", multiple=True, help="A group to take NAME out of (repeat for several).")
    @index_options
    def users_groups(name: str, added: tuple[str, ...], removed: tuple[str, ...], **options: Any) -> None:
        """Put NAME in groups or take them out; without --add or --remove, show their groups.
        Takes effect at their next request (their sessions and keys stay).

        \b
        localgpt users groups bob --add hr --remove contractors
        """
        from accounts.manage import change_groups

        groups = with_store(options, lambda store, roots: change_groups(store, name, added, removed))
        click.echo(f"{name}: {', '.join(groups) or 'in no group (reads nothing)'}")

    @users.command("passwd")
    @click.argument("name")
    @password_file
    @index_options
    def users_passwd(name: str, password_file: str | None, **options: Any) -> None:
        """Set a new password for NAME; their sessions end (their keys stay).

        \b
        localgpt users passwd alice --password-file new.pw
        """
        from accounts.manage import set_password

        password = read_password(password_file)
        with_store(options, lambda store, roots: set_password(store, name, password))
        click.echo(f"New password set for {name}; their sessions have ended.")

    @cli.command()
    @click.argument("group", required=False)
    @click.argument("folder", required=False)
    @click.option("--list", "listing", is_flag=True, help="List every grant instead.")
    @index_options
    def grant(group: str | None, folder: str | None, listing: bool, **options: Any) -> None:
        """Let the members of GROUP read FOLDER: a folder of the index, by its path as ingested or its
        label (`localgpt documents` shows both). Takes effect at the members' next request.

        \b
        localgpt grant hr ~/shared/hr
        localgpt grant engineering projects
        localgpt grant --list
        """
        from accounts.folders import label_of
        from accounts.manage import grant as grant_folder

        if listing:
            grants, roots = with_store(options, lambda store, roots: (store.grants(), roots))
            for g, path in grants:
                click.echo(f"{g}: {label_of(roots, path)}")
            if not grants:
                click.echo("No grants: users read nothing (`localgpt grant GROUP FOLDER`).")
            return
        if not group or not folder:
            raise click.UsageError("Give a GROUP and a FOLDER (or --list).")
        root, new = with_store(options, lambda store, roots: grant_folder(store, roots, group, folder))
        click.echo(f"{group} may read {root.path}" + ("." if new else " (it could already)."))

    @cli.command()
    @click.argument("group")
    @click.argument("folder")
    @index_options
    def revoke(group: str, folder: str, **options: Any) -> None:
        """Take FOLDER from GROUP: its members' next request no longer finds it.

        \b
        localgpt revoke hr ~/shared/hr
        """
        from accounts.manage import revoke as revoke_folder

        path = with_store(options, lambda store, roots: revoke_folder(store, roots, group, folder))
        click.echo(f"{group} may no longer read {path}.")

    @cli.group()
    def keys() -> None:
        """API keys for scripts: `Authorization: Bearer KEY` on every route, /v1 included. A key reads
        what its user reads; scope `search` may only search, `ask` may search and ask.

        \b
        localgpt keys create alice --scope search
        localgpt keys list
        localgpt keys revoke 3f9a01bc
        """

    @keys.command("create")
    @click.argument("user")
    @click.option("--scope", type=click.Choice(["search", "ask"]), required=True, help="What the key may do.")
    @index_options
    def keys_create(user: str, scope: str, **options: Any) -> None:
        """Make a key for USER and print it, once: it is stored hashed and cannot be shown again.

        \b
        localgpt keys create alice --scope ask > alice.key
        """
        from accounts.manage import create_key

        key, row = with_store(options, lambda store, roots: create_key(store, user, scope))
        click.echo(f"Key {row.id} for {user}, scope {scope} (shown once; keep it secret):", err=True)
        click.echo(key)

    @keys.command("list")
    @click.argument("user", required=False)
    @index_options
    def keys_list(user: str | None, **options: Any) -> None:
        """List the keys (of USER), by id: never the keys themselves.

        \b
        localgpt keys list alice
        """
        found = with_store(options, lambda store, roots: store.keys(user))
        for key in found:
            made = time.strftime("%Y-%m-%d %H:%M", time.localtime(key.created_at))
            click.echo(f"{key.id}  {key.user}  {key.scope}  created {made}")
        if not found:
            click.echo("No keys.")

    @keys.command("revoke")
    @click.argument("key_id")
    @index_options
    def keys_revoke(key_id: str, **options: Any) -> None:
        """Revoke the key KEY_ID (as `keys list` shows it): its next request is refused.

        \b
        localgpt keys revoke 3f9a01bc
        """
        from accounts.manage import revoke_key

        with_store(options, lambda store, roots: revoke_key(store, key_id))
        click.echo(f"Revoked key {key_id}.")
