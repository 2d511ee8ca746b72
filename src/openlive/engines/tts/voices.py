"""The 30 Gemini prebuilt voice names, each mapped to a Kokoro-82M style (or a blend of two).

Genders match Google's voices. Gemini has more male voices than Kokoro has distinct American male
styles, so four names use a 0.5/0.5 average of two styles; each blend also gets its own small speed
offset so that no two names sound the same even where a blend sits close to one of its parents.
British styles (``bf_``/``bm_``) are read with British phonemes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_VOICE = "Puck"


class UnknownVoice(ValueError):
    """The name is not one of the 30 Gemini prebuilt voices."""


@dataclass(frozen=True)
class VoiceSpec:
    name: str
    """The Gemini name, in Google's capitalisation."""
    gender: Literal["male", "female"]
    styles: tuple[str, ...]
    """Kokoro style ids; two ids are averaged 0.5/0.5."""
    speed: float = 1.0

    @property
    def british(self) -> bool:
        """Read with British phonemes: the (first) style is a British one."""
        return self.styles[0][0] == "b"


def _m(name: str, *styles: str, speed: float = 1.0) -> VoiceSpec:
    return VoiceSpec(name, "male", styles, speed)


def _f(name: str, *styles: str, speed: float = 1.0) -> VoiceSpec:
    return VoiceSpec(name, "female", styles, speed)


VOICES: tuple[VoiceSpec, ...] = (
    _m("Puck", "am_puck"),
    _m("Charon", "am_michael"),
    _m("Fenrir", "am_fenrir"),
    _m("Orus", "am_onyx"),
    _m("Enceladus", "am_echo"),
    _m("Iapetus", "bm_george"),
    _m("Umbriel", "am_liam"),
    _m("Algieba", "bm_fable"),
    _m("Algenib", "bm_lewis"),
    _m("Rasalgethi", "bm_daniel"),
    _m("Alnilam", "am_adam"),
    _m("Schedar", "am_eric"),
    _m("Achird", "am_michael", "am_puck", speed=1.05),
    _m("Zubenelgenubi", "am_liam", "bm_george", speed=0.95),
    _m("Sadachbia", "am_fenrir", "am_eric", speed=1.07),
    _m("Sadaltager", "bm_daniel", "am_michael", speed=0.93),
    _f("Zephyr", "af_heart"),
    _f("Kore", "af_kore"),
    _f("Leda", "af_sky"),
    _f("Aoede", "af_aoede"),
    _f("Callirrhoe", "af_river"),
    _f("Autonoe", "af_bella"),
    _f("Despina", "bf_isabella"),
    _f("Erinome", "bf_emma"),
    _f("Laomedeia", "af_jessica"),
    _f("Achernar", "af_nicole"),
    _f("Gacrux", "af_alloy"),
    _f("Pulcherrima", "af_nova"),
    _f("Vindemiatrix", "bf_lily"),
    _f("Sulafat", "af_sarah"),
)

_BY_KEY = {voice.name.casefold(): voice for voice in VOICES}


def voice_names() -> list[str]:
    return [voice.name for voice in VOICES]


def kokoro_styles() -> set[str]:
    """Every Kokoro style id some Gemini name uses (what the engine must load)."""
    return {style for voice in VOICES for style in voice.styles}


def resolve_voice(name: str | None) -> VoiceSpec:
    """The voice for a Gemini name, case-insensitively; no name means the default (Puck)."""
    if name is None or not name.strip():
        return _BY_KEY[DEFAULT_VOICE.casefold()]
    try:
        return _BY_KEY[name.strip().casefold()]
    except KeyError:
        raise UnknownVoice(
            f"unknown voice {name!r}; the prebuilt voices are {', '.join(voice_names())}"
        ) from None
