"""A blocking face over the async client, for scripts and notebooks.

    with LiveModel(response_modalities=["TEXT"]).connect_sync() as session:
        session.send("Hello!")
        for message in session.receive_turn():
            print(message)

The async session runs on an event loop in a background thread; each call waits for its result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .types import INPUT_RATE, Blob, FunctionResponse, LiveMessage

if TYPE_CHECKING:
    from .audio import AudioInput, AudioOutput
    from .conversation import FunctionCallHandler, MessageHandler
    from .model import LiveModel
    from .session import LiveSession
    from .wire import ContentLike

T = TypeVar("T")


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="openlive", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        try:
            while True:
                try:
                    yield self.run(iterator.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            if not self.loop.is_closed():
                self.run(iterator.aclose())  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class SyncLiveSession:
    def __init__(self, model: LiveModel) -> None:
        self._thread = _LoopThread()
        try:
            self._session: LiveSession = self._thread.run(_open(model))
        except BaseException:
            self._thread.stop()
            raise

    @property
    def session_id(self) -> str | None:
        return self._session.session_id

    def __enter__(self) -> SyncLiveSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(
        self, content: ContentLike | Iterable[ContentLike], turn_complete: bool = True
    ) -> None:
        self._thread.run(self._session.send(content, turn_complete))

    def send_text_realtime(self, text: str) -> None:
        self._thread.run(self._session.send_text_realtime(text))

    def send_audio_realtime(self, audio: bytes | Blob, rate: int = INPUT_RATE) -> None:
        self._thread.run(self._session.send_audio_realtime(audio, rate))

    def send_video_realtime(self, image: bytes | Blob, mime_type: str = "image/jpeg") -> None:
        self._thread.run(self._session.send_video_realtime(image, mime_type))

    def send_function_responses(
        self, responses: Iterable[FunctionResponse | Mapping[str, Any]]
    ) -> None:
        self._thread.run(self._session.send_function_responses(responses))

    def receive(self) -> Iterator[LiveMessage]:
        return self._thread.iterate(self._session.receive())

    def receive_turn(self) -> Iterator[LiveMessage]:
        return self._thread.iterate(self._session.receive_turn())

    def start_audio_conversation(
        self,
        function_call_handler: FunctionCallHandler | None = None,
        input_device: AudioInput | None = None,
        output_device: AudioOutput | None = None,
        on_message: MessageHandler | None = None,
    ) -> None:
        """As on ``LiveSession``; the callbacks run on the client's background thread."""
        self._thread.run(
            self._session.start_audio_conversation(
                function_call_handler, input_device, output_device, on_message
            )
        )

    def stop_audio_conversation(self) -> None:
        self._thread.run(self._session.stop_audio_conversation())

    def close(self) -> None:
        if not self._thread.loop.is_closed():
            try:
                self._thread.run(self._session.close())
            finally:
                self._thread.stop()


async def _open(model: LiveModel) -> LiveSession:
    return await model.connect()
