#!/usr/bin/env python3
"""Write docs/settings.md from the settings table (core/settings.py) and the commands that take each.

.venv/bin/python scripts/settings_doc.py          # rewrite docs/settings.md
.venv/bin/python scripts/settings_doc.py --check  # exit 1 if it is out of date (tests/test_settings.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "settings.md"

INTRO = """# Settings

Every setting has a default, an environment variable `LOCALGPT_<NAME>` and, on the commands that use it,
a command-line option; the option wins over the variable, the variable over the default. This page is
written from the one table of settings in `core/settings.py` (`scripts/settings_doc.py`; a test checks it
is current), the same table that gives `--help` its text and checks the values.

| setting | option | environment | default | commands | what it does |
| --- | --- | --- | --- | --- | --- |
"""


def commands_of() -> dict[str, list[str]]:
    from localgpt import cli

    taken: dict[str, list[str]] = {}
    for name, command in sorted(cli.commands.items()):
        for param in command.params:
            taken.setdefault(param.name, []).append(name)
    return taken


def render() -> str:
    from core.settings import FIELDS, HELP, default_of, env_var, option_flags

    taken = commands_of()
    rows = []
    for name in FIELDS:
        default = default_of(name)
        shown = "(empty)" if default == "" else str(default)
        commands = ", ".join(taken.get(name, [])) or "(environment only)"
        options = " ".join(f"`{flag}`" for flag in option_flags(name)) if name in taken else ""
        text = HELP[name].replace("|", "\\|")
        rows.append(f"| {name} | {options} | `{env_var(name)}` | `{shown}` | {commands} | {text} |")
    return INTRO + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is out of date: run scripts/settings_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
