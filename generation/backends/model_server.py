"""`localgpt model-server`: llama-cpp-python's OpenAI-compatible server on a GGUF file, for another
host's `--llm-url`.

`python -m llama_cpp.server` alone fails on our portable build with "Failed to load model": the
build's CPU variants are loaded only by our own loader (generation/backends/llama_native.py). This
loads them, then runs llama-cpp-python's own server in this process, with the model, context,
threads and GPU layers of the settings table.

Bind rules as for `serve`: loopback needs no key; any other address needs one (--api-key-file, or
one is made and printed once). The key reaches llama_cpp.server inside this process, never through
a command line another user could read in `ps`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import LocalGPTError
from core.settings import Settings

DEFAULT_PORT = 8080  # llama.cpp's llama-server listens there too
MIN_KEY_CHARS = 16


class ModelServerError(LocalGPTError):
    """The model server cannot start as asked (an unsafe bind, an unreadable key file)."""


@dataclass(frozen=True)
class ModelServerPlan:
    model: Path
    host: str
    port: int
    n_ctx: int
    threads: int
    n_gpu_layers: int
    api_key: str = field(default="", repr=False)
    generated: bool = False  # the key was made here: print it once

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"


def read_key_file(path: str) -> str:
    file = Path(path).expanduser()
    try:
        key = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ModelServerError(f"Cannot read the API key file {file} ({exc.strerror}). Fix --api-key-file.") from None
    if len(key) < MIN_KEY_CHARS:
        raise ModelServerError(f"The key in {file} is too short ({len(key)} characters): use at least {MIN_KEY_CHARS}.")
    return key


def plan_model_server(settings: Settings, host: str, port: int, api_key_file: str = "") -> ModelServerPlan:
    """What will run: the model file checked, the key read or made."""
    from generation.backends.local_gguf import check_model_file, llm_path
    from server.security import is_loopback, new_token

    model = check_model_file(llm_path(settings))
    key = read_key_file(api_key_file) if api_key_file else ""
    generated = False
    if not key and not is_loopback(host):
        key, generated = new_token(), True
    return ModelServerPlan(model, host, port, settings.n_ctx, settings.threads, settings.n_gpu_layers, key, generated)


def server_arguments(plan: ModelServerPlan, extra: tuple[str, ...] = ()) -> list[str]:
    """llama_cpp.server's own command-line arguments for `plan`, then the user's `extra` ones."""
    from generation.backends.local_gguf import gpu_offload_supported
    from generation.backends.threads import choose_threads

    arguments = [
        "--model", str(plan.model),
        "--host", plan.host,
        "--port", str(plan.port),
        "--n_ctx", str(plan.n_ctx),
        "--n_threads", str(choose_threads(plan.threads)),
        "--n_gpu_layers", str(plan.n_gpu_layers if gpu_offload_supported() else 0),
        "--model_alias", plan.model.name,  # /v1/models names the file, not where it lies on this host
    ]  # fmt: skip
    if plan.api_key:
        arguments += ["--api_key", plan.api_key]
    return [*arguments, *extra]


def run_model_server(plan: ModelServerPlan, extra: tuple[str, ...] = ()) -> None:
    """Serve until stopped (Ctrl-C, SIGTERM): the CPU variants loaded, then llama_cpp.server's main."""
    from generation.backends.llama_native import load_cpu_backends

    try:
        from llama_cpp.server.__main__ import main
    except ImportError as exc:
        raise ModelServerError(
            f"llama-cpp-python's server is not installed ({exc.name} is missing): "
            "pip install 'llama-cpp-python[server]'."
        ) from None
    load_cpu_backends()
    program = sys.argv[0]
    sys.argv = [program, *server_arguments(plan, extra)]  # read by its argparse, in this process only
    try:
        main()
    finally:
        sys.argv = [program]
