"""OpenAI-compatible routes: POST /v1/chat/completions (streamed or not) and GET /v1/models.

The last user message is the question; earlier user/assistant pairs are the conversation a
follow-up is understood from, as in `localgpt chat`. System messages are ignored: the answer is
always grounded in the documents. The message text is the answer followed by a short "Sources:"
list (`"localgpt": {"sources_in_content": false}` in the request leaves it out), so that any chat UI shows
where the answer comes from. The sources, evidence and refusal travel in full in the extra field
`localgpt` (the answer record, as /api/ask returns it) of the response, and of the final chunk
of a stream; while a request waits for the model, chunks with an empty delta carry
`localgpt.queue_position`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from server.http import (
    EVENT_STREAM_HEADERS,
    SSE_PING,
    RequestError,
    caller_of,
    error_response,
    query_fields,
    read_json,
    sse_data,
)
from server.jobs import Job, Jobs
from server.queue import Cancelled

MODEL = "localgpt"
EXTRA = "localgpt"


def conversation(messages: Any) -> tuple[str, list[dict]]:
    """(the question, [{"question", "answer"}...]) from OpenAI-style messages."""
    if not isinstance(messages, list) or not messages:
        raise RequestError('\'messages\' must be a non-empty list of {"role": ..., "content": ...}.')
    turns: list[dict] = []
    pending = None
    for message in messages:
        if not isinstance(message, dict):
            raise RequestError("each message must be an object with 'role' and 'content'.")
        role, content = message.get("role"), _text(message.get("content"))
        if role == "user":
            if pending is not None:
                turns.append({"question": pending, "answer": ""})
            pending = content
        elif role == "assistant" and pending is not None:
            turns.append({"question": pending, "answer": content})
            pending = None
    if pending is None or not pending.strip():
        raise RequestError("the last message must be the user's question (role 'user').")
    return pending, [t for t in turns if t["answer"]]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        return " ".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def sources_text(record: dict) -> str:
    """The answer's sources as the message text ends with them, a Markdown list that reads as plain
    text too: "\n\nSources:\n- [1] lease.pdf, page 2"; for a refusal, the closest passages found ("" when
    there are none)."""
    lines = [f"- [{s['n']}] {s.get('citation') or s['source']}" for s in record.get("sources") or [] if "n" in s]
    if not lines and record.get("refused") and record.get("closest"):  # a refusal points to where to look
        near = [f"- {h.get('citation') or h['source']}" for h in record["closest"]]
        return "\n\nClosest passages found (they do not answer it):\n" + "\n".join(near)
    return "\n\nSources:\n" + "\n".join(lines) if lines else ""


def wants_sources(extra: dict) -> bool:
    """The request's `localgpt.sources_in_content`: true (the default) or false."""
    value = extra.get("sources_in_content", True)
    if not isinstance(value, bool):
        raise RequestError("'localgpt.sources_in_content' must be true (the sources listed after the answer) or false.")
    return value


def _chunk(cid: str, created: int, delta: dict, finish: str | None = None, extra: dict | None = None) -> dict:
    out = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if extra is not None:
        out[EXTRA] = extra
    return out


def routes(ask_job: Callable[..., Job], jobs: Jobs, started: float) -> list[Route]:
    """The /v1 routes; `ask_job(fields, history, caller)` is the native API's job of answering, for the
    caller's folders only (server/app.py)."""

    async def models(request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": MODEL, "object": "model", "created": int(started), "owned_by": "localgpt"}],
            }
        )

    async def completions(request: Request) -> Response:
        data = await read_json(request)
        model = data.get("model", MODEL)
        if model != MODEL:
            raise RequestError(f"Unknown model {model!r}: this server answers as model 'localgpt' (GET /v1/models).")
        question, history = conversation(data.get("messages"))
        extra = data.get(EXTRA) if isinstance(data.get(EXTRA), dict) else {}
        fields = query_fields({"query": question, **{k: extra.get(k) for k in ("k", "mode", "where")}})
        listed = wants_sources(extra)
        job = ask_job(fields, history, caller_of(request))
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if data.get("stream"):
            return StreamingResponse(
                stream(job, cid, created, listed), media_type="text/event-stream", headers=EVENT_STREAM_HEADERS
            )
        try:
            record = await jobs.run(request, job)
        except Cancelled:
            return error_response(499, "The client went away; generation stopped.")
        return JSONResponse(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": record["answer"] + (sources_text(record) if listed else ""),
                        },
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(record),
                EXTRA: record,
            }
        )

    async def stream(job, cid: str, created: int, listed: bool = True):
        yield sse_data(_chunk(cid, created, {"role": "assistant", "content": ""}))
        async for name, payload in jobs.events(job):
            if name == "token":
                yield sse_data(_chunk(cid, created, {"content": payload["text"]}))
            elif name == "queue":
                yield sse_data(_chunk(cid, created, {}, extra={"queue_position": payload["position"]}))
            elif name == "searching":
                yield sse_data(_chunk(cid, created, {}, extra={"standalone": payload["standalone"]}))
            elif name == "done":
                listing = sources_text(payload) if listed else ""
                if listing:
                    yield sse_data(_chunk(cid, created, {"content": listing}))
                yield sse_data({**_chunk(cid, created, {}, "stop", extra=payload), "usage": _usage(payload)})
            elif name == "ping":
                yield SSE_PING
            elif name == "error":
                yield sse_data({"error": {"message": payload[1], "type": "localgpt_error", "code": payload[0]}})
        yield "data: [DONE]\n\n"

    return [Route("/v1/models", models), Route("/v1/chat/completions", completions, methods=["POST"])]


def _usage(record: dict) -> dict:
    prompt = int(record.get("prompt_tokens") or 0)
    completion = max(0, len(record.get("answer", "")) // 4)  # an estimate: the record does not count them
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
