"""With the real bundled model and the sample index: a follow-up rewrite that invents a figure is never
searched (issue 25, item 5). The model's rewrite is scripted here (what it does now and then; it cannot
be made to on demand); its tokenizer, the history window, the search and the answer are all real."""

from __future__ import annotations

import io
from dataclasses import dataclass

from answering import Session
from frontends.chat import Chat
from generation.followup import REWRITE_SYSTEM
from retrieval import open_retriever
from test_followup import Recording

RENT = "What is the monthly rent for the apartment?"
QUESTION = "How much notice is needed to end it?"
INVENTED = "How much notice is needed to end the lease after 18 months?"  # 18 months: said by no one


@dataclass
class InventingRewrite(Recording):
    """The real model, except that its follow-up rewrite is INVENTED; `prompts`: the rewrite prompts."""

    def stream_chat(self, messages, *args):
        if messages[0]["content"] != REWRITE_SYSTEM:
            return self.llm.stream_chat(messages, *args)
        self.prompts.append(messages)
        return iter([INVENTED])


def test_an_invented_figure_in_a_rewrite_is_not_searched(sample_db, settings_for, llm):
    settings = settings_for(sample_db, k=3, max_tokens=24)
    with open_retriever(settings) as retriever:
        searched: list[str] = []
        run = retriever.run

        def recording(request, vector=None):
            searched.append(request.question)
            return run(request, vector)

        retriever.run = recording
        model = InventingRewrite(llm)
        out = io.StringIO()
        chat = Chat(Session(retriever, model, settings), out, io.StringIO(), interactive=True)
        chat.handle(RENT)
        chat.handle(QUESTION)
    assert len(model.prompts) == 1  # the model was asked, and its rewrite judged
    assert searched[0] == RENT and len(searched) == 3
    assert not any("18" in query for query in searched), searched
    shown = [line for line in out.getvalue().splitlines() if line.startswith("(searching for:")]
    assert len(shown) == 1 and "18" not in shown[0] and QUESTION in shown[0]
    assert chat.last_record["retrieved"][0]["source"] == "lease_agreement.pdf"
    assert chat.last_record["retrieved"][0]["page"] == 2  # the notice clause: found from the conversation
