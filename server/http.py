"""HTTP plumbing under the routes: JSON bodies in, one-line JSON errors and server-sent events out.

Every error is one line of JSON, {"error": "..."}, with the status its class carries
(`LocalGPTError.http_status`): 400 for a request to fix, 404/403 for a file, 502/503 when a
server behind us (Chroma, the model server) or the index is not there to answer.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from accounts.caller import Caller
from core.errors import LocalGPTError
from server.security import MAX_BODY, json_error

EVENT_STREAM_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}


class RequestError(LocalGPTError):
    """A request the server cannot act on as it stands (a missing field, a wrong type)."""


def error_response(status: int, message: str) -> Response:
    status, body = json_error(status, message)
    return Response(body, status_code=status, media_type="application/json")


def status_of(exc: Exception) -> int:
    """The HTTP status of an error we raised: the one its class carries."""
    return getattr(exc, "http_status", 400)


async def read_json(request: Request) -> dict:
    body = b""
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY:
            raise RequestError(f"The request body is larger than {MAX_BODY} bytes.")
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise RequestError(f"The request body is not JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise RequestError('The request body must be a JSON object, e.g. {"query": "What is the rent?"}.')
    return data


def query_fields(data: dict, question_key: str = "query") -> dict:
    """`query`, `k`, `mode`, `where` of a request, checked as the CLI checks them."""
    query = data.get(question_key)
    if not isinstance(query, str) or not query.strip():
        raise RequestError(f"'{question_key}' must be a non-empty string: the question.")
    k = data.get("k")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 100):
        raise RequestError("'k' must be a whole number from 1 to 100.")
    mode = data.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise RequestError("'mode' must be dense, bm25 or hybrid.")
    where = data.get("where")
    if isinstance(where, str):
        where = [where]
    if where is not None and not (isinstance(where, list) and all(isinstance(w, str) for w in where)):
        raise RequestError("'where' must be a list of KEY=VALUE strings, as --where takes them.")
    return {"query": query, "k": k, "mode": mode, "where": where}


def sse_event(name: str, data: Any) -> str:
    """One named server-sent event."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse_data(payload: Any) -> str:
    """One unnamed server-sent event (the OpenAI stream's `data:` lines)."""
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


SSE_PING = ": ping\n\n"  # a comment: keeps a silent stream alive, and notices a client that went away


def caller_of(request: Request) -> Caller:
    """Who asks (the Guard put it there, server/security.py); a request without one is a bug, refused."""
    caller = request.scope.get("state", {}).get("caller")
    if not isinstance(caller, Caller):
        raise RuntimeError(f"no caller for {request.url.path}: the Guard must wrap the app")
    return caller
