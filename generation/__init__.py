"""Generation: a grounded, cited answer from retrieved passages, with a local GGUF model."""
from generation.answer import Answer, AnswerInterrupted, answer
from generation.llm import LLM, load_llm

__all__ = ["Answer", "AnswerInterrupted", "LLM", "answer", "load_llm"]
