"""Finding passages for a question."""
from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings
from core.types import Chunk, Hit
from embeddings import Embedder, load_embedder
from index import Index, open_index
from index.store import IndexInfo


@dataclass
class Retriever:
    """An open index and the embedder that built it; reused across questions (chat, batch)."""

    index: Index
    embedder: Embedder
    settings: Settings

    def search(self, question: str, k: int | None = None, where: dict | None = None) -> list[Hit]:
        k = k or self.settings.k
        vector = self.embedder.embed_query(question)
        matches = self.index.vectors.query(vector, k, where=where)
        return [Hit(Chunk.from_metadata(m.id, m.text, m.metadata), m.score, relevance=m.score) for m in matches]

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> "Retriever":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_retriever(settings: Settings) -> Retriever:
    """Open the index for reading; refuses an embedding model other than the one that built it."""
    index = open_index(settings.db)
    try:
        embedder = load_embedder(settings)
        info = embedder.info
        index.check_compatible(
            IndexInfo(info.name, info.fingerprint, info.dimensions, settings.chunk_tokens, settings.chunk_overlap),
            for_writing=False,
        )
    except Exception:
        index.close()
        raise
    return Retriever(index=index, embedder=embedder, settings=settings)
