"""The routes of a server with users: log in and out, who am I, one's own API keys, and a minimal
admin API (users and grants) for members of the group `admin`.

    POST   /api/login            {"user", "password"} -> session cookie (+ CSRF token)
    POST   /api/logout
    GET    /api/me
    GET    /api/keys             POST /api/keys {"scope"}     DELETE /api/keys/{id}
    GET    /api/admin/users      POST /api/admin/users {"name", "password", "groups"}
    DELETE /api/admin/users/{name}
    GET    /api/admin/grants     POST|DELETE /api/admin/grants {"group", "folder"}
"""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts.caller import Caller
from accounts.errors import NotAllowed, TooManyAttempts
from accounts.folders import label_of
from accounts import manage
from accounts.sessions import CSRF_COOKIE, SESSION_COOKIE, csrf_token
from core.errors import LocalGPTError
from server.auditing import audit_event
from server.auth import Team
from server.http import RequestError, caller_of, error_response, read_json


def set_session(response: Response, request: Request, session_id: str, expires_at: float) -> None:
    """The session cookie (HttpOnly: no script reads it) and the CSRF cookie (the page's script sends it back)."""
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    age = max(0, int(expires_at - time.time()))
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=age, httponly=True, samesite="strict", path="/", secure=secure
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_token(session_id), max_age=age, httponly=False, samesite="strict", path="/", secure=secure
    )


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise RequestError(f"'{key}' must be a non-empty string.")
    return value


def routes(team: Team | None, engine) -> list[Route]:
    async def login(request: Request) -> Response:
        if team is None:
            return error_response(400, "This server has no users: log in with its token at /login.")
        data = await read_json(request)
        user, password = _text(data, "user"), _text(data, "password")
        client = team.address(request.client.host if request.client else "", dict(request.headers))
        try:
            session_id, caller, expires_at = await run_in_threadpool(team.login, user, password, client)
        except TooManyAttempts as exc:
            team.audit.write({"user": user, "action": "login", "status": 429, "client": client})
            return JSONResponse({"error": str(exc)}, status_code=429, headers={"retry-after": str(exc.retry_after)})
        except LocalGPTError as exc:
            team.audit.write({"user": user, "action": "login", "status": exc.http_status, "client": client})
            raise
        team.audit.write(audit_event(caller, "login", client=client))
        response = JSONResponse(
            {
                "user": caller.user,
                "groups": list(caller.groups),
                "csrf_token": csrf_token(session_id),
                "expires_at": expires_at,
            }
        )
        set_session(response, request, session_id, expires_at)
        return response

    async def logout(request: Request) -> Response:
        caller = caller_of(request)
        if team is not None and caller.via == "session":
            await run_in_threadpool(team.logout, caller.session_id)
        response = JSONResponse({"logged_out": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    async def me(request: Request) -> Response:
        caller = caller_of(request)
        roots = await run_in_threadpool(engine.roots)
        folders = None if caller.folders is None else [label_of(roots, f) for f in sorted(caller.folders)]
        out = {
            "user": caller.user,
            "via": caller.via,
            "groups": list(caller.groups),
            "scope": caller.scope,
            "folders": folders,
        }
        if caller.via == "session":
            out["csrf_token"] = csrf_token(caller.session_id)
        return JSONResponse(out)

    def own_keys(caller: Caller) -> None:
        if team is None or caller.user is None:
            raise RequestError("This server has no users: it has no API keys (its token is the key).")
        if caller.via == "key":
            raise NotAllowed("A key cannot manage keys: log in with your password to make or revoke keys.")

    async def keys(request: Request) -> Response:
        caller = caller_of(request)
        own_keys(caller)
        if request.method == "POST":
            data = await read_json(request)
            key, row = await run_in_threadpool(manage.create_key, team.store, caller.user, str(data.get("scope", "")))
            team.audit.write(audit_event(caller, "key created", key_id=row.id, scope=row.scope))
            return JSONResponse({"id": row.id, "scope": row.scope, "key": key, "shown_once": True})
        rows = await run_in_threadpool(team.store.keys, caller.user)
        return JSONResponse([{"id": k.id, "scope": k.scope, "created_at": k.created_at} for k in rows])

    async def key(request: Request) -> Response:
        caller = caller_of(request)
        own_keys(caller)
        key_id = request.path_params["key_id"]
        await run_in_threadpool(manage.revoke_key, team.store, key_id, caller.user)
        team.audit.write(audit_event(caller, "key revoked", key_id=key_id))
        return JSONResponse({"revoked": key_id})

    def admin(request: Request) -> Caller:
        caller = caller_of(request)
        if team is None:
            raise RequestError("This server has no users: manage them with `localgpt users add`.")
        team.allow_admin(caller)
        return caller

    async def users(request: Request) -> Response:
        caller = admin(request)
        if request.method == "POST":
            data = await read_json(request)
            groups = data.get("groups") or []
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise RequestError("'groups' must be a list of group names.")
            name = _text(data, "name")
            await run_in_threadpool(manage.add_user, team.store, name, _text(data, "password"), groups)
            team.audit.write(audit_event(caller, "user added", name=name, groups=groups))
            return JSONResponse({"added": name}, status_code=201)
        found = await run_in_threadpool(manage.list_users, team.store)
        return JSONResponse([u.to_json() for u in found])

    async def user(request: Request) -> Response:
        caller = admin(request)
        name = request.path_params["name"]
        await run_in_threadpool(manage.remove_user, team.store, name)
        team.audit.write(audit_event(caller, "user removed", name=name))
        return JSONResponse({"removed": name})

    async def grants(request: Request) -> Response:
        caller = admin(request)
        roots = await run_in_threadpool(engine.roots)
        if request.method == "GET":
            found = await run_in_threadpool(team.store.grants)
            return JSONResponse([{"group": g, "folder": f, "shown": label_of(roots, f)} for g, f in found])
        data = await read_json(request)
        group, folder = _text(data, "group"), _text(data, "folder")
        if request.method == "POST":
            root, _ = await run_in_threadpool(manage.grant, team.store, roots, group, folder)
            team.audit.write(audit_event(caller, "granted", group=group, folder=root.path))
            return JSONResponse({"group": group, "folder": root.path})
        path = await run_in_threadpool(manage.revoke, team.store, roots, group, folder)
        team.audit.write(audit_event(caller, "revoked", group=group, folder=path))
        return JSONResponse({"group": group, "revoked": path})

    return [
        Route("/api/login", login, methods=["POST"]),
        Route("/api/logout", logout, methods=["POST"]),
        Route("/api/me", me),
        Route("/api/keys", keys, methods=["GET", "POST"]),
        Route("/api/keys/{key_id}", key, methods=["DELETE"]),
        Route("/api/admin/users", users, methods=["GET", "POST"]),
        Route("/api/admin/users/{name}", user, methods=["DELETE"]),
        Route("/api/admin/grants", grants, methods=["GET", "POST", "DELETE"]),
    ]
