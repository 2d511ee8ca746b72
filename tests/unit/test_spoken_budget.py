"""A spoken reply without a client limit ends at a sentence end once past its budget."""

from __future__ import annotations

import re

import pytest

from openlive.session.spoken_budget import SpokenBudget


def stream(text: str, budget: SpokenBudget, size: int) -> str:
    """``text`` fed as fragments of ``size`` characters (token-like); what was passed on."""
    passed = ""
    for i in range(0, len(text), size):
        passed += budget.take(text[i : i + size])
        if budget.done:
            return passed
    return passed + budget.flush()


LONG = " ".join(
    f"Sentence number {n} is here, and it has a few more words in it." for n in range(40)
)


@pytest.mark.parametrize("size", [1, 3, 7, 40])
def test_a_long_reply_ends_at_the_first_sentence_end_past_the_budget(size: int) -> None:
    budget = SpokenBudget(soft_words=30)
    passed = stream(LONG, budget, size)
    assert budget.done
    assert passed.endswith("in it.")
    assert LONG.startswith(passed)
    words = len(passed.split())
    assert 30 <= words < 30 + 14  # the sentence that crossed the budget, no more


@pytest.mark.parametrize("size", [1, 5, 1000])
def test_a_short_reply_passes_whole(size: int) -> None:
    text = "Paris is the capital of France. It is on the Seine."
    budget = SpokenBudget(soft_words=30)
    assert stream(text, budget, size) == text
    assert not budget.done


@pytest.mark.parametrize(
    "tail",
    [
        " The value is 3.5 metres, give or take. And more follows.",
        " It costs approx. ten euros today. And more follows.",
        ' She said "stop." Then more follows.',
        " We met Mr. Smith at noon. And more follows.",
    ],
)
def test_numbers_abbreviations_and_quotes_do_not_end_early(tail: str) -> None:
    text = "word " * 10 + tail
    budget = SpokenBudget(soft_words=10)
    passed = stream(text, budget, 2)
    assert budget.done
    assert re.search(r"(take\.|today\.|stop\.\"|noon\.)$", passed), passed


def test_a_line_break_after_a_sentence_ends_it_at_once() -> None:
    budget = SpokenBudget(soft_words=3)
    assert budget.take("One two three four.\n") == "One two three four."
    assert budget.done
    assert budget.take("More.") == ""
