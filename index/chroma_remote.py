"""Chroma's own server (`chroma run`) as the vector store, through chromadb's HttpClient.

The store offers the same methods as `ChromaStore` on disk (it is one, with another client):
the write journal and the repair on the next write-open (index/store.py) work unchanged
across the network. What the network adds is handled here:

- every request has a bounded timeout (chromadb's HTTP client has none by default);
- a request that fails for the transport (refused, reset, timed out) is retried a bounded
  number of times, then becomes a `VectorServerError` naming the server and what to do;
  writes are idempotent (upsert, delete by id), so a retry never doubles anything;
- the collection is the index's own (its name is recorded in the catalog), and an index that
  holds chunks refuses a server where that collection does not exist (a wrong or emptied
  server), instead of "repairing" the catalog down to nothing.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from core.errors import LocalGPTError
from core.offline import enforce_offline
from index.chroma_search_depth import CONFIGURATION, ensure_search_depth
from index.chroma_store import ChromaStore
from index.freshness import ReadWriteLock
from index.vector_store import VectorStoreError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 60.0  # a batch of 5,000 upserts into a large collection takes seconds, not minutes
RETRIES = 3  # attempts after the first, for transport failures only
RETRY_DELAYS_S = (0.5, 1.0, 2.0)


class VectorServerError(VectorStoreError):
    """The Chroma server could not be reached, or failed a request."""

    http_status = 502


class VectorServerMismatchError(VectorStoreError):
    """The server reached is not the one holding this index's vectors."""


@dataclass(frozen=True)
class ServerAddress:
    url: str
    host: str
    port: int
    ssl: bool


def parse_chroma_url(url: str) -> ServerAddress:
    """http://host:port (https for TLS); a bare host:port is taken as http."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text if "://" in text else f"http://{text}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VectorServerError(f"--chroma-url {url!r} is not an address of a Chroma server; use http://HOST:PORT.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 8000)
    except ValueError:
        raise VectorServerError(f"--chroma-url {url!r} has an invalid port; use http://HOST:PORT.") from None
    return ServerAddress(f"{parts.scheme}://{parts.hostname}:{port}", parts.hostname, port, parts.scheme == "https")


def _is_transport(exc: BaseException) -> bool:
    """A failure to reach the server (refused, reset, timed out), also where chromadb re-raised it
    as a ValueError ("Could not connect to a Chroma server") while opening the client."""
    import httpx

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, httpx.TransportError) or "Could not connect to" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def with_retries(call: Callable[..., Any], url: str, what: str) -> Callable[..., Any]:
    """`call`, retried on transport failures (at most RETRIES more times), its errors made ours."""

    @functools.wraps(call)
    def run(*args, **kwargs):
        for attempt in range(RETRIES + 1):
            try:
                return call(*args, **kwargs)
            except LocalGPTError:
                raise
            except Exception as exc:
                if not _is_transport(exc):  # the server answered with an error (HTTP 4xx/5xx, Chroma's own errors)
                    raise VectorServerError(
                        f"The Chroma server at {url} refused {what}: {_describe(exc)}. Check the server's log; "
                        "rerun the command once it is healthy."
                    ) from exc
                if attempt == RETRIES:
                    raise VectorServerError(
                        f"The Chroma server at {url} did not answer ({what}: {_describe(exc)}), after "
                        f"{RETRIES + 1} tries. Start it again (chroma run ...) and rerun the command; an interrupted "
                        "ingest is finished by the next one, nothing half-written stays in the index."
                    ) from exc
                delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)]
                log.info("Chroma server %s: %s failed (%s); retrying in %.1f s", url, what, _describe(exc), delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    return run


class _RetryingCollection:
    """A chromadb Collection whose every method goes through `with_retries`."""

    def __init__(self, collection: Any, url: str):
        self._collection = collection
        self._url = url

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._collection, name)
        return with_retries(value, self._url, f"collection.{name}") if callable(value) else value


def http_client(address: ServerAddress):
    """chromadb's HttpClient with telemetry off and a bounded timeout on every request."""
    enforce_offline()
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    client = with_retries(chromadb.HttpClient, address.url, "connect")(
        host=address.host,
        port=address.port,
        ssl=address.ssl,
        settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
    )
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    else:  # a chromadb that moved its session: requests would wait forever on a hung server
        log.warning("could not set a timeout on chromadb's HTTP client (chromadb changed); requests are unbounded")
    return client


class ChromaServerStore(ChromaStore):
    """The index's collection in a Chroma server. `must_exist`: the index holds chunks, so the
    collection must already be there (else this is not the server, or not the data, it was built on)."""

    def __init__(self, url: str, collection: str, must_exist: bool, recorded_url: str = ""):
        self.address = parse_chroma_url(url)
        self.collection_name = collection
        self.must_exist = must_exist
        self.recorded_url = recorded_url or self.address.url
        self.path = self.address.url  # type: ignore[assignment]  (messages name it)
        self._lock = ReadWriteLock()
        self._connect()

    def _connect(self) -> None:
        url = self.address.url
        self._client = http_client(self.address)
        if self.must_exist:
            names = {
                getattr(c, "name", c) for c in with_retries(self._client.list_collections, url, "list collections")()
            }
            if self.collection_name not in names:
                raise VectorServerMismatchError(
                    f"The Chroma server at {url} has no collection {self.collection_name!r}, which holds this "
                    f"index's vectors (recorded server: {self.recorded_url}). Point --chroma-url at that server; "
                    "if its data is lost, ingest into a new --db folder."
                )
        collection = with_retries(self._client.get_or_create_collection, url, "open collection")(
            self.collection_name, embedding_function=None, configuration=CONFIGURATION
        )
        ensure_search_depth(collection)
        self._collection = _RetryingCollection(collection, url)
        self._max_batch = max(1, int(with_retries(self._client.get_max_batch_size, url, "max batch size")()))

    def _reconnect(self) -> None:
        self._connect()

    def refresh(self, force: bool = False) -> bool:
        """Nothing to do: the server shows every reader what any writer committed."""
        return False
