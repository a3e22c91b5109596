"""How an answer's sources and passages read, rendered from its record (fast: answers built by hand)."""

from fakes import hit
from frontends.batch_files import MarkdownFormat
from frontends.render import passage_lines, retrieved_lines, source_lines
from generation.answer import Answer
from generation.record import answer_record


def answer_citing(*numbers):
    passages = [hit(f"Passage number {i} says something.", f"doc{i}.pdf", i, 0.6, i) for i in range(1, 4)]
    return Answer("q?", "text", passages, cited=list(numbers), answer_method="generated", retrieved=passages)


def test_sources_are_listed_in_passage_order_whatever_order_they_were_cited():
    lines = source_lines(answer_record(answer_citing(3, 1, 2)))
    assert lines[1:] == ["  [1] doc1.pdf, page 1", "  [2] doc2.pdf, page 2", "  [3] doc3.pdf, page 3"]


def test_chat_sources_mark_the_cited_passages():
    lines = passage_lines(answer_record(answer_citing(2)))
    marked = [line for line in lines if "score" in line]
    assert [line[0] for line in marked] == [" ", "*", " "]
    assert marked[1].startswith("*[2] doc2.pdf, page 2 (score 0.600")


def test_batch_report_shows_relevance_not_a_fusion_score():
    record = {
        "id": "1",
        "question": "q?",
        "status": "answered",
        "answer": "It is 5.",
        "timings": {"total_s": 1.0},
        "sources": [{"n": 1, "citation": "a.pdf, page 1", "score": 0.033, "relevance": 0.61}],
        "passages": [{"n": 1, "citation": "a.pdf, page 1", "score": 0.033, "relevance": 0.61}],
    }
    text = MarkdownFormat().render(record)
    assert "best relevance 0.61" in text and "(relevance 0.61)" in text
    assert "score" not in text


def test_show_sources_says_why_a_passage_was_not_given_to_the_model():
    given = hit("The rent is 900 euros.", "lease.pdf", 1, 0.7, 0)
    low = hit("Unrelated text about kettles.", "kettle.pdf", 1, 0.1, 1)
    unchosen = hit("More about the lease terms.", "lease.pdf", 2, 0.5, 2)
    result = Answer("What is the rent?", "900 euros", [given], cited=[1], retrieved=[given, low, unchosen])

    out = "\n".join(retrieved_lines(answer_record(result), 0.25))
    blocks = out.split("\n#")
    assert "[1]" in blocks[1]
    assert "relevance below --min-score" in blocks[2]
    assert "none of its sentences ranked among the best" in blocks[3]
