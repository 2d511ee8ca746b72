"""Text-to-speech: the 30 Gemini voices, Kokoro (quality) and hibari (fast) synthesis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soxr

from openlive.assets import SpeechAssets, ensure_speech_assets
from openlive.engines.asr import WhisperASR
from openlive.engines.tts import SAMPLE_RATE, TTSError, UnknownVoice, create_tts_engine
from openlive.engines.tts.espeak import espeak_path, espeak_voice
from openlive.engines.tts.fast import FastTTS
from openlive.engines.tts.g2p import MAX_TOKENS, Phonemizer, chunk_phonemes, token_ids
from openlive.engines.tts.kokoro import (
    LEAD_MARGIN_S,
    SILENCE_LEVEL,
    KokoroTTS,
    trim_leading_silence,
)
from openlive.engines.tts.voices import VOICES, kokoro_styles, resolve_voice, voice_names
from openlive.settings import Settings

GEMINI_MALE = [
    "Puck",
    "Charon",
    "Fenrir",
    "Orus",
    "Enceladus",
    "Iapetus",
    "Umbriel",
    "Algieba",
    "Algenib",
    "Rasalgethi",
    "Alnilam",
    "Schedar",
    "Achird",
    "Zubenelgenubi",
    "Sadachbia",
    "Sadaltager",
]
GEMINI_FEMALE = [
    "Zephyr",
    "Kore",
    "Leda",
    "Aoede",
    "Callirrhoe",
    "Autonoe",
    "Despina",
    "Erinome",
    "Laomedeia",
    "Achernar",
    "Gacrux",
    "Pulcherrima",
    "Vindemiatrix",
    "Sulafat",
]
HELLO = "Hello there, how are you today?"


@pytest.fixture(scope="module")
def assets() -> SpeechAssets:
    return ensure_speech_assets(Settings().models_dir, progress=False)


@pytest.fixture(scope="module")
def kokoro(assets: SpeechAssets) -> KokoroTTS:
    engine = KokoroTTS.from_assets(assets)
    engine.load()
    return engine


@pytest.fixture(scope="module")
def fast() -> Iterator[FastTTS]:
    engine = FastTTS()
    engine.load()
    yield engine


def duration_s(pcm: np.ndarray) -> float:
    return len(pcm) / SAMPLE_RATE


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)))


def log_spectrum(pcm: np.ndarray) -> np.ndarray:
    """Average log-magnitude spectrum: a crude timbre fingerprint."""
    frames = np.lib.stride_tricks.sliding_window_view(pcm.astype(np.float32) / 32768, 1024)
    return np.log(np.abs(np.fft.rfft(frames[::256] * np.hanning(1024))).mean(axis=0) + 1e-6)


def assert_speech(pcm: np.ndarray, *, min_s: float = 0.8, max_s: float = 4.0) -> None:
    assert pcm.dtype == np.int16 and pcm.ndim == 1
    assert min_s <= duration_s(pcm) <= max_s, duration_s(pcm)
    assert rms(pcm) > 500 and np.abs(pcm).max() > 5000, "audio is (nearly) silent"


# -- voices ----------------------------------------------------------------------------------


def test_the_30_gemini_names_are_mapped_each_to_its_gender() -> None:
    assert sorted(voice_names()) == sorted(GEMINI_MALE + GEMINI_FEMALE)
    for name in GEMINI_MALE:
        assert resolve_voice(name).gender == "male"
    for name in GEMINI_FEMALE:
        assert resolve_voice(name).gender == "female"


@pytest.mark.parametrize("name", GEMINI_MALE + GEMINI_FEMALE)
def test_every_name_resolves_case_insensitively(name: str) -> None:
    voice = resolve_voice(name)
    assert voice.name == name
    assert resolve_voice(name.upper()) is voice
    assert resolve_voice(f" {name.lower()} ") is voice


def test_every_name_has_its_own_style_and_speed() -> None:
    combos = {(frozenset(voice.styles), voice.speed) for voice in VOICES}
    assert len(combos) == 30
    blends = [voice for voice in VOICES if len(voice.styles) == 2]
    assert {voice.name for voice in blends} == {
        "Achird",
        "Zubenelgenubi",
        "Sadachbia",
        "Sadaltager",
    }
    assert all(voice.speed != 1.0 and 0.9 <= voice.speed <= 1.1 for voice in blends)


def test_no_name_means_the_default_voice_puck() -> None:
    assert resolve_voice(None).name == "Puck"
    assert resolve_voice("").name == "Puck"


@pytest.mark.parametrize("name", ["Bogus", "af_heart", "Puck2", "models/Puck"])
def test_unknown_names_raise(name: str) -> None:
    with pytest.raises(UnknownVoice, match="prebuilt voices are"):
        resolve_voice(name)


def test_every_style_a_voice_uses_is_installed(assets: SpeechAssets) -> None:
    for style in kokoro_styles():
        assert assets.kokoro_voice(style).stat().st_size == 510 * 256 * 4


# -- phonemes --------------------------------------------------------------------------------


def test_english_phonemes_come_from_the_misaki_port() -> None:
    phonemize = Phonemizer()
    assert phonemize("Hello there.") == "həlˈO ðˈɛɹ."
    assert phonemize("Hello there.", british=True) == "həlˈQ ðˈɛː."
    assert token_ids("həlˈO") == [50, 83, 54, 156, 31]  # Kokoro's vocab ids


def test_long_phoneme_strings_are_cut_at_sentence_ends_within_the_limit() -> None:
    sentence = "ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps ˌOvəɹ ðə lˈAzi dˈɔɡ."
    text = " ".join([sentence] * 30)
    chunks = chunk_phonemes(text)
    assert len(chunks) > 1
    assert all(len(token_ids(chunk)) <= MAX_TOKENS for chunk in chunks)
    assert all(chunk.endswith(".") for chunk in chunks)
    assert " ".join(chunks) == text
    # Without any punctuation, words are the boundary; without spaces, a blind cut.
    assert all(len(token_ids(c)) <= 50 for c in chunk_phonemes(text.replace(".", ""), 50))
    assert all(len(token_ids(c)) <= 50 for c in chunk_phonemes("a" * 120, 50))


@pytest.mark.skipif(espeak_path() is None, reason="espeak-ng is not installed")
def test_other_languages_use_espeak_ng_when_installed() -> None:
    assert espeak_voice("pt-BR") == "pt-br"
    assert espeak_voice("es-US") == "es-419"
    assert espeak_voice("fr-CA") == "fr-fr"
    phonemes = Phonemizer()("Hola, ¿cómo estás?", language="es-ES")
    assert "ˈola," in phonemes and "^" not in phonemes


# -- Kokoro (quality) ------------------------------------------------------------------------


@pytest.mark.parametrize("voice", ["Puck", "Kore"])
def test_kokoro_speaks_a_sentence(kokoro: KokoroTTS, voice: str) -> None:
    assert kokoro.sample_rate == 24_000
    assert_speech(kokoro.synthesize(HELLO, voice=voice))


def test_two_voices_sound_different(kokoro: KokoroTTS) -> None:
    puck, kore = (kokoro.synthesize(HELLO, voice=v) for v in ("Puck", "Kore"))
    achird = kokoro.synthesize(HELLO, voice="Achird")  # a blend of am_michael and am_puck
    assert np.abs(log_spectrum(puck) - log_spectrum(kore)).mean() > 0.1
    assert np.abs(log_spectrum(puck) - log_spectrum(achird)).mean() > 0.1
    assert np.array_equal(puck, kokoro.synthesize(HELLO, voice="puck"))  # and is repeatable


def test_kokoro_is_safe_to_call_from_two_threads(kokoro: KokoroTTS) -> None:
    expected = {v: kokoro.synthesize(HELLO, voice=v) for v in ("Puck", "Kore")}
    results: dict[str, np.ndarray] = {}

    def speak(voice: str) -> None:
        results[voice] = kokoro.synthesize(HELLO, voice=voice)

    threads = [threading.Thread(target=speak, args=(v,)) for v in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for voice, pcm in expected.items():
        assert np.array_equal(results[voice], pcm)


def test_kokoro_splits_text_longer_than_its_context(kokoro: KokoroTTS) -> None:
    text = " ".join(["The quick brown fox jumps over the lazy dog."] * 14)  # ~620 phonemes
    assert_speech(kokoro.synthesize(text, voice="Zephyr"), min_s=20, max_s=60)


def test_kokoro_says_nothing_for_punctuation_and_rejects_unknown_voices(
    kokoro: KokoroTTS,
) -> None:
    assert kokoro.synthesize("...", voice="Puck").size == 0
    assert kokoro.synthesize("", voice="Puck").size == 0
    with pytest.raises(UnknownVoice):
        kokoro.synthesize(HELLO, voice="Nobody")


def test_dead_air_is_cut_from_the_start_and_only_there() -> None:
    rate = SAMPLE_RATE
    sound = np.cos(np.linspace(0, 200 * np.pi, rate // 10)).astype(np.float32) * 0.5
    lead, tail = np.zeros(rate // 4, np.float32), np.zeros(rate // 2, np.float32)
    audio = np.concatenate([lead, sound, tail])
    trimmed = trim_leading_silence(audio)
    margin = round(LEAD_MARGIN_S * rate)
    assert len(trimmed) == len(audio) - rate // 4 + margin  # the trailing silence is kept
    assert np.array_equal(trimmed[margin:], audio[rate // 4 :])
    silent = np.zeros(rate, np.float32)
    assert trim_leading_silence(silent) is silent
    assert len(trim_leading_silence(sound)) == len(sound)


# Openings that start soft (h, s, th) or on a vowel, in the voices with the longest lead-in.
OPENINGS = ("Have a nice day.", "Hello there.", "So, what's up?", "Thanks for asking.")


@pytest.mark.parametrize("voice", ["Charon", "Zephyr", "Puck"])
def test_kokoro_speaks_at_once_and_keeps_the_first_word(
    kokoro: KokoroTTS, whisper_asr: WhisperASR, voice: str
) -> None:
    for text in OPENINGS:
        pcm = kokoro.synthesize(text, voice=voice)
        first_sound = int(np.flatnonzero(np.abs(pcm) >= SILENCE_LEVEL * 32768)[0])
        assert first_sound / SAMPLE_RATE <= LEAD_MARGIN_S + 0.005, text
        audio = soxr.resample(pcm, SAMPLE_RATE, 16000).astype(np.float32) / 32768
        heard = whisper_asr.transcribe(audio, language="en").text
        assert heard.split()[0].strip(",.!?").lower() == text.split()[0].strip(",").lower()


def test_markdown_is_not_read_aloud(kokoro: KokoroTTS) -> None:
    plain = kokoro.synthesize("Paris is lovely.", voice="Kore")
    assert np.array_equal(kokoro.synthesize("**Paris** is *lovely*.", voice="Kore"), plain)


# -- hibari (fast) ---------------------------------------------------------------------------


def test_fast_mode_speaks_every_name_with_one_voice(fast: FastTTS) -> None:
    assert fast.sample_rate == 24_000
    assert sorted(fast.voices()) == sorted(GEMINI_MALE + GEMINI_FEMALE)
    assert_speech(fast.synthesize(HELLO, voice="Puck"))
    assert_speech(fast.synthesize(HELLO, voice="kore"))
    with pytest.raises(UnknownVoice):
        fast.synthesize(HELLO, voice="Nobody")


# -- registry --------------------------------------------------------------------------------


def test_the_setting_picks_the_engine(assets: SpeechAssets) -> None:
    quality = create_tts_engine(Settings(tts_mode="quality", models_dir=assets.models_dir))
    assert isinstance(quality, KokoroTTS)
    assert isinstance(create_tts_engine(Settings(tts_mode="fast")), FastTTS)
    with pytest.raises(TTSError, match="unknown tts_mode"):
        create_tts_engine(Settings(tts_mode="loud"))


def test_quality_mode_without_models_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(TTSError, match="openlive models install"):
        create_tts_engine(Settings(tts_mode="quality", models_dir=tmp_path))
