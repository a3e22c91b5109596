"""English words that carry no meaning of their own in a question, in one place.

`STOPWORDS` (English function words) is what BM25 leaves out of a query (index/lexical.py).
Evidence scoring also ignores modal verbs (generation/excerpts.py), and the follow-up rewrite
also ignores the words of conversation (generation/followup.py).
"""

from __future__ import annotations

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not of off on once only or other our ours ourselves out over own same she should so some such than that
    the their theirs them themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself yourselves""".split()
)

MODAL_VERBS = frozenset("must shall may might need".split())

CONVERSATION_WORDS = frozenset(
    """also another done either else ever first former get gets got last latter let many much next now ok okay
    one ones please say says second tell thank thanks third us well whats yes""".split()
)
