"""No chunk may be longer than the embedding model reads: MiniLM silently truncates at 256 tokens."""

import pytest

from core.types import Section
from ingest.chunking import ChunkPlan, chunk_sections


def test_long_text_is_split_under_the_limit_and_nothing_is_lost(embedder):
    words = [f"clause{i} applies to party {i % 7} under schedule {i % 13}." for i in range(600)]
    text = " ".join(words)
    plan = ChunkPlan(max_tokens=embedder.info.max_tokens, overlap=32)
    chunks = chunk_sections([Section(text=text, meta={"page": 4})], "a.pdf", embedder.tokens, plan)
    assert len(chunks) > 5
    assert all(embedder.tokens.count(c.text) <= embedder.info.max_tokens for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(f"clause{i} " in joined for i in range(600))
    assert {c.page for c in chunks} == {4}
    assert [c.chunk_index for c in chunks] == list(range(len(chunks)))


def test_a_single_unbreakable_token_run_is_still_cut_to_fit(embedder):
    text = "x" * 20000  # no separators at all
    plan = ChunkPlan(max_tokens=200, overlap=20)
    chunks = chunk_sections([Section(text=text)], "blob.txt", embedder.tokens, plan)
    assert all(embedder.tokens.count(c.text) <= 200 for c in chunks)
    assert sum(len(c.text) for c in chunks) >= 20000


def test_table_rows_are_packed_with_the_header_repeated(embedder):
    rows = [
        Section(text=f"{i},widget {i},{i * 3}", meta={"row_start": i, "row_end": i}, header="id,name,qty")
        for i in range(2, 2002)
    ]
    chunks = chunk_sections(rows, "t.csv", embedder.tokens, ChunkPlan(max_tokens=200, overlap=0))
    assert all(c.text.startswith("id,name,qty\n") for c in chunks)
    assert chunks[0].extra["row_start"] == 2 and chunks[-1].extra["row_end"] == 2001
    covered = sum(c.extra["row_end"] - c.extra["row_start"] + 1 for c in chunks)
    assert covered == 2000
    assert all(embedder.tokens.count(c.text) <= 200 for c in chunks)


MIXED = (
    "Café déjà vu: the naïve résumé (§ 4.12) lists ﬁnancial penalties of ½ the fee, i.e. x² per day. "
    '東京都は日本の首都です。 Don\'t "quote" me; e\u0301cole, a_b-c/d\\e, 3.14159, 😀 and\ttabs.\n\n'
    "Unbelievably, internationalisation counterproductively prerequisites hyperparameterisation.\n"
    "def parse(task: Task) -> Parsed:\n    return Parsed(task.source, 'read')\n"
)


def test_pieces_are_counted_from_one_tokenization_exactly_as_each_alone(embedder):
    import random

    counter = embedder.tokens
    text = MIXED * 12
    piece_count = counter.piece_counter(text)
    rng = random.Random(7)
    for _ in range(3000):
        start = rng.randrange(len(text))
        end = min(len(text), start + rng.randrange(1, 300))
        if rng.random() < 0.5:  # as a splitter cuts: at spaces and line ends
            while start > 0 and not text[start - 1].isspace():
                start -= 1
            while end < len(text) and not text[end].isspace():
                end += 1
        piece = text[start:end]
        assert piece_count(piece) == counter.count(piece), repr(piece)


def test_a_splitter_piece_is_not_tokenized_again(embedder, monkeypatch):
    counter = embedder.tokens
    text = MIXED * 12
    piece_count = counter.piece_counter(text)
    monkeypatch.setattr(counter, "count", lambda piece: pytest.fail(f"tokenized again: {piece!r}"))
    for line in filter(str.strip, text.splitlines()):
        assert piece_count(line) > 0
    assert piece_count(text) > 1000


def test_chunks_are_the_same_as_with_each_piece_tokenized_alone(embedder, monkeypatch):
    plan = ChunkPlan(max_tokens=120, overlap=24)
    sections = [Section(text=MIXED * 30, meta={"page": 1}), Section(text="word " * 900, meta={"page": 2})]
    fast = chunk_sections(sections, "a.pdf", embedder.tokens, plan)
    monkeypatch.setattr(embedder.tokens, "_word_local", False)  # every piece tokenized on its own
    exact = chunk_sections(sections, "a.pdf", embedder.tokens, plan)
    assert len(fast) > 10
    assert [c.text for c in fast] == [c.text for c in exact]
