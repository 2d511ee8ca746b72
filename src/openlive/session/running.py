"""A reply in progress: its output (chosen once, for the whole reply), its way to the wire (every
message tagged with the reply's generation, and counted as progress), its watchdog and its task.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from typing import Any

from ..engines.llm.slots import queue_progress
from ..protocol.server_messages import ServerMessage
from .clock import Clock
from .config import SessionConfig
from .outbox import Outbox, Outgoing
from .output import reply_output
from .reply import Reply
from .services import SessionServices
from .watchdog import Watchdog


class RunningReply:
    def __init__(
        self,
        reply: Reply,
        outbox: Outbox,
        config: SessionConfig,
        services: SessionServices,
        clock: Clock,
        *,
        generating: Callable[[], bool],
        on_stall: Callable[[], None],
        prefetched: dict[str, Any] | None = None,
    ) -> None:
        self.reply = reply
        self._outbox = outbox
        self.watchdog = Watchdog(
            clock, services.turn_stall_s, counting=generating, on_stall=on_stall
        )
        self.output = reply_output(config, services.speech, self.emit, clock, prefetched)
        self.task: asyncio.Task[None] | None = None

    def emit(self, message: ServerMessage) -> Outgoing:
        self.watchdog.progress()
        return self._outbox.put(message, self.reply.generation)

    def start(self, run: Callable[[RunningReply], Coroutine[Any, Any, None]]) -> None:
        # Waiting behind other sessions for an LLM slot is progress while the runtime produces
        # (engines/llm/slots.py); the reply's tasks inherit this context, wherever they call
        # the LLM from.
        context = contextvars.copy_context()
        context.run(queue_progress.set, self.watchdog.progress)
        self.task = asyncio.create_task(
            run(self), name=f"reply-{self.reply.generation}", context=context
        )
        self.watchdog.start()

    def stop(self, *, cancel: bool) -> asyncio.Task[None] | None:
        """Stop watching; with ``cancel``, cut the task off too (unless this is the task) and
        return it, to be awaited by whoever needs it gone."""
        self.watchdog.stop()
        task = self.task
        if not cancel or task is None or task is asyncio.current_task():
            return None
        task.cancel()
        return task
