"""The per-session ring of turn timings behind the demo page's waterfall."""

from __future__ import annotations

from openlive.session.trace import TurnTrace
from openlive.session.turn_timings import CLOSED_SESSIONS_KEPT, TURNS_KEPT, TurnTimings


def spoken_trace(start: float) -> TurnTrace:
    return TurnTrace(
        speech_end=start,
        turn_end=start + 0.3,
        transcript_ready=start + 0.4,
        reply_start=start + 0.41,
        first_token=start + 0.6,
        first_audio=start + 0.7,
    )


def test_a_spoken_turn_is_kept_as_stages_and_offsets_from_the_end_of_speech() -> None:
    book = TurnTimings()
    book.open("s1", "key")
    book.add("s1", spoken_trace(100.0), modality="AUDIO", outcome="playback_done")
    [turn] = book.read("s1", "key") or []
    assert turn["turn"] == 1 and turn["origin"] == "speechEnd"
    assert turn["offsetsMs"] == {
        "speechEnd": 0.0,
        "turnEnd": 300.0,
        "transcriptReady": 400.0,
        "replyStart": 410.0,
        "firstToken": 600.0,
        "firstAudio": 700.0,
    }
    assert turn["stagesMs"]["voice_to_voice"] == 700.0


def test_only_the_opening_credential_reads_and_the_ring_is_bounded() -> None:
    book = TurnTimings()
    book.open("s1", "key-a")
    for index in range(TURNS_KEPT + 5):
        book.add("s1", spoken_trace(float(index)), modality="AUDIO", outcome="playback_done")
    book.add("s1", TurnTrace(), modality="AUDIO", outcome="interrupted")  # nothing measured
    turns = book.read("s1", "key-a") or []
    assert [turn["turn"] for turn in turns] == list(range(6, TURNS_KEPT + 6))
    assert book.read("s1", "key-b") is None
    assert book.read("s1", "") is None
    assert book.read("unknown", "key-a") is None


def test_closed_sessions_are_kept_a_while_then_forgotten() -> None:
    book = TurnTimings()
    for index in range(CLOSED_SESSIONS_KEPT + 1):
        book.open(f"s{index}", "")
        book.add(f"s{index}", spoken_trace(0.0), modality="AUDIO", outcome="playback_done")
        book.close(f"s{index}")
    assert book.read("s0", "") is None
    assert len(book.read(f"s{CLOSED_SESSIONS_KEPT}", "") or []) == 1
    book.add("s1", spoken_trace(0.0), modality="AUDIO", outcome="playback_done")  # closed: dropped
    assert len(book.read("s1", "") or []) == 1


def test_a_resumed_session_keeps_its_turns_for_its_new_credential() -> None:
    book = TurnTimings()
    book.open("s1", "old")
    book.add("s1", spoken_trace(0.0), modality="AUDIO", outcome="playback_done")
    book.open("s1", "new")  # resumed on a new socket before the old one closed
    book.close("s1")  # the old socket goes
    book.add("s1", spoken_trace(1.0), modality="AUDIO", outcome="playback_done")
    assert [turn["turn"] for turn in book.read("s1", "new") or []] == [1, 2]
    assert book.read("s1", "old") is None
