"""Generation: a grounded, cited answer from retrieved passages, with a local GGUF model."""
from generation.answer import Answer, answer
from generation.llm import LLM, load_llm

__all__ = ["Answer", "LLM", "answer", "load_llm"]
