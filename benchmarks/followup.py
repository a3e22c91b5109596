"""How well follow-up questions find the right passage in a five-turn chat over the sample documents.

For every turn: the top passage found by the question as typed, by the LLM's rewrite (even
when our check rejects it), by the fallback (question + previous key terms), and by what chat
does (the accepted standalone question and the question as typed, merged). A turn counts as
right when the top passage comes from the expected file and section.

    python benchmarks/followup.py --db db   # after: localgpt ingest --source-dir source_documents --db db
"""

from __future__ import annotations

import argparse

from common import on_path

on_path()

from core.offline import enforce_offline  # noqa: E402

CONVERSATIONS = [
    [
        ("What is the monthly rent for the apartment?", "lease_agreement.pdf", "page 1"),
        ("And how much is the security deposit?", "lease_agreement.pdf", "page 1"),
        ("How much notice is needed to end it?", "lease_agreement.pdf", "page 2"),
        ("What error codes can the Aurora kettle show?", "kettle_manual.docx", "Error Codes"),
        ("What should I do about the second one?", "kettle_manual.docx", "Error Codes"),
    ],
    [
        ("How many days a week can I work remotely?", "team_handbook.md", "Remote work"),
        ("Is there a stipend for it?", "team_handbook.md", "Remote work"),
        ("When do engineers join the on-call rotation?", "team_handbook.md", "On-call"),
        ("How long does it last?", "team_handbook.md", "On-call"),
        ("And what does each one earn?", "team_handbook.md", "On-call"),
    ],
]


def right(hits, source: str, where: str) -> bool:
    return bool(hits) and hits[0].chunk.source == source and where in hits[0].chunk.location()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="db")
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    enforce_offline()
    from core.settings import load_settings
    from answering import open_session
    from generation.followup import History, fallback_standalone

    settings = load_settings({"db": args.db, "max_tokens": args.max_tokens})
    methods = ("as typed", "llm rewrite", "fallback", "chat")
    score = {m: 0 for m in methods}
    followups = 0
    with open_session(settings) as session:
        for conversation in CONVERSATIONS:
            history = History()
            for question, source, where in conversation:
                rewrite = session.rewrite(question, history)
                queries = {
                    "as typed": [question],
                    "llm rewrite": [rewrite.llm_output or question],
                    "fallback": [fallback_standalone(question, history)],
                    "chat": [rewrite.standalone, question],
                }
                row = {m: right(session.search(*q), source, where) for m, q in queries.items()}
                if len(history):
                    followups += 1
                    for m in methods:
                        score[m] += row[m]
                print(
                    f"Q: {question}\n   method={rewrite.method} llm={rewrite.llm_output!r}\n   standalone={rewrite.standalone!r}"
                )
                print("   " + "  ".join(f"{m}: {'ok' if ok else 'WRONG'}" for m, ok in row.items()))
                result = session.ask(question, history)  # what chat does: the same rewrite, searched with the question
                print(f"   answer: {' '.join(result.text.split())[:160]!r}")
                history.add(question, rewrite.standalone, result.text)
    print(f"\nTurns after the first: {followups}. Top passage from the right file and section:")
    for m in methods:
        print(f"  {m:<12} {score[m]}/{followups}")


if __name__ == "__main__":
    main()
