"""Whisper (short-window decoding): accurate text for natural speech, short and long inputs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from openlive.engines.asr import Transcript, WhisperASR
from openlive.engines.asr.whisper import _split_windows, drop_repeated_copy, is_loop, voiced_ms
from openlive.engines.vad import SileroVAD

from ..speech import SpeechMaker, add_noise, join, pad, pink_noise, silence
from ..wer import corpus_wer, normalise, wer

SENTENCES = [
    "I was wondering if you could help me find a good restaurant near the station.",
    "Can you tell me what the weather will be like tomorrow in London?",
    "Please remind me to call my sister when I get home tonight.",
    "She bought three apples, a loaf of bread and some fresh milk.",
    "Our meeting has been moved to Thursday afternoon at the usual place.",
]
MORE_SENTENCES = [
    "My favourite part of the trip was the boat ride along the river.",
    "What time does the museum open on Sunday mornings?",
    "I think we should leave early because the traffic will be terrible.",
    "Turn off the lights in the kitchen and lock the back door.",
    "How many people live in the capital city of Australia?",
]


def test_word_error_rate_on_natural_speech(whisper_asr: WhisperASR, speech: SpeechMaker) -> None:
    pairs = []
    for sentence in SENTENCES:
        transcript = whisper_asr.transcribe(pad(speech.say(sentence), after=0.2))
        assert isinstance(transcript, Transcript)
        pairs.append((sentence, transcript.text))
    assert corpus_wer(pairs) <= 0.15, pairs


def test_language_is_detected_as_english(whisper_asr: WhisperASR, speech: SpeechMaker) -> None:
    for sentence in SENTENCES[:3]:
        assert whisper_asr.transcribe(speech.say(sentence)).language == "en"


@pytest.mark.parametrize("language", ["en", "en-US", "EN_gb"])
def test_a_given_language_is_used(
    whisper_asr: WhisperASR, speech: SpeechMaker, language: str
) -> None:
    transcript = whisper_asr.transcribe(speech.say(SENTENCES[0]), language=language)
    assert transcript.language == "en"
    assert wer(SENTENCES[0], transcript.text) <= 0.15


def test_an_unknown_language_is_refused(whisper_asr: WhisperASR, speech: SpeechMaker) -> None:
    with pytest.raises(ValueError, match="language"):
        whisper_asr.transcribe(speech.say(SENTENCES[0]), language="xx")


def test_speech_in_pink_noise(whisper_asr: WhisperASR, speech: SpeechMaker) -> None:
    pairs = [
        (s, whisper_asr.transcribe(add_noise(pad(speech.say(s), 0.3, 0.3), snr_db=10)).text)
        for s in SENTENCES[:3]
    ]
    assert corpus_wer(pairs) <= 0.15, pairs


def test_eight_second_input(whisper_asr: WhisperASR, speech: SpeechMaker) -> None:
    audio = join(speech.say(SENTENCES[0]), speech.say(SENTENCES[1]), gap=0.5)
    audio = pad(audio, after=8.0 - len(audio) / 16000)
    assert len(audio) == 8 * 16000
    text = whisper_asr.transcribe(audio).text
    assert wer(f"{SENTENCES[0]} {SENTENCES[1]}", text) <= 0.15, text


def test_input_longer_than_one_whisper_window(whisper_asr: WhisperASR, speech: SpeechMaker) -> None:
    """Over 30 s, the audio is cut in a pause and decoded window by window; nothing is lost at
    the cut."""
    sentences = SENTENCES + MORE_SENTENCES
    audio = join(*(speech.say(s) for s in sentences), gap=0.6)
    audio = pad(audio, after=max(0.0, 35.0 - len(audio) / 16000))
    assert len(audio) >= 35 * 16000
    text = whisper_asr.transcribe(audio).text
    assert wer(" ".join(sentences), text) <= 0.15, text


NOISES = {
    "silence": silence(3.0),
    **{
        f"pink noise {level} seed {seed}": pink_noise(3.0, rms=level, seed=seed)
        for level in (0.003, 0.01, 0.05)
        for seed in range(3)
    },
    "white noise": (np.random.default_rng(7).standard_normal(48000) * 0.02).astype(np.float32),
    "mains hum": (0.02 * np.sin(2 * np.pi * 50 * np.arange(48000) / 16000)).astype(np.float32),
}


@pytest.mark.parametrize("name", list(NOISES))
def test_silence_and_noise_give_no_text(whisper_asr: WhisperASR, name: str) -> None:
    # Whisper base alone says "you", "I'm going to go to the bathroom." or "2.5cm x 2.5cm ..."
    # to these, with a confidence that depends on the CPU; the VAD hears no speech in them.
    assert whisper_asr.transcribe(NOISES[name]).text == ""


@pytest.mark.parametrize("scale", [1.0, 0.1])
@pytest.mark.parametrize("word", ["Yes.", "Okay.", "What time is it?"])
def test_short_and_quiet_words_pass_the_speech_check(
    whisper_asr: WhisperASR, speech: SpeechMaker, word: str, scale: float
) -> None:
    audio = (speech.say(word) * scale).astype(np.float32)
    assert normalise(whisper_asr.transcribe(audio).text) == normalise(word)


def test_the_speech_check_costs_a_fraction_of_a_decode(
    silero: SileroVAD, speech: SpeechMaker
) -> None:
    clip = pad(speech.say(SENTENCES[0]), 0.2, 0.2)
    assert voiced_ms(silero, clip) >= 0.5 * len(clip) / 16
    assert voiced_ms(silero, pink_noise(3.0, rms=0.05)) == 0.0


@pytest.mark.parametrize(
    ("text", "looping"),
    [
        ("1.5cm x 2.5cm x 2.5cm x 2.5cm x 2.5cm", True),
        ("a, a, a, a, a, a, a", True),
        ("I'm going to get a little bit of a little bit of a little bit of water.", True),
        ("Thank you. " * 12, True),
        ("I'm going to go to the bathroom.", False),
        ("No. No. No.", False),
        ("Can you tell me what the weather will be like tomorrow in London?", False),
    ],
)
def test_looping_decodes_are_recognised(text: str, looping: bool) -> None:
    assert is_loop(text) is looping


def test_concurrent_calls_give_the_same_text(whisper_asr: WhisperASR, speech: SpeechMaker) -> None:
    clips = [speech.say(s) for s in SENTENCES[:3]]
    expected = [whisper_asr.transcribe(clip).text for clip in clips]
    results: dict[int, list[str]] = {}

    def run(k: int) -> None:
        results[k] = [whisper_asr.transcribe(clip).text for clip in clips]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == expected for result in results.values())


def test_windows_are_cut_in_pauses(speech: SpeechMaker) -> None:
    clips = [speech.say(s) for s in SENTENCES + MORE_SENTENCES]
    audio = join(*clips, gap=0.6)
    windows = _split_windows(audio)
    assert len(windows) == 2
    assert sum(len(w) for w in windows) == len(audio)
    assert all(len(w) <= 29.7 * 16000 for w in windows)
    # The cut lands where the signal is quiet (a gap between sentences).
    cut = len(windows[0])
    assert np.abs(audio[cut - 800 : cut + 800]).max() < 0.02


def test_short_input_is_fine(whisper_asr: WhisperASR, speech: SpeechMaker) -> None:
    text = whisper_asr.transcribe(speech.say("Yes.")).text
    assert normalise(text) == ["yes"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Book a table for two. Book a table for two.", "Book a table for two."),
        ("Book a table for two. book a table for two", "Book a table for two."),
        ("Bye bye.", "Bye bye."),
        ("Thank you, thank you.", "Thank you, thank you."),
        ("Book a table for two. Book a table for three.", None),
        (
            "What time is it? Call my sister now. Call my sister now.",
            "What time is it? Call my sister now.",
        ),
        ("Call my sister now. Call my sister now. And then?", "Call my sister now. And then?"),
        ("No. No. No.", None),
        ("One two three four five", None),
        ("", None),
    ],
)
def test_drop_repeated_copy(text: str, expected: str | None) -> None:
    assert drop_repeated_copy(text) == (text if expected is None else expected)
