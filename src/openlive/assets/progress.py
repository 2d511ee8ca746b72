"""Progress display for the installer: one rich bar per step, or nothing at all.

Steps only see :class:`StepProgress`, so they run the same whether a terminal is watching or a
test calls the installer with ``progress=False``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class StepProgress(Protocol):
    def set_total(self, total: int | None) -> None:
        """Bytes this step will process; None shows a spinner (e.g. while npm runs)."""

    def advance(self, amount: int) -> None: ...

    def note(self, text: str) -> None:
        """A short status shown beside the bar (``npm pack``, ``checking``)."""


class Reporter(Protocol):
    def step(self, title: str) -> StepProgress: ...

    def finish(self, title: str, outcome: str, ok: bool) -> None: ...


class _Silent:
    def set_total(self, total: int | None) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def note(self, text: str) -> None:
        pass


class SilentReporter:
    def step(self, title: str) -> StepProgress:
        return _Silent()

    def finish(self, title: str, outcome: str, ok: bool) -> None:
        pass


class _RichStep:
    def __init__(self, progress: Progress, task: TaskID, title: str) -> None:
        self._progress, self._task, self._title = progress, task, title

    def set_total(self, total: int | None) -> None:
        self._progress.update(self._task, total=total, completed=0)

    def advance(self, amount: int) -> None:
        self._progress.advance(self._task, amount)

    def note(self, text: str) -> None:
        self._progress.update(self._task, description=f"{self._title} [dim]{text}")


class _SizeColumn(DownloadColumn):
    """Bytes done/total, blank for a step that failed (its total means nothing then)."""

    def render(self, task: Task) -> Text:
        return Text("") if task.fields.get("failed") else super().render(task)


class _MarkColumn(SpinnerColumn):
    """A spinner while a step runs; its outcome mark once it has ended."""

    def render(self, task: Task) -> RenderableType:
        mark = task.fields.get("mark")
        return Text.from_markup(mark) if mark else super().render(task)


class RichReporter:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def step(self, title: str) -> StepProgress:
        task = self._progress.add_task(title, total=None)
        self._tasks[title] = task
        return _RichStep(self._progress, task, title)

    def finish(self, title: str, outcome: str, ok: bool) -> None:
        task = self._tasks.get(title)
        if task is None:
            task = self._tasks[title] = self._progress.add_task(title, total=1)
        total = self._progress.tasks[task].total or 1
        self._progress.update(
            task,
            description=f"{title} [dim]{outcome}",
            total=total,
            completed=total if ok else 0,
            mark="[green]✓" if ok else "[red]✗",
            failed=not ok,
        )
        self._progress.stop_task(task)


@contextmanager
def reporter(enabled: bool, console: Console | None = None) -> Iterator[Reporter]:
    if not enabled:
        yield SilentReporter()
        return
    with Progress(
        _MarkColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        _SizeColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=False,
    ) as progress:
        yield RichReporter(progress)
