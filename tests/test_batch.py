"""The batch engine: walk, results file, executors, runner; bad inputs and misbehaving workers.

Photos are small flat JPEGs made here; the real ``read_photo`` reads them. Runs are compared
with each other (never with fixed decisions, which belong to the vision stages).
"""

from __future__ import annotations

import csv
import itertools
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ballot_vision.batch import walk as walk_module
from ballot_vision.batch.executors import Failure, ProcessPool, SerialExecutor
from ballot_vision.batch.runner import OutputExistsError, run
from ballot_vision.batch.walk import walk_photos
from ballot_vision.batch.writer import COLUMNS, ResultsFileError, ResultsWriter, csv_text
from ballot_vision.pipeline import PipelineContext, read_photo
from fakes import misbehaving_read
from photo_files import write_bomb_png, write_plain_photos, write_truncated_jpeg, plain_bgr

IS_ROOT = os.geteuid() == 0
NON_UTF8_NAME = os.fsdecode(b"scan-\xff\xfe.jpg")


@pytest.fixture(scope="module")
def context() -> PipelineContext:
    return PipelineContext.default()


def read_csv(path: Path) -> pd.DataFrame:
    """The results as pandas reads them, ``ms`` dropped, sorted by file (for comparing runs)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.drop(columns=["ms"]).sort_values("file").reset_index(drop=True)


def rows_by_file(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = [row["file"] for row in rows]
    assert len(names) == len(set(names)), "a file has more than one row"
    return {row["file"]: row for row in rows}


# --- walk ---------------------------------------------------------------------------------------

def test_walk_finds_files_recursively_and_skips_hidden_and_excluded(tmp_path: Path) -> None:
    write_plain_photos(tmp_path, 2)
    write_plain_photos(tmp_path / "Алматы" / "участок 5", 1, start=5)
    (tmp_path / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "._photo-000.jpg").write_bytes(b"AppleDouble")
    (tmp_path / "Thumbs.db").write_bytes(b"junk")
    (tmp_path / ".hidden").mkdir()
    write_plain_photos(tmp_path / ".hidden", 1, start=9)
    (tmp_path / "results.csv").write_text("file,sha256\n")
    (tmp_path / "debug").mkdir()
    write_plain_photos(tmp_path / "debug", 1, start=7)

    items = list(walk_photos(tmp_path, exclude=[tmp_path / "results.csv", tmp_path / "debug"]))

    names = sorted(os.path.relpath(item.path, tmp_path) for item in items)
    assert names == ["photo-000.jpg", "photo-001.jpg", "Алматы/участок 5/photo-005.jpg"]
    assert all(item.problem == "" for item in items)


def test_walk_reports_links_that_cannot_be_followed(tmp_path: Path) -> None:
    write_plain_photos(tmp_path / "a", 1)
    (tmp_path / "a" / "back-to-root").symlink_to(tmp_path)
    (tmp_path / "also-a").symlink_to(tmp_path / "a")  # a second way into a folder: read once
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (tmp_path / "x.jpg").symlink_to(tmp_path / "y.jpg")
    (tmp_path / "y.jpg").symlink_to(tmp_path / "x.jpg")

    problems = {os.path.relpath(item.path, tmp_path): item.problem for item in walk_photos(tmp_path)}

    # Which of the two ways into the folder is taken depends on the listing order; only one is.
    photos = [name for name in problems if name.endswith("photo-000.jpg")]
    assert len(photos) == 1
    taken = photos[0].split("/")[0]
    other = {"a": "also-a", "also-a": "a"}[taken]
    loop = "symlink loop: leads back to a folder already scanned"
    assert problems == {
        f"{taken}/photo-000.jpg": "",
        f"{taken}/back-to-root": loop,
        other: loop,
        "dangling.jpg": "broken symlink (its target does not exist)",
        "x.jpg": "symlink loop",
        "y.jpg": "symlink loop",
    }


def test_walk_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("a", "b", "c"):
        write_plain_photos(tmp_path / folder, 1)
    listed = []
    real_scandir = os.scandir
    monkeypatch.setattr(walk_module.os, "scandir", lambda path: listed.append(path) or real_scandir(path))

    walk = walk_photos(tmp_path)
    first = next(walk)

    assert first.path.endswith("photo-000.jpg")
    assert len(listed) == 2  # the root and the first subfolder, not the whole tree
    assert len(list(walk)) == 2


@pytest.mark.skipif(IS_ROOT, reason="root can list any folder")
def test_walk_reports_an_unreadable_folder(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0)
    try:
        items = list(walk_photos(tmp_path))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [(Path(i.path).name, i.problem) for i in items] == [("locked", "cannot list the folder: permission denied")]


# --- results file -------------------------------------------------------------------------------

def test_csv_text_escapes_undecodable_bytes_and_newlines() -> None:
    assert csv_text(NON_UTF8_NAME) == "scan-\\xff\\xfe.jpg"
    assert csv_text("Сайлау/бюллетень №1.jpg") == "Сайлау/бюллетень №1.jpg"
    assert csv_text("two\nlines\r\nhere") == "two lines here"


def test_writer_resume_cuts_a_partial_last_line_and_keeps_the_header(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    with ResultsWriter.create(path, columns=("file", "sha256", "decision")) as writer:
        writer.write({"file": "a.jpg", "sha256": "aa" * 32, "decision": "vote"})
        writer.write({"file": "b.jpg", "sha256": "bb" * 32, "decision": "blank", "surprise": "x"})
    whole = path.read_bytes()
    path.write_bytes(whole + b'c.jpg,cccc,"unfinished')  # what a cut write leaves

    with ResultsWriter.resume(path) as writer:
        assert writer.columns == ("file", "sha256", "decision")
        assert writer.index.names == {"a.jpg", "b.jpg"}
        assert writer.read_row(writer.index.first_row("bb" * 32))["decision"] == "blank"
        writer.write({"file": "c.jpg", "sha256": "cc" * 32, "decision": "vote"})

    assert path.read_bytes() == whole + b"c.jpg," + b"cc" * 32 + b",vote\n"


def test_writer_refuses_a_file_that_is_not_ours(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text("region,count\nAlmaty,3\n")
    with pytest.raises(ResultsFileError, match="not a ballot-vision results file"):
        ResultsWriter.resume(path)
    assert path.read_text() == "region,count\nAlmaty,3\n"


def test_writer_refuses_a_second_writer(tmp_path: Path) -> None:
    with ResultsWriter.create(tmp_path / "r.csv"):
        with pytest.raises(ResultsFileError, match="being written by another"):
            ResultsWriter.resume(tmp_path / "r.csv")


# --- executors ----------------------------------------------------------------------------------

def _square(x: int) -> int:
    return x * x


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x


@pytest.mark.parametrize("executor", [SerialExecutor(), ProcessPool(2)], ids=["serial", "pool"])
def test_executors_pull_inputs_lazily(executor) -> None:
    pulled = []

    def endless():
        for i in itertools.count():
            pulled.append(i)
            yield i, i

    outcomes = executor.imap_unordered(_square, endless(), common={}, timeout_s=None)
    first = [next(outcomes) for _ in range(5)]
    outcomes.close()

    assert sorted(key * key for key, _ in first) == sorted(value for _, value in first)
    # At most one running and one queued input per worker beyond what was returned.
    assert len(pulled) <= 5 + 2 * getattr(executor, "workers", 1)


def test_an_exception_becomes_a_failure_and_the_rest_go_on() -> None:
    outcomes = dict(SerialExecutor().imap_unordered(_fail_on_three, ((i, i) for i in range(5)), common={},
                                                    timeout_s=None))
    assert outcomes[3] == Failure("exception", "ValueError: three is not allowed", outcomes[3].details)
    assert [outcomes[i] for i in (0, 1, 2, 4)] == [0, 1, 2, 4]


# --- runner -------------------------------------------------------------------------------------

def _bad_input_folder(folder: Path) -> dict[str, str]:
    """Good photos and every kind of bad input; returns file -> the error expected ("" = none)."""
    expected = {path.name: "" for path in write_plain_photos(folder, 4)}
    (folder / "zero-bytes.jpg").write_bytes(b"")
    expected["zero-bytes.jpg"] = "file is empty"
    write_truncated_jpeg(folder / "cut-upload.jpg", plain_bgr(50, 200, 300), keep=0.5)
    expected["cut-upload.jpg"] = "truncated JPEG (the file ends before the image does)"
    (folder / "notes.jpg").write_text("Учаскелік сайлау комиссиясы: not a photo\n" * 5, encoding="utf-8")
    expected["notes.jpg"] = "not an image (looks like text)"
    write_bomb_png(folder / "bomb.png", 30000, 30000)
    expected["bomb.png"] = "image too large: 30000×30000 px exceeds the 80 MP limit (possible decompression bomb)"
    locked = write_plain_photos(folder, 1, start=60, prefix="locked")[0]
    locked.chmod(0)
    expected[locked.name] = "" if IS_ROOT else "permission denied"  # root reads it anyway
    (folder / "loop").symlink_to(".")
    expected["loop"] = "symlink loop: leads back to a folder already scanned"
    shutil.copy(write_plain_photos(folder, 1, start=70)[0], folder / NON_UTF8_NAME)
    (folder / "photo-070.jpg").unlink()
    expected[csv_text(NON_UTF8_NAME)] = ""
    write_plain_photos(folder / "Шымкент", 1, start=80, prefix="бюллетень")
    expected["Шымкент/бюллетень-080.jpg"] = ""
    for index, name in enumerate(("crash-exit.jpg", "crash-segv.jpg", "hang.jpg", "raise.jpg"), start=90):
        write_plain_photos(folder, 1, start=index, prefix=name[:-4])[0].rename(folder / name)
    expected["crash-exit.jpg"] = "the worker process exited with code 3 while reading this photo"
    expected["crash-segv.jpg"] = "the worker process was killed by SIGSEGV while reading this photo"
    expected["hang.jpg"] = "timed out after 3 s (the worker was stopped)"
    expected["raise.jpg"] = "RuntimeError: cannot handle raise.jpg"  # the absolute path is cut
    return expected


def test_every_bad_input_gets_an_error_row_and_the_batch_goes_on(tmp_path: Path, context) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    expected = _bad_input_folder(photos)

    summary = run(photos, tmp_path / "results.csv", context=context, read_fn=misbehaving_read,
                  executor=ProcessPool(2), timeout_s=3)

    rows = rows_by_file(tmp_path / "results.csv")
    assert set(rows) == set(expected)
    for name, error in expected.items():
        row = rows[name]
        assert row["error"] == error, name
        if error:
            assert row["decision"] == "error", name
        else:
            assert row["decision"] != "error", name
            assert row["width_px"] == "120" and len(row["sha256"]) == 64, name
    assert summary.rows == len(expected)
    assert summary.errors == sum(bool(e) for e in expected.values())
    read_csv(tmp_path / "results.csv")  # pandas parses it


def test_identical_files_are_read_once(tmp_path: Path, context) -> None:
    photos = tmp_path / "photos"
    originals = write_plain_photos(photos, 3)
    (photos / "again").mkdir()
    for i in (0, 0, 2):
        shutil.copy(originals[i], photos / "again" / f"copy-{len(list((photos / 'again').iterdir()))}.jpg")
    read = []

    def counting_read(path, *, root, context):
        read.append(os.path.relpath(path, root))
        return read_photo(path, root=root, context=context)

    summary = run(photos, tmp_path / "r.csv", context=context, read_fn=counting_read, executor=SerialExecutor())

    assert sorted(read) == ["photo-000.jpg", "photo-001.jpg", "photo-002.jpg"]
    rows = rows_by_file(tmp_path / "r.csv")
    assert {name: row["duplicate_of"] for name, row in rows.items()} == {
        "photo-000.jpg": "", "photo-001.jpg": "", "photo-002.jpg": "",
        "again/copy-0.jpg": "photo-000.jpg", "again/copy-1.jpg": "photo-000.jpg", "again/copy-2.jpg": "photo-002.jpg",
    }
    for copy in ("again/copy-0.jpg", "again/copy-1.jpg"):
        for column in ("sha256", "decision", "confidence", "reasons", "width_px"):
            assert rows[copy][column] == rows["photo-000.jpg"][column]
    assert (summary.read, summary.duplicates, summary.rows) == (3, 3, 6)


def test_resume_reads_only_new_photos_and_never_repeats_a_row(tmp_path: Path, context) -> None:
    photos = tmp_path / "photos"
    write_plain_photos(photos, 4)
    out = tmp_path / "r.csv"
    run(photos, out, context=context, executor=SerialExecutor())
    write_plain_photos(photos, 2, start=4)
    shutil.copy(photos / "photo-001.jpg", photos / "renamed-copy.jpg")
    read = []

    def counting_read(path, *, root, context):
        read.append(Path(path).name)
        return read_photo(path, root=root, context=context)

    with pytest.raises(OutputExistsError, match="pass --resume to continue it or --overwrite"):
        run(photos, out, context=context, executor=SerialExecutor())
    summary = run(photos, out, context=context, read_fn=counting_read, executor=SerialExecutor(), resume=True)

    assert sorted(read) == ["photo-004.jpg", "photo-005.jpg"]
    assert (summary.skipped, summary.read, summary.duplicates) == (4, 2, 1)
    rows = rows_by_file(out)
    assert len(rows) == 7
    assert rows["renamed-copy.jpg"]["duplicate_of"] == "photo-001.jpg"
    fresh = tmp_path / "fresh.csv"
    run(photos, fresh, context=context, executor=SerialExecutor())
    pd.testing.assert_frame_equal(read_csv(out), read_csv(fresh))


def test_output_inside_the_photo_folder_is_not_read(tmp_path: Path, context) -> None:
    write_plain_photos(tmp_path, 2)
    run(tmp_path, tmp_path / "results.csv", context=context, executor=SerialExecutor())
    run(tmp_path, tmp_path / "results.csv", context=context, executor=SerialExecutor(), resume=True)
    assert sorted(rows_by_file(tmp_path / "results.csv")) == ["photo-000.jpg", "photo-001.jpg"]


# --- Dask ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    import dask

    # No retries of a photo that kills its worker, so that the crash test takes one restart, not four.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=40) as cluster:
            yield cluster


def test_dask_run_equals_the_local_run(tmp_path: Path, context, dask_cluster) -> None:
    photos = tmp_path / "photos"
    write_plain_photos(photos, 10)
    shutil.copy(photos / "photo-003.jpg", photos / "copy.jpg")
    (photos / "empty.jpg").write_bytes(b"")
    write_truncated_jpeg(photos / "cut.jpg", plain_bgr(5, 200, 300))
    (photos / "broken.jpg").symlink_to(photos / "missing.jpg")
    run(photos, tmp_path / "local.csv", context=context, workers=2)

    summary = run(photos, tmp_path / "dask.csv", context=context, scheduler=dask_cluster.scheduler_address)

    assert summary.executor.startswith("Dask at tcp://")
    assert summary.rows == 14
    pd.testing.assert_frame_equal(read_csv(tmp_path / "dask.csv"), read_csv(tmp_path / "local.csv"))


def test_dask_run_survives_a_crashing_and_a_hanging_photo(tmp_path: Path, context, dask_cluster) -> None:
    photos = tmp_path / "photos"
    write_plain_photos(photos, 6)
    for index, name in enumerate(("crash-exit.jpg", "hang.jpg", "raise.jpg"), start=90):
        write_plain_photos(photos, 1, start=index, prefix="x")[0].rename(photos / name)

    run(photos, tmp_path / "dask.csv", context=context, scheduler=dask_cluster.scheduler_address,
        read_fn=misbehaving_read, timeout_s=2)

    errors = {name: row["error"] for name, row in rows_by_file(tmp_path / "dask.csv").items()}
    assert errors == {
        **{f"photo-{i:03d}.jpg": "" for i in range(6)},  # bystanders queued on the dead worker included
        "crash-exit.jpg": "the Dask worker process died while reading this photo (each retry crashed too)",
        "hang.jpg": "timed out after 2 s (its thread is still running on a Dask worker; restart that worker "
                    "if it slows down)",
        "raise.jpg": "RuntimeError: cannot handle raise.jpg",
    }


def test_written_header_is_the_documented_one(tmp_path: Path, context) -> None:
    write_plain_photos(tmp_path / "p", 1)
    run(tmp_path / "p", tmp_path / "r.csv", context=context, executor=SerialExecutor())
    header = (tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert tuple(header) == COLUMNS
    assert header[:13] == ["file", "sha256", "side", "template", "decision", "party", "confidence",
                           "needs_review", "reasons", "scores", "signature", "error", "ms"]


# --- options and reporting ----------------------------------------------------------------------

def test_make_executor_follows_the_options() -> None:
    from ballot_vision.batch.executors import default_workers, make_executor

    assert isinstance(make_executor(workers=0), SerialExecutor)
    assert make_executor(workers=3).workers == 3
    assert make_executor().workers == default_workers() == len(os.sched_getaffinity(0))


def test_plain_progress_lines_give_count_rate_and_time_left(caplog: pytest.LogCaptureFixture) -> None:
    from ballot_vision.batch.progress import LogProgress

    progress = LogProgress(interval_s=0)
    progress.start()
    progress.set_total(10)
    with caplog.at_level("INFO", logger="ballot_vision.progress"):
        for outcome in ("read", "read", "skipped", "copied"):
            progress.advance(outcome)
    last = caplog.records[-1].getMessage()
    assert last.startswith("4 photos of 10 (40 %), ")
    assert "photos/s, about " in last and last.endswith(" left")
    assert progress.read == 2


def test_summary_names_decisions_review_errors_and_speed() -> None:
    from ballot_vision.batch.runner import RunSummary, format_summary

    text = format_summary(RunSummary(output_csv=Path("r.csv"), rows=12, read=10, duplicates=2, skipped=5,
                                     by_decision={"vote": 7, "error": 2, "blank": 3}, needs_review=4, errors=2,
                                     elapsed_s=5.0, executor="2 local processes"))
    assert text == ("12 rows in 5 s on 2 local processes (2.0 photos/s): vote 7 · blank 3 · error 2\n"
                    "need review: 4 · errors: 2 · identical copies: 2 · already done: 5")
