"""`localgpt chat` with questions piped in: no prompt or banner, each answer and its sources on stdout."""

import subprocess

from conftest import REPO, localgpt_cmd


def test_piped_questions_are_answered_in_order_without_prompt_noise(sample_db, tmp_path):
    questions = (
        "What is the monthly rent for the apartment?\n"
        "\n"
        "How much notice is needed to end it?\n"
        "/sources\n"
        "/quit\n"
        "This line comes after /quit and must not be answered?\n"
    )
    result = subprocess.run(
        localgpt_cmd("chat", "--db", str(sample_db), "--max-tokens", "24", "-k", "2"),
        input=questions,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert not any(line.startswith(">") for line in out.splitlines())  # no prompt
    assert "/help" not in out and "searching for" not in out
    assert "Error" not in result.stderr and "Traceback" not in result.stderr
    assert out.count("Sources") == 2  # two questions, each answer followed by its sources
    first, second = out.split("Sources", 2)[1:]
    assert "lease_agreement.pdf" in first
    # The follow-up ("end it") was searched with the conversation: the lease's notice clause comes first.
    passages = [line for line in second.splitlines() if line.lstrip().startswith(("*[", "[")) and "score" in line]
    assert passages and "lease_agreement.pdf, page 2" in passages[0]
    assert "after /quit" not in out
    # No history file when nobody typed at a terminal.
    assert not (sample_db / "chat_history").exists()
