"""The incremental clause splitter that lets speech start on the first clause of a reply."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openlive.engines.tts.text import ClauseSplitter, speakable, split_clauses

REPLY = (
    "Sure! The value of pi is about 3.14, which is an irrational number. "
    "Mr. Smith, e.g. the teacher, said so. Visit example.com. "
    "Then, when you are ready, call me at 10:30, okay? It costs $1,000, roughly, "
    "and that is a lot of money."
)
CLAUSES = [
    "Sure!",
    "The value of pi is about 3.14,",
    "which is an irrational number.",
    "Mr. Smith, e.g. the teacher,",
    "said so.",
    "Visit example.com.",
    "Then, when you are ready,",
    "call me at 10:30,",
    "okay?",
    "It costs $1,000, roughly,",
    "and that is a lot of money.",
]


def clauses(text: str, **options: int) -> list[str]:
    return list(split_clauses([text], **options))


def test_a_reply_splits_into_speakable_clauses() -> None:
    assert clauses(REPLY) == CLAUSES


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_fragment_boundaries_do_not_change_the_clauses(size: int) -> None:
    fragments = [REPLY[i : i + size] for i in range(0, len(REPLY), size)]
    assert list(split_clauses(fragments)) == CLAUSES


def test_a_clause_is_released_as_soon_as_it_is_certainly_complete() -> None:
    splitter = ClauseSplitter()
    assert splitter.feed("I can help with that") == []
    assert splitter.feed("!") == []  # a "!" run could still grow ("!?")
    assert splitter.feed(" What") == ["I can help with that!"]
    assert splitter.feed(" do you need?") == []
    assert splitter.flush() == ["What do you need?"]
    assert splitter.flush() == []


def test_a_period_waits_for_the_next_word() -> None:
    splitter = ClauseSplitter()
    assert splitter.feed("It is 3.") == []  # 3.14 or the end of a sentence?
    assert splitter.feed(" ") == []  # "3. then" would continue the sentence
    assert splitter.feed("Then") == ["It is 3."]


def test_numbers_are_never_split() -> None:
    assert clauses("Pi is 3.14159 and e is 2.718 exactly.") == [
        "Pi is 3.14159 and e is 2.718 exactly."
    ]
    assert clauses("We sold 1,250,000 units in total this year, which is great.") == [
        "We sold 1,250,000 units in total this year,",
        "which is great.",
    ]
    assert clauses("The meeting is at 10:30 in the morning.") == [
        "The meeting is at 10:30 in the morning."
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Ask Mr. Brown about it.",
        "Dr. Who and Prof. X met there.",
        "Bring fruit, e.g. apples or pears.",
        "That is, i.e. the best one.",
        "It was J. K. Rowling who wrote it.",
        "It starts at 5 p.m. sharp.",
        "Real Madrid vs. Barcelona tonight.",
        "It weighs approx. 5 kilograms.",
        "Ask the U.S. Navy about it.",
    ],
)
def test_abbreviations_and_initials_do_not_end_a_sentence(text: str) -> None:
    assert clauses(text) == [text]


def test_a_period_before_a_lowercase_word_does_not_end_a_sentence() -> None:
    assert clauses("See the appendix etc. for more details.") == [
        "See the appendix etc. for more details."
    ]


def test_commas_split_only_clauses_of_four_words_or_more() -> None:
    assert clauses("Yes, I think so, but not today.") == ["Yes, I think so,", "but not today."]
    assert clauses("Well, okay.") == ["Well, okay."]
    assert clauses("One two three four; five six.") == ["One two three four;", "five six."]


def test_min_words_is_a_knob() -> None:
    assert clauses("Oh well, we tried our best.", min_words=2) == ["Oh well,", "we tried our best."]


def test_sentence_punctuation_runs_and_closing_quotes_stay_with_their_clause() -> None:
    assert clauses('Really?! She said "no." Then she left... Fine.') == [
        "Really?!",
        'She said "no."',
        "Then she left...",
        "Fine.",
    ]


def test_line_breaks_and_numbered_lists() -> None:
    text = "Here are the steps:\n1. Open the app\n2. Tap settings\n\nThat is all."
    assert clauses(text) == [
        "Here are the steps:",
        "1. Open the app",
        "2. Tap settings",
        "That is all.",
    ]


def test_a_sentence_that_ends_its_line_is_released_without_waiting_for_more() -> None:
    """A tool filler ("One moment, let me check that.\n") is all the text there is until the
    client answers: it must be spoken now, however long a first clause may grow."""
    splitter = ClauseSplitter(first_clause_words=8)
    assert splitter.feed("One moment, let me check that.\n") == ["One moment, let me check that."]
    assert splitter.feed("Dr. Smith is in.\nOk") == ["Dr. Smith is in."]


def test_later_clauses_are_cut_at_their_caps_which_follow_the_clause_before() -> None:
    """A reply with no comma in sight: each clause is cut once it holds as many words as the
    one before it allows (here twice as many), streamed token by token as an LLM writes."""
    asked: list[int] = []

    def twice(previous: int) -> int:
        asked.append(previous)
        return 2 * previous

    splitter = ClauseSplitter(first_clause_words=2, next_clause_words=twice)
    words = [f"w{i}" for i in range(20)]
    spoken = []
    for word in words:
        spoken += splitter.feed(f" {word}" if spoken or word != "w0" else word)
    spoken += splitter.flush()
    assert [len(clause.split()) for clause in spoken] == [2, 4, 8, 6]
    assert " ".join(spoken) == " ".join(words)
    assert asked[0] == 2 and set(asked) == {2, 4, 8}
    # A natural boundary still comes first, and its length sets the next cap.
    splitter = ClauseSplitter(first_clause_words=2, next_clause_words=twice)
    assert splitter.feed("Yes.") == []
    assert splitter.feed(" It") == ["Yes."]
    assert splitter.feed(" is") == []
    assert splitter.feed(" a") == ["It is"]  # 2 words after the 1-word "Yes."


def test_cjk_sentence_ends_need_no_space() -> None:
    assert clauses("こんにちは。元気ですか？はい。") == ["こんにちは。", "元気ですか？", "はい。"]


def test_a_very_long_clause_is_cut_at_a_space() -> None:
    text = " ".join(["word"] * 100)
    parts = clauses(text)
    assert len(parts) > 1
    assert all(len(part) <= 305 for part in parts)
    assert " ".join(parts) == text


def test_clauses_with_nothing_to_say_are_dropped() -> None:
    assert clauses("... !!! Hello.") == ["Hello."]
    assert ClauseSplitter().flush() == []


def _words(text: str) -> list[str]:
    return [token for token in text.split() if any(c.isalnum() for c in token)]


@given(st.text(alphabet="ab .,!?3\n", max_size=80), st.integers(min_value=1, max_value=7))
def test_no_word_is_lost_or_reordered_however_the_text_arrives(text: str, size: int) -> None:
    fragments = [text[i : i + size] for i in range(0, len(text), size)]
    streamed = list(split_clauses(fragments))
    assert streamed == list(split_clauses([text]))
    assert _words(" ".join(streamed)) == _words(text)


# -- markdown --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "speech"),
    [
        ("**Paris** is the *capital*.", "Paris is the capital."),
        ("__Bold__ and _italic_ text.", "Bold and italic text."),
        ("## Summary\n- first\n* second\n> quoted", "Summary\nfirst\nsecond\nquoted"),
        ("See [the docs](https://example.com) now.", "See the docs now."),
        ("Run `pip install` first.", "Run pip install first."),
        (
            "Keep snake_case_names and 3 * 4 as they are.",
            "Keep snake_case_names and 3 * 4 as they are.",
        ),
        ("Say [hibari](/hibˈɑɹi/) now.", "Say [hibari](/hibˈɑɹi/) now."),
    ],
)
def test_markdown_is_removed_before_speech(markdown: str, speech: str) -> None:
    assert speakable(markdown) == speech
