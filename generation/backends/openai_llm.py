"""The LLM behind an OpenAI-compatible chat server (llama.cpp's llama-server, vLLM, Ollama,
LM Studio, llama-cpp-python's own server), streamed over HTTP with httpx.

It offers what `LlamaCppLLM` offers (n_ctx, count_tokens, stream_chat), so the prompt is packed,
gated and cited exactly as with the model in-process (generation/answer.py consumes the stream).

- The context window: read from the server where it says (llama.cpp's GET /props; vLLM's
  max_model_len in GET /v1/models), else --n-ctx.
- Token counts: the server's own template and tokenizer where it has them (llama.cpp's
  /apply-template and /tokenize); else its tokenizer on the message texts
  (llama-cpp-python's /extras/tokenize) plus a margin per message for the template; else an
  estimate that overcounts (a UTF-8 byte count / 3), so the prompt never overflows the window.
- The API key (LOCALGPT_LLM_API_KEY, or --llm-api-key-file) goes in the Authorization header
  to this server only; it is never logged, and is masked in every message we show.
- Bounded timeouts; a connect failure is retried twice (by httpx), nothing else is.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from core.errors import LocalGPTError
from core.settings import Settings

log = logging.getLogger(__name__)

Message = dict[str, str]

API_KEY_ENV = "LOCALGPT_LLM_API_KEY"
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 300.0  # between two pieces of the stream: a long prompt on a busy server takes a while
CONNECT_RETRIES = 2
TEMPLATE_MARGIN = 16  # tokens a chat template adds around one message (ChatML: 5), when the server cannot render it


class LLMServerError(LocalGPTError):
    """The model server is down, refused the request, or answered with an error."""

    http_status = 502


def read_api_key(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """The key from LOCALGPT_LLM_API_KEY, else from --llm-api-key-file; empty when neither is set."""
    environ = os.environ if environ is None else environ
    key = environ.get(API_KEY_ENV, "").strip()
    if key or not settings.llm_api_key_file:
        return key
    path = Path(settings.llm_api_key_file).expanduser()
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise LLMServerError(f"Cannot read the API key file {path} ({exc.strerror}). Fix --llm-api-key-file.") from None


def _root(url: str) -> str:
    """The server's root (llama.cpp's /props, /tokenize live there), from the API's base URL."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def normalize_url(url: str) -> str:
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LLMServerError(f"--llm-url {url!r} is not the address of a server; use http://HOST:PORT/v1.")
    if not parts.path.rstrip("/"):
        text += "/v1"  # the OpenAI API's usual root
    return text


@dataclass
class OpenAICompatibleLLM:
    base_url: str  # ends in /v1 (or the server's equivalent)
    fallback_n_ctx: int = 2048
    model: str = ""
    api_key: str = field(default="", repr=False)
    _client: Any = field(default=None, init=False, repr=False)
    _n_ctx: int | None = field(default=None, init=False, repr=False)
    _counter: str | None = field(default=None, init=False, repr=False)  # "template", "tokenize", "estimate"

    # -- HTTP -----------------------------------------------------------------
    def _http(self):
        if self._client is None:
            import httpx

            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(
                timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
                transport=httpx.HTTPTransport(retries=CONNECT_RETRIES),
                headers=headers,
                trust_env=False,  # no proxy from the environment: only the address the user named
            )
        return self._client

    def _masked(self, text: str) -> str:
        return text.replace(self.api_key, "***") if self.api_key else text

    def _fail(
        self, what: str, exc: BaseException | None = None, status: int | None = None, body: str = ""
    ) -> LLMServerError:
        if status is not None:
            detail = " ".join(body.split())[:200]
            reason = f"answered HTTP {status} to {what}" + (f": {detail}" if detail else "")
            advice = "Check the server's log." if status >= 500 else "Check --llm-url, --llm-model and the API key."
        else:
            first = str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else ""
            reason = f"did not answer {what} ({type(exc).__name__}{': ' + first if first else ''})"
            advice = "Start it, or check --llm-url."
        return LLMServerError(self._masked(f"The model server at {self.base_url} {reason}. {advice}"))

    def _get_json(self, url: str) -> Any | None:
        """GET url as JSON; None when the server has no such endpoint (404 and the like)."""
        return self._request_json("GET", url)

    def _post_json(self, url: str, payload: dict) -> Any | None:
        return self._request_json("POST", url, json=payload)

    def _request_json(self, method: str, url: str, **kwargs: Any) -> Any | None:
        import httpx

        try:
            response = self._http().request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise self._fail(f"{method} {url}", exc) from None
        if response.status_code >= 500:
            raise self._fail(f"{method} {url}", status=response.status_code, body=response.text)
        if response.status_code != 200:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    # -- what the server says about itself ------------------------------------
    @property
    def n_ctx(self) -> int:
        if self._n_ctx is None:
            self._n_ctx = self._discover_n_ctx()
        return self._n_ctx

    def _discover_n_ctx(self) -> int:
        props = self._get_json(f"{_root(self.base_url)}/props")
        found = context_from_props(props)
        if found is None:
            models = self._get_json(f"{self.base_url}/models")
            found = context_from_models(models, self.model)
            if not self.model:
                self.model = first_model(models)
        if found is None:
            log.info("the model server does not say its context window; using --n-ctx %d", self.fallback_n_ctx)
            return self.fallback_n_ctx
        log.info("the model server's context window: %d tokens", found)
        return found

    def _model_name(self) -> str:
        if not self.model:
            self.model = first_model(self._get_json(f"{self.base_url}/models"))
        return self.model

    # -- tokens ---------------------------------------------------------------
    def count_tokens(self, messages: list[Message]) -> int:
        root = _root(self.base_url)
        if self._counter in (None, "template"):
            rendered = self._post_json(f"{root}/apply-template", {"messages": messages})
            if isinstance(rendered, dict) and isinstance(rendered.get("prompt"), str):
                tokens = self._post_json(f"{root}/tokenize", {"content": rendered["prompt"], "add_special": True})
                if isinstance(tokens, dict) and isinstance(tokens.get("tokens"), list):
                    self._counter = "template"
                    return len(tokens["tokens"])
            if self._counter == "template":
                raise LLMServerError(f"The model server at {self.base_url} stopped counting tokens (/apply-template).")
        if self._counter in (None, "tokenize"):
            total = 0
            for message in messages:
                tokens = self._post_json(
                    f"{root}/extras/tokenize", {"input": message["content"], "model": self._model_name()}
                )
                if not (isinstance(tokens, dict) and isinstance(tokens.get("tokens"), list)):
                    break
                total += len(tokens["tokens"]) + TEMPLATE_MARGIN
            else:
                self._counter = "tokenize"
                return total + TEMPLATE_MARGIN
        if self._counter is None:
            log.info("the model server has no tokenizer endpoint; token counts are estimated (generously)")
        self._counter = "estimate"
        return estimate_tokens(messages)

    # -- generation -----------------------------------------------------------
    def stream_chat(
        self, messages: list[Message], max_tokens: int, temperature: float, repeat_penalty: float
    ) -> Iterator[str]:
        import httpx

        url = f"{self.base_url}/chat/completions"
        payload = {
            "model": self._model_name(),
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "repeat_penalty": repeat_penalty,  # llama.cpp's name; servers that do not know it ignore it
            "stream": True,
        }
        try:
            with self._http().stream("POST", url, json=payload) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._fail("the chat request", status=response.status_code, body=response.text)
                for piece in sse_pieces(response.iter_lines()):
                    yield piece
        except httpx.TransportError as exc:
            raise self._fail("the chat request", exc) from None
        except ServerStreamError as exc:
            raise self._fail("the chat request", status=500, body=str(exc)) from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class ServerStreamError(Exception):
    """An error object inside the event stream."""


def sse_pieces(lines: Iterator[str]) -> Iterator[str]:
    """The content pieces of an OpenAI chat completion event stream."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("error"):
            error = event["error"]
            raise ServerStreamError(error.get("message", str(error)) if isinstance(error, dict) else str(error))
        for choice in event.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                yield piece


def context_from_props(props: Any) -> int | None:
    """llama.cpp's /props: default_generation_settings.n_ctx (or n_ctx at the top, in some versions)."""
    if not isinstance(props, dict):
        return None
    settings = props.get("default_generation_settings")
    for value in ((settings or {}).get("n_ctx") if isinstance(settings, dict) else None, props.get("n_ctx")):
        if isinstance(value, int) and value > 0:
            return value
    return None


def context_from_models(models: Any, model: str = "") -> int | None:
    """vLLM's max_model_len (or a meta.n_ctx) for `model`, or the first model, in /v1/models."""
    if not isinstance(models, dict):
        return None
    entries = [m for m in models.get("data") or [] if isinstance(m, dict)]
    chosen = [m for m in entries if m.get("id") == model] or entries[:1]
    for entry in chosen:
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        for value in (entry.get("max_model_len"), meta.get("n_ctx")):
            if isinstance(value, int) and value > 0:
                return value
    return None


def first_model(models: Any) -> str:
    if isinstance(models, dict):
        for entry in models.get("data") or []:
            if isinstance(entry, dict) and entry.get("id"):
                return str(entry["id"])
    return "default"


def estimate_tokens(messages: list[Message]) -> int:
    """More tokens than any tokenizer makes of these messages in practice: a token per 3 bytes of
    UTF-8 (English runs about 4 characters a token; a CJK character, 3 bytes, is about one)."""
    return sum(math.ceil(len(m["content"].encode("utf-8")) / 3) + TEMPLATE_MARGIN for m in messages) + TEMPLATE_MARGIN


def load_server_llm(settings: Settings) -> OpenAICompatibleLLM:
    """The LLM behind --llm-url; nothing is contacted until it is used."""
    return OpenAICompatibleLLM(
        normalize_url(settings.llm_url),
        fallback_n_ctx=settings.n_ctx,
        model=settings.llm_model,
        api_key=read_api_key(settings),
    )
