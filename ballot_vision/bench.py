"""Throughput benchmark: ``make bench`` (``python -m ballot_vision.bench``).

For 1280-px chat photos and for 12-MP phone originals it prints photos/s for one worker and for
all workers, per core, the per-photo cost as a multiple of decoding the same files alone through
the load stage (the floor no pipeline beats), the peak memory of the whole process tree, and the
same run on a Dask ``LocalCluster``.

The photos come from the synthetic generator (:func:`ballot_vision.synth.generate.generate`: JPEG,
normal difficulty, the usual mix of fronts, backs, other pictures and re-sent photos), made once
and cached under ``out/bench-photos/`` keyed by delivery, seed and count, so a rerun skips
generation. Each run also reports how many cores it kept busy and how many other processes did
meanwhile, since a shared machine shows up mostly as a poor speed-up.

Rates are steady-state: measured from the moment every worker has returned its first photo to
the last photo, so process start-up does not count; wall-clock time including start-up is shown
alongside. Nothing here is a test: figures depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .batch.executors import ProcessPool, default_workers, one_core_per_worker
from .batch.progress import Progress
from .batch.runner import RunSummary, run
from .config import LoadLimits
from .pipeline import PipelineContext
from .stages.load import load_photo

#: Deliveries benchmarked by default: the generator's name -> what it is.
DELIVERIES = {"chat_1280": "1280-px chat photos", "original": "12-MP phone originals"}
#: Forced on every bench photo besides the delivery. A forced delivery leaves the file format as
#: drawn for the unforced one (a few PNG "originals" and HEIC chat photos); JPEG only keeps each
#: set what it claims to be.
FORCED = {"format": "jpg"}
DEFAULT_SEED = 2021
DEFAULT_N = 24


# --------------------------------------------------------------------------------------
# Photos


def bench_photos(cache_root: Path, delivery: str, *, n: int, seed: int, jobs: int, regenerate: bool = False) -> tuple[list[Path], list[dict[str, str]]]:
    """The bench's photos for one delivery, generated once into ``cache_root`` and reused.

    The folder ``cache_root/<delivery>-jpg-seed<seed>-n<n>/photos`` holds the photos only (their
    ``truth.csv`` sits beside it, so the pipeline is not timed on a text file). Byte-identical
    re-sent photos are left out: the batch engine hashes them and never reads them, so they
    would measure hashing, not reading. Returns the photo paths and their truth rows.
    """
    from .synth.generate import generate, read_truth, write_truth

    folder = cache_root / f"{delivery}-{FORCED['format']}-seed{seed}-n{n}"
    photos, truth = folder / "photos", folder / "truth.csv"
    if truth.is_file() and not regenerate:
        rows = read_truth(truth)
        if rows and all((photos / r["file"]).is_file() for r in rows):
            print(f"  photos: {len(rows)} cached in {photos}")
            return [photos / r["file"] for r in rows], rows
    # Made in a scratch folder and renamed into place, so an interrupted run leaves no half set.
    cache_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cache_root))
    try:
        started = time.monotonic()
        print(f"  photos: generating {n} ({delivery}, seed {seed}, {jobs} job{'s' if jobs > 1 else ''}) ...", end="", flush=True)
        generate(n, scratch / "photos", seed=seed, difficulty="normal", jobs=jobs, forced={"delivery": delivery, **FORCED})
        print(f" {time.monotonic() - started:.0f} s, in {photos}")
        rows = []
        for row in read_truth(scratch / "photos" / "truth.csv"):
            if row["duplicate_of"] and row["dup_variant"] == "identical":
                (scratch / "photos" / row["file"]).unlink()
            else:
                rows.append(row)
        (scratch / "photos" / "truth.csv").unlink()
        write_truth(scratch / "truth.csv", rows)
        shutil.rmtree(folder, ignore_errors=True)
        scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [photos / r["file"] for r in rows], rows


def describe_set(paths: Sequence[Path], rows: Sequence[dict[str, str]]) -> str:
    kinds = Counter("re-sent" if r["duplicate_of"] else r["kind"] for r in rows)
    names = {"front": "fronts", "back": "backs", "other": "not ballots", "re-sent": "re-sent"}
    mix = ", ".join(f"{kinds[k]} {names[k]}" for k in names if kinds[k])
    long_sides = sorted(max(int(r["width_px"]), int(r["height_px"])) for r in rows)
    megapixels = sum(int(r["width_px"]) * int(r["height_px"]) for r in rows) / len(rows) / 1e6
    formats = Counter(p.suffix.lstrip(".").upper() for p in paths)
    size = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
    sides = f"{long_sides[0]} px" if long_sides[0] == long_sides[-1] else f"{long_sides[0]}–{long_sides[-1]} px"
    return (f"{len(paths)} photos ({mix}); long side {sides}, {megapixels:.1f} MP and {size:.2f} MB "
            f"per file on average; {', '.join(f'{c} {f}' for f, c in formats.most_common())}")


# --------------------------------------------------------------------------------------
# Measuring


@dataclass(frozen=True)
class Measurement:
    photos_per_s: float  # steady state
    wall_s: float  # start-up included
    peak_rss_mb: float  # parent and all its children, sampled
    own_cores: float | None  # cores this run kept busy, on average (workers and what they ran)
    other_cores: float | None  # cores kept busy by other processes meanwhile, on average
    summary: RunSummary


class _Timeline(Progress):
    """Records when each photo finished."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def advance(self, outcome) -> None:
        super().advance(outcome)
        if outcome == "read":
            self.times.append(time.monotonic())


class _Usage:
    """Samples the resident memory of this process and all its descendants, and how many cores
    the rest of the machine kept busy meanwhile (other work slows the runs being measured)."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.peak_bytes = 0
        self.own_cores: float | None = None
        self.other_cores: float | None = None
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _Usage:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        try:
            import psutil
        except ImportError:  # the figures are then missing, not wrong
            return

        def busy() -> float:
            t = psutil.cpu_times()
            return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)

        me = psutil.Process()

        def tree_cpu() -> dict[tuple[int, float], float]:
            """CPU seconds of this process and each child, each with its finished children.

            A finished child's time (with that of the Tesseract processes it ran) moves into
            this process's ``children_*`` figures when it is reaped, so nothing is missed or
            counted twice, however short-lived the grandchildren are.
            """
            out = {}
            for process in [me, *me.children(recursive=False)]:
                try:
                    t = process.cpu_times()
                    out[(process.pid, process.create_time())] = t.user + t.system + t.children_user + t.children_system
                except psutil.Error:
                    pass
            return out

        started, busy_start, cpu_start = time.monotonic(), busy(), tree_cpu()
        while True:
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            if self._stop.wait(self._interval_s):
                break
        elapsed = time.monotonic() - started
        cpu_end = tree_cpu()
        ours = sum(cpu_end.get(k, 0.0) - cpu_start.get(k, 0.0) for k in cpu_start.keys() | cpu_end.keys())
        if elapsed > 0:
            self.own_cores = ours / elapsed
            self.other_cores = max(0.0, (busy() - busy_start - ours) / elapsed)


def _steady_rate(times: Sequence[float], workers: int) -> float:
    """Photos per second after every worker has delivered once."""
    skip = min(workers, len(times) - 1)
    if len(times) - skip < 1:
        return 0.0
    span = times[-1] - times[skip - 1] if skip > 0 else times[-1] - times[0]
    return (len(times) - skip) / span if span > 0 else 0.0


def measure_run(photos_dir: Path, context: PipelineContext, *, workers: int, scheduler: str | None = None) -> Measurement:
    """Run the real pipeline over ``photos_dir`` and measure it."""
    with tempfile.TemporaryDirectory(prefix="bv-bench-") as scratch:
        timeline = _Timeline()
        executor = None if scheduler else ProcessPool(workers)
        started = time.monotonic()
        with _Usage() as usage:
            summary = run(photos_dir, Path(scratch) / "results.csv", context=context, scheduler=scheduler,
                          executor=executor, progress=timeline)
        wall = time.monotonic() - started
    return Measurement(_steady_rate(timeline.times, workers), wall, usage.peak_bytes / 2**20, usage.own_cores, usage.other_cores, summary)


def decode_rate(paths: Sequence[Path], limits: LoadLimits, *, passes: int = 2) -> float:
    """Photos per second on one core through the load stage alone (read, hash, decode, EXIF turn).

    The best of ``passes`` passes, after one pass that only reads the files (page cache).
    """
    one_core_per_worker()  # as in a worker: OpenCV on one thread
    for path in paths:
        path.read_bytes()
    best = 0.0
    for _ in range(passes):
        started = time.perf_counter()
        for path in paths:
            load_photo(path, limits=limits)
        best = max(best, len(paths) / (time.perf_counter() - started))
    return best


# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ballot_vision.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", "--photos", type=int, default=DEFAULT_N, help=f"photos generated per delivery (default {DEFAULT_N})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"generator seed (default {DEFAULT_SEED})")
    parser.add_argument("--deliveries", default=",".join(DELIVERIES), help="comma-separated: chat_1280, chat_2560, original (default: chat_1280,original)")
    parser.add_argument("--workers", type=int, default=default_workers(), help="the 'all workers' run (default: every CPU this process may use)")
    parser.add_argument("--jobs", type=int, default=None, help="processes generating photos (default: --workers, at most 4)")
    parser.add_argument("--cache", type=Path, default=Path("out/bench-photos"), help="folder keeping generated photos between runs (default out/bench-photos)")
    parser.add_argument("--no-cache", action="store_true", help="generate into a temporary folder, removed at the end")
    parser.add_argument("--regenerate", action="store_true", help="generate again even if the cache has the photos")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster run")
    args = parser.parse_args(argv)

    deliveries = [d.strip() for d in args.deliveries.split(",") if d.strip()]
    unknown = [d for d in deliveries if d not in ("chat_1280", "chat_2560", "original")]
    if unknown or args.n < 2:
        parser.error(f"unknown delivery {', '.join(unknown)}" if unknown else "--n must be at least 2")
    context = PipelineContext.default()
    all_workers = max(1, args.workers)
    jobs = args.jobs or min(all_workers, 4)
    limits = context.config.load
    full_size = LoadLimits(max_pixels=limits.max_pixels, work_long_side_px=1_000_000)
    cache_root = Path(tempfile.mkdtemp(prefix="bv-bench-photos-")) if args.no_cache else args.cache

    print(f"ballot-vision bench: up to {args.n} photos per delivery (seed {args.seed}, normal difficulty), "
          f"1 and {all_workers} workers; the pipeline decodes large photos to about {limits.work_long_side_px} px long side")
    try:
        for delivery in deliveries:
            print(f"\n{DELIVERIES.get(delivery, delivery)} ({delivery})")
            paths, rows = bench_photos(cache_root, delivery, n=args.n, seed=args.seed, jobs=jobs, regenerate=args.regenerate)
            folder = paths[0].parent
            print(f"  {describe_set(paths, rows)}")
            full = decode_rate(paths, full_size)
            load = decode_rate(paths, limits)
            print(f"  decode only, full size (load stage, 1 core)        {full:7.2f} photos/s  {1000 / full:6.0f} ms/photo")
            print(f"  decode only, as the pipeline does (load stage)    {load:7.2f} photos/s  {1000 / load:6.0f} ms/photo")
            runs: list[tuple[str, int, str | None]] = [("pipeline, 1 worker", 1, None)]
            if all_workers > 1:
                runs.append((f"pipeline, {all_workers} workers", all_workers, None))
            if not args.no_dask:
                runs.append((f"Dask LocalCluster, {all_workers} workers", all_workers, "dask"))
            one = None
            for label, workers, scheduler in runs:
                if scheduler == "dask":
                    m = _measure_dask(folder, context, all_workers)
                else:
                    m = measure_run(folder, context, workers=workers)
                one = one or m.photos_per_s
                per_core = m.photos_per_s / workers
                cost = load / per_core if per_core else float("inf")
                speedup = m.photos_per_s / one if one else 0.0
                errors = f", {m.summary.errors} error rows" if m.summary.errors else ""
                others = "" if m.other_cores is None else f", cores busy: this run {m.own_cores:.1f}, others {m.other_cores:.1f}"
                print(f"  {label:<32} {m.photos_per_s:6.2f} photos/s, {per_core:5.2f} per core "
                      f"({1000 / per_core if per_core else float('inf'):5.0f} ms/photo on a core, {cost:4.1f}× decode-only), "
                      f"speed-up {speedup:.2f}×, wall {m.wall_s:5.1f} s, peak RSS {m.peak_rss_mb:,.0f} MB{others}{errors}")
    finally:
        if args.no_cache:
            shutil.rmtree(cache_root, ignore_errors=True)
    print(f"\n{os.cpu_count()} CPUs, {default_workers()} usable by this process. Rates are steady-state photos read "
          f"per second; '× decode-only' is per-photo time on one core over the load stage's time for the same "
          f"file; peak RSS is the whole process tree (this process and its workers); 'cores busy' is the average "
          f"number of cores this run and all other processes kept busy while it ran (other work slows the "
          f"multi-worker runs most).")


def _measure_dask(folder: Path, context: PipelineContext, workers: int) -> Measurement:
    """The same run on a fresh ``LocalCluster`` (one single-threaded worker process per core).

    Started here rather than once for the whole bench, so its idle workers do not count in the
    other runs' memory; cluster start-up is not included in the wall time.
    """
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as cluster:
        return measure_run(folder, context, workers=workers, scheduler=cluster.scheduler_address)


if __name__ == "__main__":
    main()
