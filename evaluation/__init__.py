"""Evaluation: how well retrieval finds the passages a question set says it should."""

from evaluation.qa import QAItem, load_qa
from evaluation.runner import EvalReport, evaluate

__all__ = ["EvalReport", "QAItem", "evaluate", "load_qa"]
