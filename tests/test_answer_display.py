"""How an answer's sources and passages read (fast: answers built by hand)."""
from click.testing import CliRunner

from fakes import hit
from frontends.batch_files import MarkdownFormat
from frontends.render import source_lines
from generation.answer import Answer


def answer_citing(*numbers):
    passages = [hit(f"Passage number {i} says something.", f"doc{i}.pdf", i, 0.6, i) for i in range(1, 4)]
    return Answer("q?", "text", passages, cited=list(numbers), answer_method="generated")


def test_sources_are_listed_in_passage_order_whatever_order_they_were_cited():
    lines = source_lines(answer_citing(3, 1, 2))
    assert lines[1:] == ["  [1] doc1.pdf, page 1", "  [2] doc2.pdf, page 2", "  [3] doc3.pdf, page 3"]


def test_ask_prints_sources_in_passage_order(capsys):
    import click

    from localgpt import print_sources

    @click.command()
    def show():
        print_sources(answer_citing(3, 1))

    out = CliRunner().invoke(show).output
    assert out.index("[1] doc1.pdf") < out.index("[3] doc3.pdf")


def test_batch_report_shows_relevance_not_a_fusion_score():
    record = {"id": "1", "question": "q?", "status": "answered", "answer": "It is 5.", "timings": {"total_s": 1.0},
              "sources": [{"n": 1, "citation": "a.pdf, page 1", "score": 0.033, "relevance": 0.61}],
              "passages": [{"n": 1, "citation": "a.pdf, page 1", "score": 0.033, "relevance": 0.61}]}
    text = MarkdownFormat().render(record)
    assert "best relevance 0.61" in text and "(relevance 0.61)" in text
    assert "score" not in text


def test_show_sources_says_why_a_passage_was_not_given_to_the_model():
    import click

    from localgpt import print_retrieved

    given = hit("The rent is 900 euros.", "lease.pdf", 1, 0.7, 0)
    low = hit("Unrelated text about kettles.", "kettle.pdf", 1, 0.1, 1)
    unchosen = hit("More about the lease terms.", "lease.pdf", 2, 0.5, 2)
    result = Answer("What is the rent?", "900 euros", [given], cited=[1], retrieved=[given, low, unchosen])

    @click.command()
    def show():
        print_retrieved(result, 0.25)

    out = CliRunner().invoke(show).output
    blocks = out.split("\n#")
    assert "[1]" in blocks[1]
    assert "relevance below --min-score" in blocks[2]
    assert "none of its sentences ranked among the best" in blocks[3]
