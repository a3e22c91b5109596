"""HTML text as a user reads it back in passages, evidence and the viewer: superscripts readable
(2^31, not "231"), a man page's terms read once and joined to what they mean ("-l, --list: List
all available databases", not "--list List all ..."), table rows on one line. The fixtures are cut
from real pages: PostgreSQL's psql man page and numeric types (DocBook), Python's os and time
pages (Sphinx), tig's man pages (AsciiDoc)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import REPO, localgpt_cmd
from ingest.loaders import load_file
from ingest.loaders.html import sections_from_html

FIXTURES = REPO / "tests" / "fixtures" / "html"


def text_of(name: str) -> str:
    return "\n\n".join(s.text for s in load_file(FIXTURES / name))


def test_superscripts_keep_the_power_readable():
    postgres = text_of("postgresql-psql-options.html")
    assert "more than 2^31 identifiers" in postgres and "231" not in postgres
    assert "1 GB (2^30 - 1 bytes)" in postgres
    assert "limited to 1 GB (2^30 - 1 bytes).[4]" in postgres  # a footnote mark stays as it is written
    python = text_of("python-os-time.html")
    assert "a maximum value of 2^64-2." in python and "2642" not in python


@pytest.mark.parametrize(
    "html, text",
    [
        ("2<sup>31</sup>&#8722;1", "2^31−1"),
        ("10<sup>-9</sup> s", "10^-9 s"),
        ("x<sup>n + 1</sup>", "x^(n + 1)"),
        ("the 1<sup>st</sup> run", "the 1st run"),
        ("ACME<sup>®</sup>", "ACME®"),
        ('a note<a href="#fn1"><sup>1</sup></a>.', "a note1."),
    ],
)
def test_which_superscripts_get_a_caret(html, text):
    (section,) = sections_from_html(f"<html><body><p>{html}</p></body></html>")
    assert section.text == text


def test_a_man_page_option_is_read_once_and_joined_to_its_meaning():
    text = text_of("postgresql-psql-options.html")
    assert "-l, --list: List all available databases, then exit." in text
    assert "-H, --html: Switches to HTML output mode." in text
    assert "--list\n" not in text and "--list List" not in text
    # its second paragraph follows as a paragraph of its own
    assert "\\list.\n\nWhen this option is used, psql will connect" in text


def test_asciidoc_man_page_terms_and_command_tables():
    text = text_of("tig-manpage.html")
    assert "show: Open diff view using the given git-show(1) options." in text
    assert "blame: Show given file annotated by commits." in text
    assert "enter | Enter and open selected line" in text
    assert "maximize | Maximize the current view" in text
    words = text.lower().split()
    assert not [a for a, b in zip(words, words[1:]) if a == b], "a term read twice"


def test_sphinx_tables_keep_each_row_on_one_line_and_signatures_stand_alone():
    text = text_of("python-os-time.html")
    assert "Directive | Meaning | Notes" in text
    assert "%a | Locale’s abbreviated weekday name.\n" in text
    assert "%A | Locale’s full weekday name." in text
    assert "os.eventfd(initval[, flags=os.EFD_CLOEXEC]): Create and return an event file descriptor." in text


def test_a_long_term_stays_a_paragraph_of_its_own():
    signature = "json.dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True, allow_nan=True, cls=None)"
    html = f"<html><body><dl><dt>{signature}</dt><dd><p>Serialize obj.</p></dd></dl></body></html>"
    (section,) = sections_from_html(html)
    assert section.text == f"{signature}\n\nSerialize obj."


def test_terms_without_text_after_them_are_kept():
    html = "<html><body><dl><dt>alone</dt></dl><dl><dt>code</dt><dd><pre>x = 1</pre></dd></dl></body></html>"
    (section,) = sections_from_html(html)
    assert section.text == "alone\n\ncode\n\nx = 1"


def test_a_page_laid_out_in_a_table_is_still_read_as_paragraphs():
    long_cell = "".join(
        f"<p>Paragraph {n} of the page, long enough to be a real one in a layout.</p>" for n in range(30)
    )
    html = f"<html><body><table><tr><td>{long_cell}</td></tr></table></body></html>"
    (section,) = sections_from_html(html)
    assert section.text.count("\n\n") == 29


@pytest.mark.slow
def test_search_and_ask_show_the_power_and_the_option_as_written(tmp_path):
    """Ingested for real, the fixtures' text reaches the user as the reader made it: in a search hit
    and its passage (what the web viewer shows), and in the evidence an answer quotes."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("postgresql-psql-options.html", "python-os-time.html"):
        shutil.copy(FIXTURES / name, docs / name)
    db = tmp_path / "db"

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(localgpt_cmd(*args), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr + done.stdout
        return done

    run("ingest", "--source-dir", str(docs), "--db", str(db), "--quiet")
    hits = json.loads(run("search", "--db", str(db), "--json", "-k", "1", "bigserial identifiers").stdout)
    assert (
        "more than 2^31 identifiers" in hits[0]["text"] and "more than 2^31 identifiers" in hits[0]["passage"]["text"]
    )
    hits = json.loads(run("search", "--db", str(db), "--json", "-k", "1", "psql list all available databases").stdout)
    assert "-l, --list: List all available databases" in hits[0]["text"]
    record = json.loads(
        run(
            "ask", "--db", str(db), "--json", "--max-tokens", "32", "When should bigserial be used instead of serial?"
        ).stdout
    )
    quoted = " ".join(e["text"] for e in record["evidence"])
    assert "2^31" in quoted, record["evidence"]
