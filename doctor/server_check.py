"""What `localgpt serve` needs: its web libraries, its page assets, and whether its address can be bound."""

from __future__ import annotations

import errno
import socket
from importlib import metadata, resources

from core.settings import Settings
from doctor.report import WARNING, Problem

ASSETS = ("index.html", "app.js", "style.css", "login.html")


def server_facts(settings: Settings) -> tuple[dict[str, object], list[Problem]]:
    from server.security import is_loopback

    facts: dict[str, object] = {}
    problems: list[Problem] = []
    for name in ("starlette", "uvicorn"):
        try:
            facts[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            facts[name] = None
            problems.append(
                Problem(
                    "server-library-missing",
                    f"The Python package {name} is not installed, so "
                    "`localgpt serve` cannot start: reinstall localgpt.",
                    WARNING,
                )
            )
    static = resources.files("server").joinpath("static")
    missing = [a for a in ASSETS if not static.joinpath(a).is_file()]
    facts["web_assets"] = "complete" if not missing else f"missing: {', '.join(missing)}"
    if missing:
        problems.append(
            Problem(
                "server-assets-missing",
                f"The web app's files {', '.join(missing)} are missing from the installed package: reinstall localgpt.",
                WARNING,
            )
        )
    facts["address"] = f"{settings.host}:{settings.port}"
    loopback = is_loopback(settings.host)
    facts["token"] = (
        "set"
        if settings.token
        else "none needed (only this machine can connect)"
        if loopback
        else "none set: one is generated and printed when the server starts"
    )
    facts["port"] = _port_state(settings.host, settings.port)
    if facts["port"] == "in use":
        problems.append(
            Problem(
                "server-port-busy",
                f"Port {settings.port} on {settings.host} is in use: another "
                "program (or a running localgpt serve) holds it; pass --port.",
                WARNING,
            )
        )
    return facts, problems


def _port_state(host: str, port: int) -> str:
    """'free', 'in use', or why it cannot be bound here (binding only: nothing is sent anywhere)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return "in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound here: {exc.strerror}"
    return "free"
