"""Stand-ins for ``pipeline.read_photo`` that misbehave on purpose, as OCRmyPDF's tests fake Tesseract.

They live in a plain module (not a test file) so that worker processes can import them by name:
the pool and Dask pickle functions by reference. The name of the photo says what to do.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ballot_vision.pipeline import read_photo
from ballot_vision.results import PhotoResult


def misbehaving_read(path: str, *, root: str, context) -> PhotoResult:
    """Crash, hang or raise on photos named for it; read the others normally."""
    name = Path(path).name
    if name.startswith("crash-exit"):
        os._exit(3)  # dies without cleaning up, as a worker killed by the OOM killer or a bad C call
    if name.startswith("crash-segv"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if name.startswith("hang"):
        time.sleep(3600)
    if name.startswith("raise"):
        raise RuntimeError(f"cannot handle {path}")  # the message quotes the absolute path
    return read_photo(path, root=root, context=context)


def slow_read(path: str, *, root: str, context) -> PhotoResult:
    """``read_photo`` slowed down, so that a test can kill a run part-way through."""
    time.sleep(0.25)
    return read_photo(path, root=root, context=context)
