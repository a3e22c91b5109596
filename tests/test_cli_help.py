"""Every command's --help shows its examples one per line, as written: click rewraps a paragraph
unless it starts with a line holding only \\b (a "\\b block"), and a \\b not at a paragraph's start is
printed as a backspace. Checked at a narrow and a wide terminal."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import localgpt


def commands():
    return [("", localgpt.cli), *sorted(localgpt.cli.commands.items())]


def examples(help_text: str) -> list[str]:
    """The lines of the docstring's last paragraph: the examples, each a command line."""
    paragraphs = [p for p in help_text.split("\n\n") if p.strip()]
    last = paragraphs[-1].splitlines()
    return [line.strip() for line in last if line.strip() and line.strip() != "\b"]


@pytest.mark.parametrize("name, command", commands(), ids=[n or "localgpt" for n, _ in commands()])
@pytest.mark.parametrize("width", [80, 200])
def test_examples_print_one_per_line(name, command, width):
    shown = examples(command.help or "")
    assert shown and all("localgpt" in line for line in shown), f"{name or 'localgpt'}: no examples at the end"
    result = CliRunner().invoke(localgpt.cli, [*([name] if name else []), "--help"], terminal_width=width)
    assert result.exit_code == 0, result.output
    assert "\b" not in result.output  # a \b inside a paragraph comes out as a backspace
    lines = [line.strip() for line in result.output.splitlines()]
    for example in shown:
        assert example in lines, f"`{name} --help` runs this example into others:\n{example}\n\n{result.output}"
