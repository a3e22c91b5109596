"""One answer record: `ask --json`, every batch format and chat's /sources show the same answer, and the
JSON outputs follow docs/answer.schema.json."""
import csv
import io
import json

import jsonschema
import pytest
from click.testing import CliRunner

from conftest import REPO
from fakes import hit
from frontends.batch import batch_record
from frontends.batch_files import Question
from frontends.render import passage_lines
from generation.answer import Answer
from generation.evidence import Evidence
from generation.record import answer_record
from localgpt import cli

SCHEMA = json.loads((REPO / "docs" / "answer.schema.json").read_text(encoding="utf-8"))
QUESTION = "How often should the kettle be descaled?"


def validator(definition: str) -> jsonschema.Draft202012Validator:
    schema = {**SCHEMA, "$ref": f"#/$defs/{definition}"}
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def built_answer() -> Answer:
    given = hit("Descale the kettle every 4 weeks with citric acid.", "kettle.docx", None, 0.7, 0)
    other = hit("The rent is 900 euros.", "lease.pdf", 2, 0.1, 1)
    evidence = [Evidence(1, 0, 22, given.text[:22], "kettle.docx", "", 0.8)]
    return Answer(QUESTION, "Every 4 weeks [1].", [given], cited=[1], retrieved=[given, other], evidence=evidence,
                  answer_method="generated", citation_method="model", unsupported=["12"], timings={"total_s": 0.5})


def test_a_record_built_by_hand_follows_the_schema():
    record = answer_record(built_answer())
    validator("answer").validate(record)
    validator("batch_record").validate(batch_record(Question("q1", QUESTION, True), built_answer()))
    assert record["retrieved"][1]["n"] is None and record["sources"][0]["page"] is None
    assert set(record["sources"][0]) >= {"chunk_id", "source", "page", "location", "citation", "score", "relevance"}


def test_the_schema_refuses_a_record_without_its_refusal_reason():
    record = answer_record(built_answer())
    del record["refused_by"]
    with pytest.raises(jsonschema.ValidationError, match="refused_by"):
        validator("answer").validate(record)


def test_chat_sources_list_the_records_retrieved_hits():
    record = answer_record(built_answer())
    lines = [line for line in passage_lines(record) if "score" in line]
    assert [line.split(" (")[0] for line in lines] == ["*[1] kettle.docx", " [2] lease.pdf, page 2"]


@pytest.mark.slow
def test_ask_batch_and_chat_agree_on_one_question(sample_db, tmp_path):
    options = ["--db", str(sample_db), "--max-tokens", "24", "-k", "3"]
    runner = CliRunner()
    asked = runner.invoke(cli, ["ask", *options, "--json", QUESTION])
    assert asked.exit_code == 0, asked.output
    record = json.loads(asked.stdout)
    validator("answer").validate(record)
    assert record["sources"] and record["retrieved"]

    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "descale", "question": QUESTION}) + "\n", encoding="utf-8")
    outputs = {}
    for suffix in (".jsonl", ".csv", ".md"):
        out = tmp_path / f"answers{suffix}"
        done = runner.invoke(cli, ["batch", str(questions), "-o", str(out), "--quiet", *options])
        assert done.exit_code == 0, done.output
        outputs[suffix] = out.read_text(encoding="utf-8")
    line = json.loads(outputs[".jsonl"])
    validator("batch_record").validate(line)
    same = ("answer", "answer_method", "refused", "refused_by", "citation_method", "cited", "evidence", "sources",
            "passages", "retrieved", "unsupported_figures", "withheld")
    assert {key: line[key] for key in same} == {key: record[key] for key in same}

    row = next(csv.DictReader(io.StringIO(outputs[".csv"])))
    assert row["answer"] == record["answer"]
    assert row["sources"] == "; ".join(s["citation"] for s in record["sources"])
    assert record["answer"].strip() in outputs[".md"]
    assert all(f"[{s['n']}] {s['citation']}" in outputs[".md"] for s in record["sources"])

    chat = runner.invoke(cli, ["chat", *options], input=f"{QUESTION}\n/sources\n")
    assert chat.exit_code == 0, chat.output
    assert record["answer"] in chat.stdout
    listed = [line for line in chat.stdout.splitlines() if "(score " in line]
    assert listed == passage_lines(record)[::2]
