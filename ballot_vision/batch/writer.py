"""The results CSV: append-only, crash-safe, resumable.

Each row is formatted in memory and appended with a single ``write`` call on a file opened with
``O_APPEND``, so a run killed at any moment (SIGKILL included) leaves whole rows plus, at worst,
one partial last line if the operating system itself stopped mid-write (power loss, full disk).
Rows are fsync'd every few seconds and at the end, bounding what a power cut can take.

Every row is one physical line: newlines inside values are replaced by spaces. That makes the
file scannable line by line on ``--resume``, where a partial last line (one without its final
newline) is cut off before anything is appended. The file is UTF-8 without a byte-order mark.

File names that are not valid UTF-8 (possible on Linux) are written with each undecodable byte
as ``\\xNN`` (see :func:`csv_text`); the same spelling is used to recognise them on ``--resume``.

The columns are :data:`~ballot_vision.results.ALL_COLUMNS`, then ``duplicate_of`` (the ``file``
of the first photo with identical bytes, whose results the row copies) and ``extras`` (any other
values a result carries, as ``key=value`` pairs separated by ``;``). When resuming, the existing
file's header is kept, whatever version of the program wrote it.
"""

from __future__ import annotations

import csv
import fcntl
import io
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..results import ALL_COLUMNS

log = logging.getLogger(__name__)

DUPLICATE_COLUMN = "duplicate_of"
EXTRAS_COLUMN = "extras"
COLUMNS: tuple[str, ...] = ALL_COLUMNS + (DUPLICATE_COLUMN, EXTRAS_COLUMN)

#: The first columns of any results CSV this program writes: how a resume recognises one.
_SIGNATURE = ("file", "sha256")

#: How often rows are forced to disk. A power cut may lose the rows of the last few seconds;
#: a resume then simply processes those photos again.
FSYNC_INTERVAL_S = 2.0


class ResultsFileError(Exception):
    """The results file cannot be opened, read or written; the message says which and why."""


def csv_text(text: str) -> str:
    """``text`` in a form that can be written as UTF-8, on one line.

    Undecodable bytes of file names (carried by Python as surrogate escapes) become ``\\xNN``;
    carriage returns and newlines become spaces.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # lone surrogates that are not escaped bytes
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if "\n" in text or "\r" in text:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return text


@dataclass
class DoneIndex:
    """What the results file already holds: file names, and where the first row of each content is.

    Only the sha256 digest (32 bytes) and the row's byte offset are kept per content, not the row,
    so the index stays small for a million rows; a duplicate re-reads its original's row from disk.
    """

    names: set[str] = field(default_factory=set)
    first_row_by_sha: dict[bytes, int] = field(default_factory=dict)
    rows: int = 0

    def add(self, name: str, sha256: str, offset: int, *, is_duplicate: bool) -> None:
        self.names.add(name)
        self.rows += 1
        if sha256 and not is_duplicate:
            self.first_row_by_sha.setdefault(_digest(sha256), offset)

    def first_row(self, sha256: str) -> int | None:
        """Byte offset of the first row for this content, or None."""
        return self.first_row_by_sha.get(_digest(sha256)) if sha256 else None


def _digest(sha256: str) -> bytes:
    try:
        return bytes.fromhex(sha256)
    except ValueError:  # not a hash we wrote; still a usable key
        return sha256.encode("utf-8", "surrogateescape")


class ResultsWriter:
    """An open results CSV: append rows, look rows up by offset.

    Use :meth:`create` for a new file and :meth:`resume` to continue one; close it (or use it as
    a context manager) to flush it to disk. Only one process may have the file open for writing:
    a second run on the same file is refused rather than interleaving rows.
    """

    def __init__(self, path: Path, fd: int, columns: Sequence[str], index: DoneIndex) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.index = index
        self._fd = fd
        self._size = os.fstat(fd).st_size
        self._last_sync = time.monotonic()
        self._dirty = False

    @classmethod
    def create(cls, path: str | Path, columns: Sequence[str] = COLUMNS) -> ResultsWriter:
        """Start a new results file (replacing any file at ``path``) and write the header."""
        path = Path(path)
        fd = _open(path, truncate=True)
        writer = cls(path, fd, columns, DoneIndex())
        writer._append(_format(columns))
        writer.sync()
        return writer

    @classmethod
    def resume(cls, path: str | Path, columns: Sequence[str] = COLUMNS) -> ResultsWriter:
        """Continue the results file at ``path`` (creating it if missing or empty).

        A partial last line left by an interrupted run is removed first. ``columns`` is used only
        when the file has no header yet; otherwise the file's own header is kept.
        """
        path = Path(path)
        fd = _open(path, truncate=False)
        try:
            header, index, end = _scan(fd, path)
            size = os.fstat(fd).st_size
            if end < size:
                log.warning("%s: removed a partial last row left by an interrupted run", path.name)
                os.ftruncate(fd, end)
        except BaseException:
            os.close(fd)
            raise
        writer = cls(path, fd, header or columns, index)
        if header is None:
            writer._append(_format(writer.columns))
            writer.sync()
        return writer

    def write(self, row: Mapping[str, str]) -> int:
        """Append one row and return its byte offset. Keys not among the columns go to ``extras``."""
        values = {name: "" for name in self.columns}
        leftovers = []
        for key, value in row.items():
            if key in values:
                values[key] = value
            elif value not in ("", None):
                leftovers.append(f"{key}={value}")
        if leftovers:
            if EXTRAS_COLUMN in values:
                values[EXTRAS_COLUMN] = ";".join(filter(None, [values[EXTRAS_COLUMN], *leftovers]))
            else:
                log.debug("dropping values not in this file's header: %s", leftovers)
        offset = self._size
        self._append(_format(values[name] for name in self.columns))
        self.index.add(values.get("file", ""), values.get("sha256", ""), offset,
                       is_duplicate=bool(values.get(DUPLICATE_COLUMN)))
        if time.monotonic() - self._last_sync >= FSYNC_INTERVAL_S:
            self.sync()
        return offset

    def read_row(self, offset: int) -> dict[str, str]:
        """The row written at byte ``offset`` (as returned by :meth:`write` or found on resume)."""
        chunks = []
        position = offset
        while True:
            chunk = os.pread(self._fd, 65536, position)
            if not chunk:
                break
            end = chunk.find(b"\n")
            if end >= 0:
                chunks.append(chunk[:end + 1])
                break
            chunks.append(chunk)
            position += len(chunk)
        values = _parse(b"".join(chunks))
        return dict(zip(self.columns, values + [""] * (len(self.columns) - len(values))))

    def sync(self) -> None:
        """Force the rows written so far to disk."""
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._fd >= 0:
            try:
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:  # os.write may write less than asked (signals, quotas): finish the row
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            raise ResultsFileError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        self._size += len(data)
        self._dirty = True


def _open(path: Path, *, truncate: bool) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except IsADirectoryError:
        raise ResultsFileError(f"cannot write {path}: it is a folder") from None
    except OSError as exc:
        raise ResultsFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ResultsFileError(f"{path} is being written by another ballot-vision run") from None
    except OSError:
        pass  # some network file systems cannot lock; carry on without
    if truncate:
        os.ftruncate(fd, 0)
    return fd


def _scan(fd: int, path: Path) -> tuple[tuple[str, ...] | None, DoneIndex, int]:
    """Read an existing results file: its header, what it holds, and where its whole lines end."""
    index = DoneIndex()
    header: tuple[str, ...] | None = None
    offset = 0
    with open(os.dup(fd), "rb") as f:
        f.seek(0)
        for line in f:
            if not line.endswith(b"\n"):
                break  # partial last line: everything from `offset` on is cut
            values = _parse(line)
            if header is None:
                if tuple(values[:len(_SIGNATURE)]) != _SIGNATURE:
                    raise ResultsFileError(
                        f"{path} is not a ballot-vision results file (its header does not start with "
                        f"{','.join(_SIGNATURE)}); choose another output file")
                header = tuple(values)
                columns = {name: i for i, name in enumerate(header)}
            elif values:
                get = lambda name: values[columns[name]] if name in columns and columns[name] < len(values) else ""  # noqa: E731
                index.add(get("file"), get("sha256"), offset, is_duplicate=bool(get(DUPLICATE_COLUMN)))
            offset += len(line)
    return header, index, offset


def _format(values) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([csv_text(str(v)) for v in values])
    return buffer.getvalue().encode("utf-8")


def _parse(line: bytes) -> list[str]:
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    return next(csv.reader([text]), [])
