"""``openlive talk``: a voice conversation with live transcripts.

With the microphone and speakers it runs until Ctrl-C (or ``--seconds``). With ``--input`` a WAV
file is spoken into the session in real time, and the talk ends after the first complete reply;
``--output`` records the reply audio instead of playing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import wave
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .audio import AudioInput, AudioOutput, WavFileInput, WavFileOutput
from .devices import Device, Microphone, Speaker
from .errors import LiveError
from .model import LiveModel
from .terminal import TranscriptPrinter, explain
from .types import Content, Interrupted, LiveMessage, TurnComplete


@dataclass
class TalkOptions:
    input_file: Path | None = None
    output_file: Path | None = None
    seconds: float | None = None
    input_device: Device = None
    output_device: Device = None


class _ReplyWatcher:
    """Notices the end of the first reply that was heard to its end."""

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self._audio = False
        self._interrupted = False

    def see(self, message: LiveMessage) -> None:
        match message:
            case Content() if message.audio:
                self._audio = True
            case Interrupted():
                self._interrupted = True
            case TurnComplete():
                if self._audio and not self._interrupted:
                    self.done.set()
                self._audio = self._interrupted = False


async def run_talk(model: LiveModel, options: TalkOptions) -> int:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        input_device, output_device = _open_devices(options)
    except (LiveError, OSError, wave.Error, EOFError) as error:
        message = explain(error) if isinstance(error, LiveError) else str(error)
        console.print(f"[red]error:[/] {escape(message)}")
        return 1

    printer, watcher = TranscriptPrinter(), _ReplyWatcher()

    def on_message(message: LiveMessage) -> None:
        printer.show(message)
        watcher.see(message)

    try:
        async with model.connect() as session:
            conversation = await session.start_audio_conversation(
                input_device=input_device, output_device=output_device, on_message=on_message
            )
            hint = "the first reply" if options.input_file else "Ctrl-C"
            console.print(f"[dim]talking to {escape(model.url)} — until {hint}[/]")
            waits = [asyncio.ensure_future(conversation.wait())]
            if options.input_file is not None:
                waits.append(asyncio.ensure_future(watcher.done.wait()))
            if options.seconds is not None:
                waits.append(asyncio.ensure_future(asyncio.sleep(options.seconds)))
            try:
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
                await session.stop_audio_conversation()
            for finished in done:
                finished.result()  # a conversation that failed raises here
    except LiveError as error:
        console.print(f"[red]error:[/] {escape(explain(error, wants_audio=True))}")
        return 1
    finally:
        with contextlib.suppress(Exception):
            input_device.close()
            output_device.close()
    if isinstance(output_device, WavFileOutput):
        console.print(
            f"[dim]reply audio: {output_device.path} ({output_device.played_seconds:.1f} s)[/]"
        )
    return 0


def _open_devices(options: TalkOptions) -> tuple[AudioInput, AudioOutput]:
    """Devices before the session: a missing microphone should not cost a server session."""
    input_device: AudioInput = (
        WavFileInput(options.input_file)
        if options.input_file is not None
        else Microphone(options.input_device)
    )
    try:
        output_device: AudioOutput = (
            WavFileOutput(options.output_file)
            if options.output_file is not None
            else Speaker(options.output_device)
        )
    except BaseException:
        input_device.close()
        raise
    return input_device, output_device
