"""Run one function over a stream of inputs: in this process, on local processes, or on Dask.

All three executors have one shape, :meth:`Executor.imap_unordered`: they pull ``(key, arg)``
pairs from an iterator only as fast as they can work on them (so a million inputs never sit in
memory), call ``fn(arg, **common)`` where the work happens, and yield ``(key, outcome)`` as each
finishes, in completion order. The outcome is what ``fn`` returned, or a :class:`Failure` when it
raised, its worker process died, or it ran past the timeout. Keys stay in the caller's process;
only ``arg`` travels. ``common`` (e.g. the pipeline context) is sent to each worker once.

- :class:`SerialExecutor`: in the calling process, one at a time, no timeout. For tests and
  debugging (a breakpoint in the pipeline works).
- :class:`ProcessPool`: our own pool of worker processes, one pipe each. A worker that crashes
  (segfault, ``os._exit``) or hangs past the timeout is killed and replaced, and only the input it
  held fails; the pool goes on. (``concurrent.futures.ProcessPoolExecutor`` instead breaks as a
  whole when one worker dies, and cannot stop a hung task.)
- :class:`DaskExecutor`: a ``dask.distributed`` cluster; a bounded window of futures.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Literal

log = logging.getLogger(__name__)

#: How long a new worker process may take to import everything and say it is ready.
STARTUP_TIMEOUT_S = 120.0
#: How long to try reaching a Dask scheduler before reporting it unreachable.
CONNECT_TIMEOUT_S = 10.0
#: Consecutive workers dying before they are ready after which the pool gives up (a broken
#: installation would otherwise respawn workers forever).
MAX_STARTUP_FAILURES = 3


@dataclass(frozen=True)
class Failure:
    """Why an input has no result.

    Attributes
    ----------
    kind : {"exception", "crash", "timeout"}
        ``fn`` raised; the worker process died while on this input; or it ran too long.
    message : str
        One line for the results file.
    details : str
        The traceback, if any (for ``--verbose`` logs, never for the results file).
    """

    kind: Literal["exception", "crash", "timeout"]
    message: str
    details: str = ""


class ExecutorError(Exception):
    """The executor cannot run at all (scheduler unreachable, workers cannot start)."""


class Executor(ABC):
    """Runs ``fn(arg, **common)`` for a stream of ``(key, arg)`` pairs; see the module docstring."""

    #: Short description for logs and summaries, e.g. ``"2 local processes"``.
    description: str = ""

    @abstractmethod
    def imap_unordered(self, fn: Callable[..., Any], items: Iterable[tuple[Any, Any]], *,
                       common: Mapping[str, Any], timeout_s: float | None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(key, outcome)`` for every item, as each finishes.

        Parameters
        ----------
        fn : callable
            Module-level function (it is pickled by reference for other processes).
        items : iterable of (key, arg)
            Pulled lazily, a few more than there are workers at a time.
        common : mapping
            Keyword arguments for every call, sent to each worker once.
        timeout_s : float or None
            Wall-clock limit per call; None or 0 for none.
        """

    def close(self) -> None:
        """Release workers and connections."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def call_safely(fn: Callable[..., Any], arg: Any, common: Mapping[str, Any]) -> Any:
    """``fn(arg, **common)``, with an exception turned into a :class:`Failure`."""
    try:
        return fn(arg, **common)
    except Exception as exc:  # noqa: BLE001 - any bug in one photo must not stop the batch
        return Failure("exception", _describe(exc), traceback.format_exc())


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SerialExecutor(Executor):
    """Everything in the calling process, in order. ``timeout_s`` is not enforced."""

    description = "in-process (serial)"

    def imap_unordered(self, fn, items, *, common, timeout_s):
        for key, arg in items:
            yield key, call_safely(fn, arg, common)


# --- local process pool -------------------------------------------------------------------------

_STOP = None


def _worker_main(conn: Connection, fn: Callable[..., Any], common: Mapping[str, Any]) -> None:
    """A pool worker: receive an arg, send back ``("ok", value)``, until told to stop."""
    # Ctrl-C goes to the whole process group; the parent decides what happens, not each worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    one_core_per_worker()
    conn.send(("ready", None))
    while True:
        try:
            arg = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if arg is _STOP:
            return
        outcome = call_safely(fn, arg, common)
        try:
            conn.send(("ok", outcome))
        except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
            conn.send(("ok", Failure("exception", f"result cannot be sent back: {_describe(exc)}")))


def one_core_per_worker() -> None:
    """Keep each worker on one core: parallelism comes from running one worker per core.

    OpenCV would otherwise start a thread per core in every worker, and Tesseract (an OpenMP
    program) as many again, so N workers would run N² busy threads on N cores. OCRmyPDF sets
    the same limit for the same reason.
    """
    os.environ["OMP_THREAD_LIMIT"] = "1"  # read by each Tesseract process started from here
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the parent dies, so a SIGKILLed run leaves no orphans."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)


class _Slot:
    """One worker process and the input it is working on."""

    def __init__(self) -> None:
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        self.ready = False
        self.born = 0.0
        self.item: tuple[Any, Any] | None = None
        self.deadline: float | None = None  # set once the worker is ready and has the item


class ProcessPool(Executor):
    """A pool of ``workers`` processes that survives workers crashing or hanging.

    Parameters
    ----------
    workers : int
        Number of worker processes (≥ 1).
    start_method : str
        ``spawn`` (default): a fresh interpreter per worker. ``fork`` is unsafe here because the
        parent runs threads (progress display, file counting) while workers are replaced.
    """

    def __init__(self, workers: int, *, start_method: str = "spawn") -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.description = f"{workers} local process{'es' if workers > 1 else ''}"
        self._context = multiprocessing.get_context(start_method)
        self._slots: list[_Slot] = []
        self._startup_failures = 0
        self._fn: Callable[..., Any] | None = None
        self._common: Mapping[str, Any] = {}

    def imap_unordered(self, fn, items, *, common, timeout_s):
        source = iter(items)
        queue: deque[tuple[Any, Any]] = deque()  # pulled ahead so a freed worker never waits
        exhausted = False
        self._fn, self._common = fn, common
        self._slots = [_Slot() for _ in range(self.workers)]
        try:
            for slot in self._slots:
                self._start(slot)
            while True:
                # Keep every worker busy and a few inputs ready; stop pulling when all are busy.
                while not exhausted and len(queue) < self.workers:
                    try:
                        queue.append(next(source))
                    except StopIteration:
                        exhausted = True
                for slot in self._slots:
                    if slot.item is None and queue:
                        self._assign(slot, queue.popleft(), timeout_s)
                busy = [slot for slot in self._slots if slot.item is not None]
                if not busy:
                    if exhausted and not queue:
                        return
                    continue
                yield from self._collect(busy, queue, timeout_s)
        finally:
            self._shutdown()

    def _collect(self, busy: list[_Slot], queue: deque, timeout_s: float | None):
        """Wait for the first worker event and yield the outcomes it produced."""
        now = time.monotonic()
        deadlines = [s.deadline for s in busy if s.deadline is not None]
        deadlines += [s.born + STARTUP_TIMEOUT_S for s in busy if not s.ready]
        wait_s = max(0.0, min(deadlines) - now) if deadlines else None
        ready = set(wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=wait_s))
        now = time.monotonic()
        for slot in busy:
            if slot.conn in ready:
                try:
                    kind, value = slot.conn.recv()
                except (EOFError, OSError):
                    kind, value = "died", None
                if kind == "ready":
                    slot.ready = True
                    self._startup_failures = 0
                    slot.deadline = now + timeout_s if timeout_s else None
                elif kind == "ok":
                    key = slot.item[0]
                    slot.item, slot.deadline = None, None
                    yield key, value
                else:  # the pipe closed: the process is exiting
                    slot.process.join(5.0)
                    yield from self._lost(slot, queue, self._exit_reason(slot.process))
            elif slot.process.sentinel in ready:
                slot.process.join(1.0)
                yield from self._lost(slot, queue, self._exit_reason(slot.process))
            elif slot.deadline is not None and now >= slot.deadline:
                log.warning("a photo took longer than %g s; its worker was stopped and replaced", timeout_s)
                self._kill(slot)
                key = slot.item[0]
                slot.item = None
                self._start(slot)
                yield key, Failure("timeout", f"timed out after {timeout_s:g} s (the worker was stopped)")
            elif not slot.ready and now >= slot.born + STARTUP_TIMEOUT_S:
                self._kill(slot)
                yield from self._lost(slot, queue, "did not start in time")

    def _lost(self, slot: _Slot, queue: deque, reason: str):
        """A worker died: fail its input (or retry it, if the worker never started), replace it."""
        item, was_ready = slot.item, slot.ready
        slot.item = None
        if not was_ready:
            self._startup_failures += 1
            if self._startup_failures >= MAX_STARTUP_FAILURES:
                raise ExecutorError(f"worker processes die while starting ({reason}); "
                                    "check the installation (run with -v for details)")
            if item is not None:
                queue.appendleft(item)  # not this input's fault
        else:
            log.warning("a worker process %s; replacing it", reason)
        self._start(slot)
        if was_ready and item is not None:
            yield item[0], Failure("crash", f"the worker process {reason} while reading this photo")

    def _start(self, slot: _Slot) -> None:
        if slot.conn is not None:
            slot.conn.close()
        parent_conn, child_conn = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_worker_main, args=(child_conn, self._fn, self._common), daemon=True,
                                        name="ballot-vision-worker")
        process.start()
        child_conn.close()
        slot.process, slot.conn = process, parent_conn
        slot.ready, slot.born, slot.deadline = False, time.monotonic(), None

    def _assign(self, slot: _Slot, item: tuple[Any, Any], timeout_s: float | None) -> None:
        if slot.ready and not slot.process.is_alive():  # died while idle: not this input's fault
            slot.process.join(1.0)
            self._start(slot)
        slot.item = item
        try:
            slot.conn.send(item[1])
        except (BrokenPipeError, OSError):
            pass  # the worker died; its sentinel reports it on the next wait
        if slot.ready:
            slot.deadline = time.monotonic() + timeout_s if timeout_s else None

    @staticmethod
    def _exit_reason(process) -> str:
        code = process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            # The kernel's out-of-memory killer is the usual sender of SIGKILL to a worker.
            return f"was killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
        return f"exited with code {code}"

    @staticmethod
    def _kill(slot: _Slot) -> None:
        # SIGKILL, not SIGTERM: the input is abandoned anyway, and a worker stuck in C code may
        # not react to anything gentler.
        slot.process.kill()
        slot.process.join(5.0)

    def _shutdown(self) -> None:
        for slot in self._slots:
            if slot.process is None:
                continue
            if slot.item is None and slot.process.is_alive():
                try:
                    slot.conn.send(_STOP)
                except OSError:
                    pass
        for slot in self._slots:
            if slot.process is None:
                continue
            if slot.item is not None:
                slot.process.kill()  # interrupted mid-photo: no reason to wait
            slot.process.join(5.0)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(1.0)
            slot.conn.close()
        self._slots = []


# --- Dask ---------------------------------------------------------------------------------------

def _dask_identity(value: Any) -> Any:
    return value


def _dask_call(fn: Callable[..., Any], arg: Any, timeout_s: float | None, common: Mapping[str, Any]) -> Any:
    """Runs on a Dask worker: ``fn(arg, **common)`` with a time limit.

    A Dask task cannot be killed from outside, so the call runs in a helper thread and the task
    returns a timeout failure when the thread overruns; the stuck thread is left behind (the
    worker keeps serving other photos, one core down until it is restarted).
    """
    one_core_per_worker()
    if not timeout_s:
        return call_safely(fn, arg, common)
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(call_safely(fn, arg, common)), daemon=True,
                              name="ballot-vision-photo")
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        return Failure("timeout", f"timed out after {timeout_s:g} s (its thread is still running on a "
                                  "Dask worker; restart that worker if it slows down)")
    return box[0]


class DaskExecutor(Executor):
    """Runs on a ``dask.distributed`` cluster; every worker must see the photos at the same path.

    Parameters
    ----------
    address : str
        The scheduler, e.g. ``tcp://10.0.0.5:8786``.
    connect_timeout_s : float, optional
        How long to try to reach the scheduler before giving up (default :data:`CONNECT_TIMEOUT_S`).
    """

    #: Re-ask the scheduler how many worker threads there are this often (workers come and go).
    WINDOW_REFRESH_S = 5.0

    def __init__(self, address: str, *, connect_timeout_s: float | None = None) -> None:
        from distributed import Client

        self.address = address
        connect_timeout_s = CONNECT_TIMEOUT_S if connect_timeout_s is None else connect_timeout_s
        try:
            self.client = Client(address, timeout=connect_timeout_s, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError for bad addresses...
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {_describe(exc)}; "
                                "check that `dask scheduler` is running and the address is right") from None
        threads = self._threads()
        self.description = f"Dask at {address} ({threads} worker thread{'s' if threads != 1 else ''})"
        if not threads:
            log.warning("no Dask workers are connected to %s yet; photos wait until some join", address)

    def _threads(self) -> int:
        return sum(self.client.nthreads().values())

    def imap_unordered(self, fn, items, *, common, timeout_s):
        from distributed import as_completed
        from distributed.client import FutureCancelledError

        try:
            from distributed.scheduler import KilledWorker
        except ImportError:  # pragma: no cover - moved between versions
            from distributed import KilledWorker
        source = iter(items)
        # Sent once and fetched by each worker, instead of pickled into each of a million tasks.
        # A task rather than scattered data: if every worker holding it dies, Dask recomputes it
        # (scattered data would be lost, and every photo depending on it cancelled).
        shared = self.client.submit(_dask_identity, dict(common), pure=False)
        pending: dict[Any, tuple[Any, Any, bool]] = {}  # future -> (key, arg, running alone)
        # Photos whose worker died under them. Dask fails every photo that was on a dying worker,
        # the one that crashed it and those merely queued there alike; each suspect is therefore
        # run again alone (nothing else of ours in flight), where only the culprit can crash.
        suspects: deque[tuple[Any, Any]] = deque()
        running = as_completed(loop=self.client.loop)

        def submit(key: Any, arg: Any, alone: bool = False) -> None:
            future = self.client.submit(_dask_call, fn, arg, timeout_s, shared, pure=False)
            pending[future] = (key, arg, alone)
            running.add(future)

        window, refreshed = 0, 0.0
        exhausted = False
        try:
            while True:
                if time.monotonic() - refreshed > self.WINDOW_REFRESH_S:
                    # Two per worker thread: one running, one waiting, so none ever idles.
                    window, refreshed = max(4, 2 * self._threads()), time.monotonic()
                if suspects:
                    if not pending:  # drained: try the next suspect on its own
                        submit(*suspects.popleft(), alone=True)
                else:
                    while not exhausted and len(pending) < window:
                        try:
                            key, arg = next(source)
                        except StopIteration:
                            exhausted = True
                            break
                        submit(key, arg)
                if not pending:
                    return
                future = next(running)
                key, arg, alone = pending.pop(future)
                try:
                    outcome = future.result()
                except KilledWorker:
                    future.release()
                    if not alone:
                        suspects.append((key, arg))
                        continue
                    outcome = Failure("crash", "the Dask worker process died while reading this photo "
                                               "(each retry crashed too)")
                except FutureCancelledError:
                    outcome = Failure("exception", "the task was cancelled on the Dask cluster")
                except Exception as exc:  # noqa: BLE001 - errors raised outside fn (e.g. deserialising)
                    outcome = Failure("exception", _describe(exc), traceback.format_exc())
                future.release()
                yield key, outcome
        finally:
            self.client.cancel([*pending, shared])

    def close(self) -> None:
        self.client.close()


def default_workers() -> int:
    """The CPUs this process may use (respects affinity masks and container CPU sets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def make_executor(*, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for these options: Dask when a scheduler is given, else local processes.

    ``workers=0`` runs in this process (no timeout, for debugging); ``None`` uses every CPU.
    """
    if scheduler:
        return DaskExecutor(scheduler)
    if workers == 0:
        return SerialExecutor()
    return ProcessPool(default_workers() if workers is None else workers)
