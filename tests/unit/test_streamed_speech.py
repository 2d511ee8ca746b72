"""Speaking a reply through a streaming (remote) TTS: each chunk goes out as it arrives, in
≤ 200 ms messages, the transcript first; a stream that fails before any audio hands the clause
and the rest of the reply to the fast voice."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import numpy as np

from openlive.protocol.server_messages import ServerMessage
from openlive.session.speech_out import CHUNK_SAMPLES

from .session_fakes import WordTTS, model_pieces, speech_output


class StreamingWords:
    """Streams each word's half second as three uneven chunks; ``fail`` raises at once."""

    sample_rate = 24_000
    description = "streamed words"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.streamed: list[str] = []

    def load(self) -> None:
        pass

    def voices(self) -> list[str]:
        return ["Puck"]

    def synthesize(self, text: str, *, voice: str, language: str | None = None) -> np.ndarray:
        raise AssertionError("a streaming engine is streamed, not called whole")

    async def stream(
        self, text: str, *, voice: str, language: str | None = None
    ) -> AsyncIterator[np.ndarray]:
        if self.fail:
            raise RuntimeError("server down")
        self.streamed.append(text)
        for _ in text.split():
            for size in (1000, 7000, 4000):
                yield np.full(size, 7, dtype=np.int16)


def audio_sizes(sent: list[ServerMessage]) -> list[int]:
    sizes = []
    for message in sent:
        content = message.server_content
        if content is not None and content.model_turn is not None:
            [part] = content.model_turn.parts
            assert part.inline_data is not None
            sizes.append(len(base64.b64decode(part.inline_data.data)))
    return sizes


async def test_streamed_chunks_go_out_as_they_come_in_short_messages() -> None:
    sent: list[ServerMessage] = []
    tts = StreamingWords()
    output = speech_output(tts, WordTTS(), sent=sent, transcribe=True)
    await output.deliver(model_pieces("Hello there my friend. ", "How are you today?"))

    assert tts.streamed == ["Hello there my friend.", "How are you today?"]
    assert output.spoken_text() == "Hello there my friend. How are you today?"
    # The transcript of a clause comes before its audio.
    assert sent[0].server_content.output_transcription.text == "Hello there my friend. "
    sizes = audio_sizes(sent)
    assert max(sizes) <= CHUNK_SAMPLES * 2  # a 7000-sample chunk is split to ≤ 200 ms
    assert sum(sizes) == 8 * 12_000 * 2  # every sample the server sent, once
    assert [clause.samples for clause in output.clauses] == [4 * 12_000, 4 * 12_000]
    assert not output.fell_back


async def test_a_stream_that_fails_before_audio_falls_back_to_the_fast_voice() -> None:
    sent: list[ServerMessage] = []
    fast = WordTTS()
    output = speech_output(StreamingWords(fail=True), fast, sent=sent, transcribe=True)
    await output.deliver(model_pieces("Hello there my friend. ", "How are you today?"))

    assert output.fell_back
    assert fast.spoken == ["Hello there my friend.", "How are you today?"]
    assert sum(audio_sizes(sent)) > 0
