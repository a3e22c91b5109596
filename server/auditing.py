"""What the routes write to the audit log (accounts/audit.py): one event per search, answer, page,
document listing, login and refusal, naming the caller and the sources they were given."""

from __future__ import annotations

from typing import Any, Iterable

from accounts.caller import Caller
from core.types import Hit


def audit_event(caller: Caller, action: str, **details: Any) -> dict[str, Any]:
    return {"user": caller.name, "via": caller.via, "action": action, **details}


def sources_of_hits(hits: Iterable[Hit]) -> list[str]:
    return list(dict.fromkeys(h.chunk.source for h in hits))


def sources_of_records(records: Iterable[dict]) -> list[str]:
    return list(dict.fromkeys(r["source"] for r in records if "source" in r))
