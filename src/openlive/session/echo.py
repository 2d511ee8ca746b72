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


# Words a listener says while the other one talks, to show they follow, not to take the turn.
# Whisper writes them many ways ("Mm-hmm.", "Mhm", "Hmm", "Uh huh"), hence the patterns.
_BACKCHANNEL_WORDS = frozenset(
    {"yeah", "yes", "yep", "yup", "ok", "okay", "right", "sure", "alright", "cool", "nice"}
    | {"wow", "ah", "oh", "uh", "um", "huh", "i", "see", "got", "it", "true", "indeed", "exactly"}
)
_BACKCHANNEL_SOUND = re.compile(r"^(h*m+h*m*|m+h+m+|mm+hm+|uh+|um+|ah+|oh+|hm+|huh)$")
BACKCHANNEL_MAX_WORDS = 3


def is_backchannel(heard: str) -> bool:
    """Whether ``heard`` is only a listener's "mm-hm", "yeah", "I see": no turn of its own.
    Nothing heard at all (a cough the recogniser skipped) counts too."""
    heard_words = [w for part in words(heard) for w in part.split("-") if w]
    if len(heard_words) > BACKCHANNEL_MAX_WORDS:
        return False
    return all(w in _BACKCHANNEL_WORDS or _BACKCHANNEL_SOUND.match(w) for w in heard_words)
