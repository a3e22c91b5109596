"""Cutting sections into chunks that fit the embedding model, never silently truncated.

Token counts come from the embedding model's own tokenizer. Consecutive table rows
(sections with a row range and the same header) are packed together; a row too long
for one chunk is split like any text. Every chunk is checked against the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from core.index_text import head_of, index_text
from core.types import Chunk, Section
from embeddings.tokens import TokenCounter

_TEXT_SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class ChunkPlan:
    max_tokens: int  # most content tokens in a chunk
    overlap: int


def _splitter(length: Callable[[str], int], budget: int, overlap: int, language: str | None):
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    overlap = max(0, min(overlap, budget // 4))
    if language:
        try:
            separators = RecursiveCharacterTextSplitter.get_separators_for_language(Language(language))
        except ValueError:
            separators = _TEXT_SEPARATORS
    else:
        separators = _TEXT_SEPARATORS
    return RecursiveCharacterTextSplitter(
        chunk_size=budget,
        chunk_overlap=overlap,
        length_function=length,
        separators=separators,
        is_separator_regex=False,
        # Code separators ("\nclass ", "\ndef ") begin a unit: keep them at the start of the next piece.
        keep_separator="start" if language else "end",
        strip_whitespace=True,
    )


def _hard_split(text: str, counter: TokenCounter, budget: int) -> list[str]:
    """Last resort for text the splitter cannot bring under the limit: cut at token boundaries.
    A cut inside a word can cost a token when the piece is tokenized alone: such a piece is cut once more."""
    return [
        sub
        for piece in _cut_at_tokens(text, counter, budget)
        for sub in (_cut_at_tokens(piece, counter, budget - 2) if counter.count(piece) > budget else [piece])
    ]


def _cut_at_tokens(text: str, counter: TokenCounter, budget: int) -> list[str]:
    pieces, start = [], 0
    offsets = counter.token_offsets(text)
    while start < len(offsets):
        end = min(start + budget, len(offsets))
        piece = text[offsets[start][0] : offsets[end - 1][1]].strip()
        if piece:
            pieces.append(piece)
        start = end
    return pieces


def split_text(text: str, counter: TokenCounter, budget: int, overlap: int, language: str | None = None) -> list[str]:
    """Pieces of `text` of at most `budget` tokens each."""
    length = counter.piece_counter(text)  # tokenizes `text` once; pieces are counted from it
    if length(text) <= budget:
        return [text.strip()] if text.strip() else []
    pieces: list[str] = []
    for piece in _splitter(length, budget, overlap, language).split_text(text):
        if length(piece) <= budget:
            pieces.append(piece)
            continue
        pieces.extend(_hard_split(piece, counter, budget))
    return [p for p in pieces if p.strip()]


def _row_groups(sections: list[Section], counter: TokenCounter, budget: int) -> Iterable[Section]:
    """Pack consecutive rows of one table into sections that fit `budget` (with their header)."""
    group: list[Section] = []
    used = 0

    def same_table(a: Section, b: Section) -> bool:
        rest = lambda s: {k: v for k, v in s.meta.items() if k not in ("row_start", "row_end")}  # noqa: E731
        return a.header == b.header and rest(a) == rest(b)

    def emit() -> Section:
        first, last = group[0], group[-1]
        meta = {**first.meta, "row_end": last.meta.get("row_end", last.meta["row_start"])}
        return Section(text="\n".join(s.text for s in group), meta=meta, header=first.header)

    for section in sections:
        if "row_start" not in section.meta:
            if group:
                yield emit()
                group, used = [], 0
            yield section
            continue
        header_cost = counter.count(section.header) + 1 if section.header else 0
        cost = counter.count(section.text) + 1
        if group and (not same_table(group[-1], section) or header_cost + used + cost > budget):
            yield emit()
            group, used = [], 0
        group.append(section)
        used += cost
    if group:
        yield emit()


def chunk_sections(sections: list[Section], source: str, counter: TokenCounter, plan: ChunkPlan) -> list[Chunk]:
    """Chunks of one document, numbered in reading order."""
    chunks: list[Chunk] = []
    for section in _row_groups(sections, counter, plan.max_tokens):
        header = section.header
        header_cost = counter.count(header) + 1 if header else 0
        if header_cost > plan.max_tokens // 2:  # a header that would crowd out the rows is not repeated
            header, header_cost = "", 0
        meta = dict(section.meta)
        language = meta.pop("language", None)
        budget = plan.max_tokens - header_cost
        for piece in split_text(section.text, counter, budget, plan.overlap, language):
            if not header:  # split_text kept it within the budget
                chunks.append(Chunk.make(piece, source, len(chunks), meta))
                continue
            text = f"{header}\n{piece}"
            if counter.count(text) > plan.max_tokens:  # joining can add a token; cut once more
                for sub in _hard_split(piece, counter, budget - 2):
                    chunks.append(Chunk.make(f"{header}\n{sub}", source, len(chunks), meta))
                continue
            chunks.append(Chunk.make(text, source, len(chunks), meta))
    return chunks


def index_inputs(chunks: list[Chunk], counter: TokenCounter) -> tuple[list[str], list[int], list | None]:
    """What the embedder gets for each chunk: its index text (head + text, core/index_text.py), the
    token count of that, and its model input ids (None: embed from the texts). A chunk whose head
    would push it past the model's window is embedded without the head: the chunk is never cut."""
    texts = [index_text(head_of(c.source, c.metadata()), c.text) for c in chunks]
    tokens, token_ids = counter.counts_and_inputs(texts)
    if token_ids is None and counter.max_length is not None:
        too_long = [n for n, count in enumerate(tokens) if count + 2 > counter.max_length]
        for n in too_long:
            texts[n] = chunks[n].text
        if too_long:
            tokens, token_ids = counter.counts_and_inputs(texts)
    return texts, tokens, token_ids
