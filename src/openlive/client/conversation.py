"""A voice conversation: microphone → session → speaker, with barge-in and tool calls.

Two tasks run while it lasts. One streams the input device to the server in real time (then
``audioStreamEnd`` if the input runs out). The other reads the session: audio goes to the output
device, ``Interrupted`` flushes it (the user talked over the reply, so the rest must not play),
``ToolCall`` runs the handler and sends its results back as ``toolResponse``, and every event is
passed to ``on_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .audio import AudioInput, AudioOutput
from .errors import LiveConnectionClosed
from .types import (
    Content,
    FunctionCall,
    FunctionResponse,
    Interrupted,
    LiveMessage,
    ToolCall,
    ToolCallCancellation,
)

if TYPE_CHECKING:
    from .session import LiveSession

log = logging.getLogger("openlive.client")

FunctionCallHandler = Callable[[FunctionCall], Any]
"""``handler(call) -> dict`` (or an awaitable of one). Sync handlers run in a worker thread."""
MessageHandler = Callable[[LiveMessage], Awaitable[None] | None]


class AudioConversation:
    def __init__(
        self,
        session: LiveSession,
        input_device: AudioInput,
        output_device: AudioOutput,
        function_call_handler: FunctionCallHandler | None = None,
        on_message: MessageHandler | None = None,
    ) -> None:
        self.session = session
        self.input = input_device
        self.output = output_device
        self.function_call_handler = function_call_handler
        self.on_message = on_message
        self._tasks: list[asyncio.Task[None]] = []
        self._calls: dict[str, asyncio.Task[None]] = {}
        self._finished = asyncio.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._guard(self._stream_input()), name="audio-input"),
            asyncio.create_task(self._guard(self._play_output(), last=True), name="audio-output"),
        ]

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    async def wait(self) -> None:
        """Until the session ends or fails (the failure is raised here)."""
        await self._finished.wait()
        if self._error is not None:
            raise self._error

    async def stop(self) -> None:
        """Stop both directions and close the devices; the session stays open."""
        current = asyncio.current_task()
        tasks = [t for t in [*self._tasks, *self._calls.values()] if t is not current]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.input.close()
        self.output.close()
        self._finished.set()

    async def _guard(self, work: Awaitable[None], last: bool = False) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except LiveConnectionClosed as error:
            self._fail(error)
        except Exception as error:
            log.exception("audio conversation failed")
            self._fail(error)
        else:
            if last:
                self._finished.set()

    def _fail(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        self._finished.set()

    async def _stream_input(self) -> None:
        async for chunk in self.input:
            await self.session.send_audio_realtime(chunk, rate=self.input.sample_rate)
        await self.session.send_audio_stream_end()

    async def _play_output(self) -> None:
        while (message := await self.session._next()) is not None:
            match message:
                case Content():
                    if audio := message.audio:
                        self.output.write(audio)
                case Interrupted():
                    self.output.flush()
                case ToolCall():
                    for call in message.calls:
                        self._start_call(call)
                case ToolCallCancellation():
                    for call_id in message.ids:
                        if task := self._calls.pop(call_id, None):
                            task.cancel()
            if self.on_message is not None:
                result = self.on_message(message)
                if inspect.isawaitable(result):
                    await result

    def _start_call(self, call: FunctionCall) -> None:
        if self.function_call_handler is None:
            log.warning("tool call %s(%s) but no function_call_handler", call.name, call.id)
            return
        task = asyncio.create_task(self._answer(call), name=f"tool-{call.name}")
        self._calls[call.id] = task
        task.add_done_callback(lambda _: self._calls.pop(call.id, None))

    async def _answer(self, call: FunctionCall) -> None:
        response = await run_handler(self.function_call_handler, call)
        await self.session.send_function_responses([FunctionResponse(call.id, call.name, response)])


async def run_handler(handler: FunctionCallHandler | None, call: FunctionCall) -> dict[str, Any]:
    """The handler's result as a response object; a failure is reported to the model."""
    assert handler is not None
    try:
        if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004 (async callable objects)
        ):
            result = await handler(call)
        else:
            result = await asyncio.to_thread(handler, call)
            if inspect.isawaitable(result):
                result = await result
    except Exception as error:
        log.exception("function %s failed", call.name)
        return {"error": f"{type(error).__name__}: {error}"}
    if result is None:
        return {}
    return result if isinstance(result, dict) else {"result": result}
