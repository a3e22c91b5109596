"""Retrieval: the passages of the index that answer a question, best first, with scores."""
from retrieval.retriever import Retriever, open_retriever

__all__ = ["Retriever", "open_retriever"]
