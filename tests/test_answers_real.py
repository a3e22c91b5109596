"""What an answer may show, with the real bundled models (issue 25): on any CPU, whatever words
the model writes.

- a generated claim is shown only when one evidence sentence holds all its figures;
- a question about something the index never mentions is refused, saying what, with the
  closest passages as a pointer;
- running headers and footers of a PDF never reach the evidence;
- --answer-style: auto quotes with the bundled model and never runs it; generate runs it.
"""

import json
import re

import pytest
from click.testing import CliRunner

from localgpt import cli

pytestmark = pytest.mark.slow


def ask(db, *args):
    result = CliRunner().invoke(cli, ["ask", "--db", str(db), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def figures(text):
    return set(re.findall(r"\d+(?:[.,:]\d+)*", re.sub(r"\[\d+(?:,\s*\d+)*\]", " ", text)))


LIMITS_QUESTIONS = [
    "How many pages can the page cache hold by default?",
    "What is the largest number of pages a database file may have?",
    "How many seconds does a connection wait for a lock by default?",
    "What is the default page size in bytes?",
]


@pytest.fixture(scope="module")
def limits_db(tmp_path_factory):
    """One page of limits, each sentence giving another limit's figure: the trap for a model that
    copies a neighbouring figure."""
    from core.settings import load_settings
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("limits")
    docs = root / "docs"
    docs.mkdir()
    (docs / "limits.md").write_text(
        "# Limits\n\n"
        "The largest number of pages a database file may have is 4294967294 pages. "
        "The page cache holds 2000 pages by default for each open connection. "
        "A connection waits 5 seconds for a lock by default before it gives up. "
        "The default page size is 4096 bytes, and it may be set from 512 to 65536 bytes.\n",
        encoding="utf-8",
    )
    db = root / "db"
    assert run_ingest(load_settings({"db": db, "source_dir": docs}, environ={})).exit_code == 0
    return db


@pytest.mark.parametrize("question", LIMITS_QUESTIONS)
def test_a_generated_claim_shows_only_figures_of_one_evidence_sentence(limits_db, question):
    answer = ask(limits_db, "--answer-style", "generate", question)
    assert answer["generated"] or answer["refused"]  # the model ran
    if answer["answer_method"] != "generated":
        return
    shown = figures(answer["answer"]) - figures(question)
    assert any(shown <= figures(e["text"]) for e in answer["evidence"]), (answer["answer"], answer["evidence"])


def test_auto_quotes_with_the_bundled_model_without_running_it(limits_db):
    answer = ask(limits_db, LIMITS_QUESTIONS[0])
    assert answer["answer_method"] == "quoted" and answer["generated"] == ""
    assert answer["answer"].startswith("The documents say:") and "2000 pages" in answer["answer"]
    assert answer["timings"]["first_text_s"] <= answer["timings"]["total_s"]


def test_generate_runs_the_bundled_model_and_quote_never_does(limits_db):
    generated = ask(limits_db, "--answer-style", "generate", LIMITS_QUESTIONS[0])
    assert generated["generated"]  # the model wrote something, shown or withheld
    quoted = ask(limits_db, "--answer-style", "quote", LIMITS_QUESTIONS[0])
    assert quoted["generated"] == "" and quoted["answer_method"] == "quoted"


def test_an_unknown_answer_style_is_a_clear_error(limits_db):
    result = CliRunner().invoke(cli, ["ask", "--db", str(limits_db), "--answer-style", "poem", "Anything?"])
    assert result.exit_code != 0 and "auto, quote, generate" in result.output


@pytest.fixture(scope="module")
def manual_db(tmp_path_factory):
    """A 12-page PDF manual whose every page carries a running header and a page number."""
    from fpdf import FPDF

    from core.settings import load_settings
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("manual")
    docs = root / "docs"
    docs.mkdir()
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=11)
    for page in range(1, 13):
        pdf.add_page()
        pdf.cell(0, 8, f"{page} Zephyr Pump Handbook 3.1 Maintenance", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(
            0,
            6,
            f"Section {page}. Valve number {page} of the pump must be greased every {page * 7} days. "
            f"The seal of valve {page} is replaced after {page * 100} hours of running.",
        )
        pdf.set_y(-20)
        pdf.cell(0, 8, f"Page {page}")
    pdf.output(str(docs / "handbook.pdf"))
    db = root / "db"
    assert run_ingest(load_settings({"db": db, "source_dir": docs}, environ={})).exit_code == 0
    return db


def test_running_headers_and_page_numbers_never_reach_the_evidence(manual_db):
    answer = ask(manual_db, "How often must valve 5 be greased?")
    assert not answer["refused"], answer
    assert any("every 35 days" in e["text"] for e in answer["evidence"]), answer["evidence"]
    for item in [*answer["evidence"], *answer["passages"]]:
        assert "Zephyr Pump Handbook" not in item["text"], item["text"]
        assert not re.search(r"\bPage \d+\b", item["text"]), item["text"]
