"""Answering jobs in their own threads, stopped when the client goes away.

A `Job` is `job(emit, cancelled)`: it does the blocking work (search, generation), tells what
happens through `emit(name, data)`, and stops once `cancelled` is set (server/queue.py's
`Cancelled`). The event loop only waits for it and moves bytes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator, Callable

from starlette.requests import Request

from core.errors import LocalGPTError
from server.http import status_of
from server.queue import Cancelled

log = logging.getLogger(__name__)

ASK_THREADS = 64  # requests that may wait in line for the model at once
PING_S = 2.0  # seconds between keep-alive events in a silent event stream
Job = Callable[[Callable[[str, dict], None], threading.Event], Any]


class Jobs:
    def __init__(self, threads: int = ASK_THREADS):
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ask")

    async def run(self, request: Request, job: Job) -> Any:
        """Run `job` in an ask thread; set its cancel flag if the client disconnects before it ends."""
        cancelled = threading.Event()
        future = asyncio.get_running_loop().run_in_executor(self.pool, job, lambda name, data: None, cancelled)
        try:
            while True:
                done, _ = await asyncio.wait({future}, timeout=0.25)
                if done:
                    return future.result()
                if await request.is_disconnected():
                    cancelled.set()
        finally:
            cancelled.set()

    async def events(self, job: Job) -> AsyncIterator[tuple[str, Any]]:
        """`job`'s events as they happen, then ("done", its result) or ("error", (status, message));
        ("ping", None) after PING_S of silence. If the consumer stops (the client went away) the job is cancelled."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancelled = threading.Event()

        def emit(name: str, data: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (name, data))
            except RuntimeError:  # the loop is gone (shutdown)
                cancelled.set()

        def run() -> None:
            try:
                emit("done", job(emit, cancelled))
            except Cancelled:
                log.info("generation stopped: the client disconnected")
            except LocalGPTError as exc:
                emit("error", (status_of(exc), str(exc)))
            except Exception:
                log.exception("answering failed")
                emit("error", (500, "Internal error while answering; the server log has the details."))

        future = loop.run_in_executor(self.pool, run)
        try:
            while True:
                try:
                    name, data = await asyncio.wait_for(queue.get(), timeout=PING_S)
                except asyncio.TimeoutError:
                    name, data = "ping", None  # a send now and then: a gone client is noticed even while waiting
                yield name, data
                if name in ("done", "error"):
                    break
        finally:
            cancelled.set()  # the client went away (or the answer is out): the job stops or has stopped
            future.cancel()  # only cancels a job still waiting for a thread

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
