"""Turning text into vectors: the bundled MiniLM model, or any local sentence-transformers folder."""

from embeddings.embedder import Embedder, EmbedderInfo, load_embedder
from embeddings.tokens import TokenCounter

__all__ = ["Embedder", "EmbedderInfo", "TokenCounter", "load_embedder"]
