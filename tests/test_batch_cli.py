"""`localgpt batch` as a user runs it: killed part-way, run again, every question answered exactly once."""

import json
import signal
import subprocess
import time

from conftest import REPO, localgpt_cmd

# 12 questions keep the test within its time budget; benchmarks/batch.py runs 200.
QUESTIONS = [
    "What is the monthly rent?",
    "How large is the security deposit?",
    "How much notice ends the lease?",
    "Which pets are allowed?",
    "How much water does the kettle hold?",
    "How often should the kettle be descaled?",
    "What does error E3 mean?",
    "What are the core working hours?",
    "How many days a week can I work remotely?",
    "When do engineers join the on-call rotation?",
    "How many standing desks are there?",
    "Who owns the first-aid kits?",
]
EXPECTED_FILE = {0: "lease_agreement.pdf", 5: "kettle_manual.docx", 8: "team_handbook.md", 10: "office_inventory.csv"}


def batch_cmd(db, questions, output):
    return localgpt_cmd("batch", str(questions), "-o", str(output), "--db", str(db), "--max-tokens", "8", "-k", "1")


def read_records(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_batch_killed_part_way_then_rerun_answers_every_question_once(sample_db, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("# sample questions\n\n" + "\n".join(QUESTIONS) + "\n")
    output = tmp_path / "answers.jsonl"

    first = subprocess.Popen(
        batch_cmd(sample_db, questions, output), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and first.poll() is None:
        if output.exists() and len(read_records_safe(output)) >= 3:
            break
        time.sleep(0.2)
    assert first.poll() is None, f"the batch ended before it could be killed: {first.stderr.read()}"
    first.send_signal(signal.SIGKILL)
    stderr = first.communicate()[1]
    # The progress bar: count, rate and time left.
    assert "Answering" in stderr and f"/{len(QUESTIONS)}" in stderr and ("q/s" in stderr or "s/q" in stderr)
    written = read_records_safe(output)
    assert 3 <= len(written) < len(QUESTIONS)
    # A kill in the middle of a write leaves half a line; the rerun must cope with it.
    with open(output, "a") as handle:
        handle.write('{"id": 8, "question": "How often should the kettle be desc')

    second = subprocess.run(
        batch_cmd(sample_db, questions, output), cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert second.returncode == 0, second.stderr + second.stdout
    assert f"{len(QUESTIONS) - len(written)} answered now, {len(written)} already in answers.jsonl" in second.stdout

    records = read_records(output)
    assert sorted(r["question"] for r in records) == sorted(QUESTIONS)  # each exactly once
    for r in records:
        assert r["status"] == "answered" and r["answer"]
        assert r["passages"] and all(p["source"] and isinstance(p["score"], float) for p in r["passages"])
        assert all(s["source"] and "page" in s for s in r["sources"])
        assert set(r["timings"]) >= {"retrieve_s", "answer_s", "total_s"}
    # Numbered as the user counts the questions (the comment and blank lines do not count); the line kept.
    assert sorted(r["id"] for r in records) == list(range(1, len(QUESTIONS) + 1))
    assert all(r["line"] == r["id"] + 2 and QUESTIONS[r["id"] - 1] == r["question"] for r in records)
    by_question = {r["question"]: r for r in records}
    for index, source in EXPECTED_FILE.items():
        assert by_question[QUESTIONS[index]]["passages"][0]["source"] == source


def read_records_safe(path):
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return records
