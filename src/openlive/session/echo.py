"""Echo guard, second line: the server knows what it just said.

Without echo cancellation on the client, the microphone hears our reply. The first line of defence
is that speech must last longer before it interrupts while our audio plays (listener.py). The
second is here: a "user turn" whose words are mostly words we were speaking at that moment is our
own voice coming back, and is dropped instead of being answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[\w']+")
ECHO_WORD_SHARE = 0.7
RECENT_SPEECH_S = 3.0  # how long after playback our own words may still come back as echo


@dataclass(frozen=True)
class LastSpoken:
    """What the previous reply said aloud, and when the client finished playing it."""

    text: str = ""
    until: float = 0.0

    def recent(self, now: float) -> str:
        return self.text if now < self.until + RECENT_SPEECH_S else ""


def words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def is_own_echo(heard: str, spoken: str) -> bool:
    """Whether most of ``heard`` (in order) is found in ``spoken``."""
    heard_words, spoken_words = words(heard), words(spoken)
    if not heard_words or not spoken_words:
        return False
    # Longest common subsequence, small inputs: a few seconds of speech on each side.
    previous = [0] * (len(spoken_words) + 1)
    for word in heard_words:
        current = [0]
        for index, candidate in enumerate(spoken_words):
            current.append(
                previous[index] + 1 if word == candidate else max(previous[index + 1], current[-1])
            )
        previous = current
    return previous[-1] / len(heard_words) >= ECHO_WORD_SHARE


# A short utterance over our reply is most often a listener's "mm-hm", "yeah", "I see", and the
# recogniser writes those many ways ("Mm-hmm.", "Mhm", "Mom", "Uh huh"), so the rule is the other
# way round: it takes a word that asks the speaker to stop to make it an interruption.
_STOP_WORDS = frozenset(
    {"stop", "wait", "no", "nope", "hold", "pause", "sorry", "hey", "excuse", "enough"}
    | {"quiet", "shh", "cancel", "nevermind", "never", "actually", "but", "what", "hang"}
)
BACKCHANNEL_MAX_WORDS = 3


def is_backchannel(heard: str) -> bool:
    """Whether ``heard``, said briefly over our reply, is only a listener's acknowledgement: at
    most three words and none that asks us to stop. Nothing heard at all (a cough the
    recogniser skipped) counts too."""
    heard_words = [w for part in words(heard) for w in part.split("-") if w]
    if len(heard_words) > BACKCHANNEL_MAX_WORDS:
        return False
    return not any(w in _STOP_WORDS for w in heard_words)
