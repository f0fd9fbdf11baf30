"""Progress reporting for a run: a rich bar on a terminal, periodic log lines otherwise.

The runner only calls the :class:`Progress` methods; which display is used is the caller's
choice (the CLI picks by whether stderr is a terminal). :class:`Progress` itself shows nothing,
which is what the API and ``--quiet`` use.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal

log = logging.getLogger("ballot_vision.progress")

#: ``read``: a photo went through the pipeline; ``copied``: a row written without reading (a
#: duplicate given its original's result, or an entry that is not a readable file); ``skipped``:
#: already in the results file (``--resume``). Only ``read`` counts in the rate.
Outcome = Literal["read", "copied", "skipped"]


class Progress:
    """Receives a run's progress; this base class shows nothing."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self.read = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()  # set_total comes from the file-counting thread

    def start(self) -> None:
        self._started = time.monotonic()

    def set_total(self, total: int) -> None:
        """The number of files found (known once the background count finishes)."""
        with self._lock:
            self.total = total
        self._refresh()

    def advance(self, outcome: Outcome) -> None:
        with self._lock:
            self.done += 1
            if outcome == "read":
                self.read += 1
        self._refresh()

    def close(self) -> None:
        """The run is over (finished or not)."""

    @property
    def rate(self) -> float:
        """Photos read per second since the start."""
        elapsed = time.monotonic() - self._started
        return self.read / elapsed if elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(0, self.total - self.done) / self.rate

    def _refresh(self) -> None:
        pass


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class LogProgress(Progress):
    """A plain log line every ``interval_s`` seconds (for logs, CI, ``nohup``)."""

    def __init__(self, interval_s: float = 30.0) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last = time.monotonic()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._last < self.interval_s:
            return
        self._last = now
        of_total = f" of {self.total:,} ({100 * self.done / max(1, self.total):.0f} %)" if self.total else ""
        left = self.seconds_left
        left_text = f", about {format_duration(left)} left" if left is not None else ""
        log.info("%s photos%s, %.1f photos/s%s", f"{self.done:,}", of_total, self.rate, left_text)


class RichProgress(Progress):
    """A live bar with counts, rate and time left, on a rich console (stderr)."""

    def __init__(self, console=None) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichBar

        self.console = console or Console(stderr=True)
        self._bar = RichBar(
            TextColumn("[bold]photos"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(), TextColumn("{task.fields[left]}"),
            console=self.console, transient=False, refresh_per_second=4,
        )
        self._task = self._bar.add_task("photos", total=None, rate="", left="")

    def start(self) -> None:
        super().start()
        self._bar.start()

    def _refresh(self) -> None:
        left = self.seconds_left
        self._bar.update(self._task, completed=self.done, total=self.total, rate=f"{self.rate:.1f}/s",
                         left=f"{format_duration(left)} left" if left is not None else "")

    def close(self) -> None:
        self._refresh()
        self._bar.stop()
