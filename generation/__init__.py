"""Generation: a grounded, cited answer from retrieved passages, with a local GGUF model."""

from generation.answer import Answer, AnswerInterrupted, AnswerOptions, answer
from generation.backends import load_llm
from generation.llm import LLM

__all__ = ["Answer", "AnswerInterrupted", "AnswerOptions", "LLM", "answer", "load_llm"]
