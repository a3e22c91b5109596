"""One Unicode-aware word splitter for every stage: "Übergabe" is one word, not "bergabe"."""

from core.words import term_words, tokens, words
from generation.excerpts import terms
from generation.followup import key_terms
from generation.question import content_words, read_question, unknown_share
from index.lexical import query_terms


def test_german_words_stay_whole_in_every_stage():
    question = "Wann ist die Übergabe der Schlüssel fällig?"
    assert "übergabe" in words(question) and "schlüssel" in words(question)
    assert "übergabe" in tokens(question) and "übergabe" in term_words(question)
    assert "übergabe" in content_words(question)
    assert "übergabe" in terms(question)
    assert "übergabe" in key_terms(question)
    assert '"übergabe"' in query_terms(question)
    assert "übergabe" in read_question(question).terms


def test_a_german_question_whose_words_the_index_holds_is_not_unknown():
    held = {"übergabe", "schlüssel", "fällig", "wann", "ist", "die", "der"}  # a German document holds them all
    counts = lambda ws: {w: (5 if w in held else 0) for w in ws}  # noqa: E731
    assert unknown_share("Wann ist die Übergabe der Schlüssel fällig?", counts) == 0.0


def test_codes_and_figures_split_as_the_full_text_index_splits_them():
    assert tokens("ERR-4031 snake_case 14.2") == ["err", "4031", "snake", "case", "14", "2"]
    assert term_words("max-age 14.2 Straße") == ["max-age", "14.2", "straße"]
    assert words("don't e-mail 2024 utf8") == ["don't", "e-mail", "utf8"]
    assert words("x 2024", numbers=True) == ["x", "2024"]
