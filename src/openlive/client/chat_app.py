"""``openlive chat``: a text conversation in the terminal, or one turn per line of piped stdin."""

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
                async for message in session.receive_turn():
                    if isinstance(message, Content) and message.text:
                        out.write(message.text)
                        out.flush()
                out.write("\n")
                out.flush()
    except LiveError as error:
        console.print(f"[red]error:[/] {escape(explain(error))}")
        return 1
    return 0
