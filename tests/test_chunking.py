"""No chunk may be longer than the embedding model reads: MiniLM silently truncates at 256 tokens."""
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
    rows = [Section(text=f"{i},widget {i},{i * 3}", meta={"row_start": i, "row_end": i}, header="id,name,qty")
            for i in range(2, 2002)]
    chunks = chunk_sections(rows, "t.csv", embedder.tokens, ChunkPlan(max_tokens=200, overlap=0))
    assert all(c.text.startswith("id,name,qty\n") for c in chunks)
    assert chunks[0].extra["row_start"] == 2 and chunks[-1].extra["row_end"] == 2001
    covered = sum(c.extra["row_end"] - c.extra["row_start"] + 1 for c in chunks)
    assert covered == 2000
    assert all(embedder.tokens.count(c.text) <= 200 for c in chunks)
