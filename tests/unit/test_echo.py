"""What a short utterance over our reply is (session/echo.py): our own voice coming back, a
listener's acknowledgement, or a request to stop."""

from __future__ import annotations

import pytest

from openlive.session.echo import is_backchannel, is_own_echo


@pytest.mark.parametrize(
    "heard", ["Mm-hmm.", "Mhm", "Mom", "Uh huh.", "Yeah.", "Okay.", "I see.", "Right, right.", ""]
)
def test_acknowledgements_are_backchannels(heard: str) -> None:
    assert is_backchannel(heard)


@pytest.mark.parametrize(
    "heard", ["Stop.", "Wait.", "No.", "Hold on.", "Sorry?", "Hey!", "Tell me about dogs instead"]
)
def test_requests_to_stop_and_longer_words_are_not(heard: str) -> None:
    assert not is_backchannel(heard)


def test_our_own_words_coming_back_are_an_echo() -> None:
    spoken = "The tallest mountain in the world is Mount Everest, in the Himalayas."
    assert is_own_echo("mountain in the world is Mount Everest", spoken)
    assert not is_own_echo("what about the deepest lake", spoken)
