"""Retrieval: the passages of the index that answer a question, best first, with scores."""

from retrieval.options import MODES, SearchOptions, SearchRequest
from retrieval.retriever import Retriever, open_retriever

__all__ = ["MODES", "Retriever", "SearchOptions", "SearchRequest", "open_retriever"]
