"""The answer service: one open index and one loaded model, a question (and its conversation) in, an answer out.

Every front end (ask, chat, batch, serve and its OpenAI API) and the answer benchmarks call
`Session.ask`; it owns the follow-up rewrite, the search, the answer and its timings.
"""

from answering.session import Session, history_of, open_session, warm_up

__all__ = ["Session", "history_of", "open_session", "warm_up"]
