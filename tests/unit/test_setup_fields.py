"""Setup fields whose shape differs between clients and Google's docs; PCM's default rate."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openlive.audio.decode import AudioDecoder
from openlive.protocol.client_messages import Setup
from openlive.protocol.codec import decode_client_message


def transcription(fields: dict) -> Setup:
    frame = json.dumps({"setup": {"model": "m", "inputAudioTranscription": fields}})
    decoded = decode_client_message(frame, max_bytes=1 << 20)
    assert decoded.unknown_fields == []
    assert isinstance(decoded.message, Setup)
    return decoded.message


@pytest.mark.parametrize(
    ("fields", "auto", "hints"),
    [
        ({"languageAuto": {}}, True, []),  # google-genai's LanguageAuto()
        ({"language_auto": {}}, True, []),
        ({"languageAuto": True}, True, []),  # the older bool
        ({"languageAuto": False}, False, []),
        ({"languageHints": {"languageCodes": ["en", "fr"]}}, None, ["en", "fr"]),
        ({"language_hints": {"language_codes": ["de"]}}, None, ["de"]),
        ({"languageHints": {}}, None, []),
        ({"languageHints": ["es"]}, None, ["es"]),  # the older list
    ],
)
def test_language_auto_and_hints_in_every_shape(fields: dict, auto, hints) -> None:
    config = transcription(fields).input_audio_transcription
    assert config is not None
    assert (config.language_auto, config.language_hints) == (auto, hints)


def test_pcm_without_a_rate_is_16_khz() -> None:
    one_second = (np.sin(np.arange(16000) / 10) * 8000).astype("<i2").tobytes()
    assert len(AudioDecoder().decode(one_second, "audio/pcm")) == 16000
    assert len(AudioDecoder().decode(one_second, "audio/pcm;rate=16000")) == 16000
    resampled = AudioDecoder().decode(one_second, "audio/pcm;rate=8000")
    assert 31000 < len(resampled) <= 32000  # the stream resampler holds back a little
