"""What the doctor found: sections of facts, and problems with a stable name and a fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.display import plural

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    reason: str  # a stable name scripts can match: llm-missing, index-readable-by-others, ...
    message: str  # what is wrong and what to do
    severity: str = ERROR


@dataclass
class DoctorReport:
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def to_json(self) -> dict[str, Any]:
        return {
            **self.sections,
            "problems": [p.__dict__ for p in self.problems],
            "ok": not self.errors,
        }

    def to_text(self) -> str:
        lines: list[str] = []
        for title, facts in self.sections.items():
            lines.append(_TITLES.get(title, title.replace("_", " ").capitalize()))
            lines.extend(
                f"  {key.replace('_', ' ') if key.islower() else key}: {_show(value)}"
                for key, value in facts.items()
                if not key.endswith("_bytes")  # in --json for machines; the text shows them readable
            )
        if self.problems:
            lines.append("Problems")
            lines.extend(f"  {p.severity} [{p.reason}] {p.message}" for p in self.problems)
        lines.append(
            "OK: nothing needed is missing or broken."
            if not self.errors
            else f"{plural(len(self.errors), 'problem')} to fix."
        )
        return "\n".join(lines)


_TITLES = {"llm": "LLM", "embedding_model": "Embedding model", "ocr": "OCR"}


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value) or "-"
    return str(value)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
