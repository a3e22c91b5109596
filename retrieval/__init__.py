"""Retrieval: the passages of the index that answer a question, best first, with scores."""

from retrieval.retriever import MODES, Retriever, SearchRequest, open_retriever

__all__ = ["MODES", "Retriever", "SearchRequest", "open_retriever"]
