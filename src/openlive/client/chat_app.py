"""``openlive chat``: a text conversation in the terminal, or one turn per line of piped stdin.

Piped, each reply is one line of stdout, whatever line breaks the model writes (a list, a
poem), so that a script reads one reply per line it sent."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from .errors import LiveError
from .model import LiveModel
from .terminal import StdinLines, explain
from .types import Content

QUIT_COMMANDS = {"/quit", "/exit", "/q"}


class OneLine:
    """Writes a streamed reply on one line: each line break, with the spaces after it, becomes
    one space between words; none leads the reply."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._started = False
        self._broken = False  # a line break was seen and not yet replaced

    def write(self, text: str) -> None:
        for index, part in enumerate(text.split("\n")):
            if index:
                self._broken = True
            if self._broken:
                part = part.lstrip()
                if not part:
                    continue
                if self._started:
                    self._out.write(" ")
                self._broken = False
            if part:
                self._out.write(part)
                self._started = True


async def run_chat(model: LiveModel, *, interactive: bool, out: TextIO | None = None) -> int:
    """Chat until ``/quit`` or the end of stdin; the exit status."""
    out = out or sys.stdout
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    lines = StdinLines()
    try:
        async with model.connect() as session:
            if interactive:
                console.print(
                    f"[dim]connected to {escape(model.url)} ({escape(model.model)}); "
                    "/quit or Ctrl-D to leave[/]"
                )
            while True:
                if interactive:
                    console.print("[bold cyan]you>[/] ", end="")
                line = await lines.next()
                if line is None or line.strip() in QUIT_COMMANDS:
                    break
                if not line.strip():
                    continue
                if interactive:
                    console.print("[bold green]model>[/] ", end="")
                await session.send(line)
                reply: TextIO | OneLine = out if interactive else OneLine(out)
                async for message in session.receive_turn():
                    if isinstance(message, Content) and message.text:
                        reply.write(message.text)
                        out.flush()
                out.write("\n")
                out.flush()
    except LiveError as error:
        console.print(f"[red]error:[/] {escape(explain(error))}")
        return 1
    return 0
