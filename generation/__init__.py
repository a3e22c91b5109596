"""Generation: a grounded, cited answer from retrieved passages, with a local GGUF model."""

from generation.answer import Answer, AnswerInterrupted, AnswerOptions, answer
from generation.llm import LLM, load_llm

__all__ = ["Answer", "AnswerInterrupted", "AnswerOptions", "LLM", "answer", "load_llm"]
