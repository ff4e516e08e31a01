"""Rich progress bars on stderr for the long parts of an evaluation (silent when asked for JSON)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)


class Bars:
    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress

    @contextmanager
    def task(self, label: str, total: int | None) -> Iterator[Callable[..., None]]:
        """Yield a callable ``advance(completed=None)``; the bar disappears when the block ends."""
        if self._progress is None:
            yield lambda *args, **kwargs: None
            return
        task = self._progress.add_task(label, total=total)

        def advance(completed: int | None = None, total: int | None = None) -> None:
            if completed is None:
                self._progress.advance(task)
            else:
                self._progress.update(task, completed=completed, total=total)

        try:
            yield advance
        finally:
            self._progress.remove_task(task)


@contextmanager
def bars(enabled: bool = True) -> Iterator[Bars]:
    if not enabled or not err.is_terminal:
        yield Bars(None)
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        yield Bars(progress)
