"""A batch run: every photo under a folder through the per-photo function, into one CSV.

The runner knows nothing of vision. It walks the folder, skips what the results file already
holds, hashes each new file so that identical files are read once, hands paths to an executor,
and writes each result as it arrives. Only this (parent) process writes rows and reports
progress; workers just return :class:`~ballot_vision.results.PhotoResult` records.

Identical files: the first one found is read; every later copy gets a row of its own with the
same results, ``ms`` 0 and ``duplicate_of`` naming the first file. Resuming: a file whose name
is already in the CSV is skipped without being opened; a new name whose content (sha256) is
already there becomes such a copy. Nothing is ever written twice for one name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..pipeline import PipelineContext, read_photo, relative_name
from ..results import Decision, PhotoResult
from .executors import Executor, ExecutorError, Failure, make_executor
from .progress import Progress, format_duration
from .walk import walk_photos
from .writer import DUPLICATE_COLUMN, ResultsFileError, ResultsWriter, csv_text

log = logging.getLogger(__name__)

#: The per-photo time limit when none is given: a 12-MP photo takes about a second, so only a
#: photo that hangs the pipeline gets anywhere near it.
DEFAULT_TIMEOUT_S = 120.0


class RunError(Exception):
    """The run could not start or continue; the message says what to do."""


class InputError(RunError):
    """The photo folder is missing or unreadable, or the options contradict each other."""


class OutputExistsError(RunError):
    """The results file exists and neither resuming nor overwriting was asked for."""


class OutputError(RunError):
    """The results file cannot be written or is not a results file."""


class SchedulerError(RunError):
    """The executor cannot run (Dask scheduler unreachable, workers cannot start)."""


@dataclass(frozen=True)
class RunSummary:
    """What a run did.

    Attributes
    ----------
    output_csv : Path
    rows : int
        Rows written by this run (read, copied, or unreadable entries).
    read : int
        Photos that went through the per-photo function.
    duplicates : int
        Rows copied from an identical file's row.
    skipped : int
        Files already in the results file (``--resume``).
    by_decision : dict of str to int
        Rows written by this run, per ``decision``.
    needs_review : int
    errors : int
        Rows with ``decision=error``.
    elapsed_s : float
    executor : str
        Where the work ran, e.g. ``2 local processes``.
    """

    output_csv: Path
    rows: int
    read: int
    duplicates: int
    skipped: int
    by_decision: dict[str, int] = field(default_factory=dict)
    needs_review: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    executor: str = ""

    @property
    def photos_per_s(self) -> float:
        """Photos read per second of wall-clock time, start-up included."""
        return self.read / self.elapsed_s if self.elapsed_s > 0 else 0.0


def format_summary(summary: RunSummary) -> str:
    """A few lines for people: counts by decision, review, errors, speed."""
    decisions = " · ".join(f"{name} {count:,}" for name, count in sorted(summary.by_decision.items(),
                                                                      key=lambda kv: (-kv[1], kv[0])))
    lines = [
        f"{summary.rows:,} rows in {format_duration(summary.elapsed_s)} on {summary.executor} "
        f"({summary.photos_per_s:.1f} photos/s)" + (f": {decisions}" if decisions else ""),
        f"need review: {summary.needs_review:,} · errors: {summary.errors:,} · "
        f"identical copies: {summary.duplicates:,}" + (f" · already done: {summary.skipped:,}" if summary.skipped else ""),
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class _Task:
    """A photo handed to the executor (the key stays here; only the path travels)."""

    path: str
    name: str
    sha256: str


def run(input_dir: str | Path, output_csv: str | Path, *, context: PipelineContext,
        workers: int | None = None, scheduler: str | None = None, resume: bool = False,
        overwrite: bool = False, timeout_s: float | None = DEFAULT_TIMEOUT_S, progress: Progress | None = None,
        read_fn: Callable[..., PhotoResult] = read_photo, executor: Executor | None = None) -> RunSummary:
    """Read every photo under ``input_dir`` into ``output_csv``.

    Parameters
    ----------
    input_dir : str or Path
        Folder of photos, walked recursively (see :mod:`ballot_vision.batch.walk`).
    output_csv : str or Path
        Results file; its folder is created if needed.
    context : PipelineContext
        Passed to ``read_fn`` for every photo.
    workers : int, optional
        Local worker processes; default every CPU; 0 runs in this process (debugging).
    scheduler : str, optional
        Dask scheduler address (``tcp://HOST:8786``); then ``workers`` is ignored.
    resume : bool
        Continue an existing results file, reading only photos not in it yet.
    overwrite : bool
        Replace an existing results file.
    timeout_s : float, optional
        Per-photo wall-clock limit (not enforced when ``workers=0``); None or 0 for none.
    progress : Progress, optional
        Receives progress events; default shows nothing.
    read_fn : callable
        The per-photo function, ``read_fn(path, *, root, context) -> PhotoResult``; a module-level
        function so that worker processes can import it. Tests pass failing fakes here.
    executor : Executor, optional
        Overrides ``workers`` and ``scheduler``; it is not closed by the run.

    Returns
    -------
    RunSummary

    Raises
    ------
    InputError, OutputExistsError, OutputError, SchedulerError
        When the run cannot start or continue. Rows written before are kept.
    """
    progress = progress or Progress()
    root = _check_input(input_dir)
    output = Path(os.path.abspath(output_csv))
    _check_output(output, resume=resume, overwrite=overwrite)
    if context.debug_dir is not None:
        # Created now so that the walk can leave it out if it lies inside the photo folder.
        try:
            Path(context.debug_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the debug folder {context.debug_dir}: {exc.strerror or exc}") from None

    owned = executor is None
    if owned:
        try:
            executor = make_executor(workers=workers, scheduler=scheduler)
        except ExecutorError as exc:
            raise SchedulerError(str(exc)) from None
    try:
        try:
            writer = ResultsWriter.resume(output) if resume else ResultsWriter.create(output)
        except ResultsFileError as exc:
            raise OutputError(str(exc)) from None
        with writer:
            return _Run(root, writer, executor, context, read_fn, timeout_s, progress).execute()
    finally:
        if owned:
            executor.close()


def _check_input(input_dir: str | Path) -> Path:
    root = Path(input_dir)
    if not root.exists():
        raise InputError(f"photo folder not found: {root}")
    if not root.is_dir():
        raise InputError(f"not a folder: {root} (give the folder that holds the photos)")
    try:
        with os.scandir(root):
            pass
    except OSError as exc:
        raise InputError(f"cannot list the photo folder {root}: {exc.strerror}") from None
    return root.resolve()


def _check_output(output: Path, *, resume: bool, overwrite: bool) -> None:
    if resume and overwrite:
        raise InputError("--resume and --overwrite exclude each other: resume to keep the rows, "
                         "overwrite to start again")
    if output.is_dir():
        raise OutputError(f"cannot write {output}: it is a folder; give a file name such as {output / 'results.csv'}")
    if output.exists() and not (resume or overwrite):
        raise OutputExistsError(f"{output} already exists: pass --resume to continue it or "
                                "--overwrite to replace it")


class _Run:
    """The state of one run: what is in flight, what waits for an identical file's result."""

    def __init__(self, root: Path, writer: ResultsWriter, executor: Executor, context: PipelineContext,
                 read_fn: Callable[..., PhotoResult], timeout_s: float | None, progress: Progress) -> None:
        self.root, self.writer, self.executor = root, writer, executor
        self.context, self.read_fn, self.timeout_s, self.progress = context, read_fn, timeout_s, progress
        self.excluded = [writer.path] + ([Path(context.debug_dir)] if context.debug_dir else [])
        self.in_flight: set[str] = set()  # sha256 of photos handed out and not back yet
        self.waiting_copies: dict[str, list[str]] = defaultdict(list)  # sha256 -> names of copies
        self.decisions: Counter[str] = Counter()
        self.rows = self.read = self.duplicates = self.skipped = self.needs_review = 0

    def execute(self) -> RunSummary:
        started = time.monotonic()
        stop_counting = threading.Event()
        counter = threading.Thread(target=self._count_files, args=(stop_counting,), daemon=True,
                                   name="ballot-vision-count")
        self.progress.start()
        counter.start()
        log.info("reading photos under %s on %s", self.root, self.executor.description)
        try:
            outcomes = self.executor.imap_unordered(
                self.read_fn, self._tasks(), common={"root": str(self.root), "context": self.context},
                timeout_s=self.timeout_s)
            for task, outcome in outcomes:
                self._finish(task, outcome)
        except ExecutorError as exc:
            raise SchedulerError(f"{exc}; rows written so far are kept: run again with --resume") from None
        except ResultsFileError as exc:
            raise OutputError(str(exc)) from None
        finally:
            stop_counting.set()
            self.progress.close()
        elapsed = time.monotonic() - started
        return RunSummary(
            output_csv=self.writer.path, rows=self.rows, read=self.read, duplicates=self.duplicates,
            skipped=self.skipped, by_decision=dict(self.decisions), needs_review=self.needs_review,
            errors=self.decisions.get(str(Decision.ERROR), 0), elapsed_s=elapsed,
            executor=self.executor.description,
        )

    def _count_files(self, stop: threading.Event) -> None:
        """Count the files in the background so that the progress bar can show a total."""
        count = 0
        try:
            for _ in walk_photos(self.root, exclude=self.excluded):
                if stop.is_set():
                    return
                count += 1
        except OSError:
            return
        self.progress.set_total(count)

    def _tasks(self) -> Iterator[tuple[_Task, str]]:
        """The photos to read, as ``(task, path)``; writes the rows that need no reading on the way."""
        index = self.writer.index
        for item in walk_photos(self.root, exclude=self.excluded):
            name = csv_text(relative_name(Path(item.path), self.root))
            if name in index.names:
                self.skipped += 1
                self.progress.advance("skipped")
                continue
            if item.problem:
                self._write(PhotoResult(file=name, decision=Decision.ERROR, error=item.problem).to_row(), "copied")
                continue
            sha256 = _file_sha256(item.path)  # hashing is cheap next to decoding; it saves a read
            if sha256:
                first = index.first_row(sha256)
                if first is not None:
                    self._write_copy(name, first)
                    continue
                if sha256 in self.in_flight:
                    self.waiting_copies[sha256].append(name)
                    continue
                self.in_flight.add(sha256)
            yield _Task(item.path, name, sha256), item.path

    def _finish(self, task: _Task, outcome: PhotoResult | Failure) -> None:
        if isinstance(outcome, Failure):
            if outcome.details:
                log.debug("%s: %s\n%s", task.name, outcome.message, outcome.details)
            result = PhotoResult(file=task.name, sha256=task.sha256, decision=Decision.ERROR, error=outcome.message)
        else:
            result = outcome
        row = result.to_row()
        row["file"] = task.name  # the name the index knows, whatever the function put there
        row["sha256"] = row.get("sha256") or task.sha256
        row["error"] = self._scrub(row.get("error", ""))
        offset = self._write(row, "read")
        self.in_flight.discard(task.sha256)
        for name in self.waiting_copies.pop(task.sha256, ()):
            self._write_copy(name, offset)

    def _write_copy(self, name: str, first_offset: int) -> None:
        row = self.writer.read_row(first_offset)
        row.update({"file": name, "ms": "0.0", DUPLICATE_COLUMN: row["file"]})
        self.duplicates += 1
        self._write(row, "copied")

    def _write(self, row: dict[str, str], outcome: str) -> int:
        offset = self.writer.write(row)
        self.rows += 1
        self.read += outcome == "read"
        self.decisions[row.get("decision", "")] += 1
        self.needs_review += row.get("needs_review") == "true"
        self.progress.advance(outcome)
        return offset

    def _scrub(self, text: str) -> str:
        """Error texts may quote paths (an exception's message): keep only the relative part."""
        root = str(self.root)
        return text.replace(root + os.sep, "").replace(root, ".") if root in text else text


def _file_sha256(path: str) -> str:
    """Hex SHA-256 of the file, or "" when it cannot be read (the worker reports why)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()
