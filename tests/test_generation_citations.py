"""Citation markers, attribution, excerpts and refusal detection: pure functions, no model."""

import pytest

from core.types import Chunk, Hit
from generation.answer import says_not_in_documents
from generation.citations import MarkerFilter, attribute_by_overlap, check_citations, unsupported_figures
from generation.excerpts import choose_excerpts, sentences


def stream_through(pieces, n_passages):
    markers = MarkerFilter(n_passages)
    shown = "".join(markers.feed(p) for p in pieces) + markers.flush()
    return shown, markers.cited, markers.dropped


@pytest.mark.parametrize(
    "raw, shown, cited, dropped",
    [
        ("Rent is 950 euros [1].", "Rent is 950 euros [1].", [1], []),
        ("Rent is 950 euros [3].", "Rent is 950 euros.", [], ["[3]"]),
        ("Rent [2, 5] is due [1] monthly.", "Rent [2] is due [1] monthly.", [2, 1], ["[2, 5]"]),
        ("It is [0] due [7] now.", "It is due now.", [], ["[0]", "[7]"]),
        ("A list [a] and [12", "A list [a] and [12", [], []),
        ("Twice [1][1].", "Twice [1][1].", [1], []),
    ],
)
def test_invalid_markers_never_reach_the_stream(raw, shown, cited, dropped):
    # Fed one character at a time, the worst case for a marker split across tokens.
    assert stream_through(list(raw), 2) == (shown, cited, dropped)
    assert stream_through([raw], 2) == (shown, cited, dropped)
    assert check_citations(raw, 2) == (shown.strip(), cited, dropped)


def test_text_is_not_held_back_beyond_an_open_marker():
    markers = MarkerFilter(2)
    assert markers.feed("The rent ") == "The rent"  # trailing space waits: a dropped marker may follow
    assert markers.feed("is [") == " is"
    assert markers.feed("1") == ""
    assert markers.feed("] due") == " [1] due"


def test_attribution_points_to_the_passage_holding_the_figure():
    passages = ["The brew boiler operates at 9.2 bar.", "The steam boiler is maintained at 1.45 bar."]
    assert attribute_by_overlap(
        "The steam boiler is held at 1.45 bar.", passages, "What pressure is the steam boiler held at?"
    ) == [2]
    assert attribute_by_overlap("I like turtles.", passages, "What pressure?") == []


def test_figures_absent_from_the_passages_are_flagged():
    passages = ["The parts warranty lasts 36 months.", "Descale every 60 days [sic]."]
    assert unsupported_figures("The warranty lasts 36 months [1], or 3 years.", passages, "How long?") == ["3"]
    assert unsupported_figures("Every 60 days [2].", passages) == []


@pytest.mark.parametrize(
    "text, refusal",
    [
        ("The documents do not say.", True),
        ("The passages don't mention the salary.", True),
        ("The provided text does not contain information about that.", True),
        ("I don't know.", True),
        ("The rent is 950 euros [1]. The documents do not say when it rises.", False),
        ("Notice is sixty days.", False),
    ],
)
def test_model_saying_the_documents_do_not_say_is_a_refusal(text, refusal):
    assert says_not_in_documents(text) is refusal


def test_pdf_lines_join_into_sentences_and_labels_stay_with_their_text():
    text = "3.\nERROR CODES\nE42: Pump cavitation detected.\nPrime the pump by running 200 ml of\nwater through the wand.\n\nThe brew boiler\nruns at 9.2 bar."
    assert sentences(text) == [
        "3. ERROR CODES E42: Pump cavitation detected. Prime the pump by running 200 ml of water through the wand.",
        "The brew boiler runs at 9.2 bar.",
    ]


def test_excerpts_keep_the_sentences_sharing_words_with_the_question():
    hits = [
        Hit(
            Chunk.make(
                "The office opens at nine every weekday morning. The rent is 950 euros per month. Parking is free for staff.",
                "a.pdf",
                0,
            ),
            0.5,
        ),
        Hit(
            Chunk.make(
                "Pets are not allowed in the building at all. The deposit equals three months of rent.", "b.pdf", 0
            ),
            0.4,
        ),
    ]
    excerpts = choose_excerpts("How much is the monthly rent?", hits, 2)
    assert excerpts == ["The rent is 950 euros per month.", "The deposit equals three months of rent."]
    assert choose_excerpts("How much is the monthly rent?", hits, 0) == [h.chunk.text for h in hits]
