"""`ballot-vision process`: options, exit codes and messages, and a real run killed and resumed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

from ballot_vision.batch import executors
from ballot_vision.batch.executors import SerialExecutor
from ballot_vision.batch.runner import run
from ballot_vision.cli import ExitCode, app
from ballot_vision.pipeline import PipelineContext
from photo_files import write_plain_photos, write_truncated_jpeg, plain_bgr

TESTS = Path(__file__).resolve().parent
BALLOT_VISION = Path(sys.executable).with_name("ballot-vision")


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.drop(columns=["ms"]).sort_values("file").reset_index(drop=True)


def test_process_has_help(cli: CliRunner) -> None:
    result = cli.invoke(app, ["process", "--help"])
    assert result.exit_code == 0
    for option in ("--output", "--workers", "--scheduler", "--resume", "--overwrite", "--timeout", "--debug",
                   "--config", "--templates", "--quiet", "--verbose"):
        assert option in result.output
    assert "--read-fn" not in result.output  # a test hook, not for analysts


def test_a_run_with_error_rows_exits_0_and_says_where_the_csv_is(cli: CliRunner, tmp_path: Path) -> None:
    write_plain_photos(tmp_path / "photos", 2)
    (tmp_path / "photos" / "empty.jpg").write_bytes(b"")
    out = tmp_path / "out" / "results.csv"  # its folder does not exist yet

    result = cli.invoke(app, ["process", str(tmp_path / "photos"), "-o", str(out), "--workers", "0"])

    assert result.exit_code == ExitCode.OK, result.output
    assert f"results: {out}" in result.stdout
    assert "3 rows in" in result.stderr and "errors: 1" in result.stderr
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert sorted(frame["file"]) == ["empty.jpg", "photo-000.jpg", "photo-001.jpg"]


def test_quiet_prints_only_the_csv_path(cli: CliRunner, tmp_path: Path) -> None:
    write_plain_photos(tmp_path / "photos", 1)
    result = cli.invoke(app, ["process", str(tmp_path / "photos"), "-o", str(tmp_path / "r.csv"), "-j", "0", "-q"])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == f"results: {tmp_path / 'r.csv'}\n"


@pytest.mark.parametrize(
    ("make_args", "code", "message"),
    [
        (lambda t: [str(t / "nowhere")], ExitCode.BAD_ARGS, "photo folder not found"),
        (lambda t: [str(t / "photos"), "-o", str(t / "existing.csv")], ExitCode.BAD_ARGS,
         "already exists: pass --resume to continue it or --overwrite to replace it"),
        (lambda t: [str(t / "photos"), "--resume", "--overwrite"], ExitCode.BAD_ARGS, "exclude each other"),
        (lambda t: [str(t / "photos"), "-o", str(t / "existing.csv" / "r.csv")], ExitCode.CANNOT_RUN,
         "cannot write"),
        (lambda t: [str(t / "photos"), "-o", str(t / "votes.csv"), "--resume"], ExitCode.CANNOT_RUN,
         "not a ballot-vision results file"),
        (lambda t: [str(t / "photos"), "--config", str(t / "bad.yaml")], ExitCode.BAD_ARGS, "marks"),
        (lambda t: [str(t / "photos"), "--scheduler", "tcp://127.0.0.1:9"], ExitCode.CANNOT_RUN,
         "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    ],
    ids=["missing-folder", "output-exists", "resume-and-overwrite", "output-not-writable", "foreign-csv",
         "bad-config", "scheduler-unreachable"],
)
def test_runs_that_cannot_start_fail_with_one_clear_line(cli: CliRunner, tmp_path: Path, monkeypatch, make_args,
                                                         code: ExitCode, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1.0)
    write_plain_photos(tmp_path / "photos", 1)
    (tmp_path / "existing.csv").write_text("file,sha256\n")
    (tmp_path / "votes.csv").write_text("region,count\n")
    (tmp_path / "bad.yaml").write_text("marks:\n  definite: 0.1\n  marginal: 0.5\n")

    result = cli.invoke(app, ["process", *make_args(tmp_path), "-j", "0"])

    assert result.exit_code == code, result.output
    assert message in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "Traceback" not in result.stderr
    assert (tmp_path / "votes.csv").read_text() == "region,count\n"


def test_overwrite_replaces_the_results(cli: CliRunner, tmp_path: Path) -> None:
    write_plain_photos(tmp_path / "photos", 2)
    out = tmp_path / "r.csv"
    out.write_text("file,sha256\nold.jpg,\n")
    result = cli.invoke(app, ["process", str(tmp_path / "photos"), "-o", str(out), "-j", "0", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert sorted(pd.read_csv(out)["file"]) == ["photo-000.jpg", "photo-001.jpg"]


def _data_rows(path: Path) -> int:
    try:
        return max(0, path.read_bytes().count(b"\n") - 1)
    except FileNotFoundError:
        return 0


def test_a_killed_run_resumes_to_the_same_csv_as_an_uninterrupted_one(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write_plain_photos(photos, 36)
    shutil.copy(photos / "photo-004.jpg", photos / "photo-004-again.jpg")
    shutil.copy(photos / "photo-030.jpg", photos / "photo-030-again.jpg")
    write_truncated_jpeg(photos / "cut.jpg", plain_bgr(3, 200, 300))
    total = 39
    reference = tmp_path / "reference.csv"
    run(photos, reference, context=PipelineContext.default(), executor=SerialExecutor())

    out = tmp_path / "killed.csv"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    command = [str(BALLOT_VISION), "process", str(photos), "-o", str(out), "--workers", "2", "-q"]
    process = subprocess.Popen(command + ["--read-fn", "fakes:slow_read"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _data_rows(out) < 8 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = psutil.Process(process.pid).children(recursive=True)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    rows_at_kill = _data_rows(out)
    assert 8 <= rows_at_kill < total, "the run must be killed part-way"
    # The workers die with their parent (they would otherwise finish a photo and then exit).
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    # A write cut short (power loss rather than SIGKILL) leaves a partial line: resume removes it.
    with open(out, "ab") as f:
        f.write(b'photo-999.jpg,0123,unknown,,vo')

    resumed = subprocess.run(command + ["--resume"], env=env, capture_output=True, text=True, timeout=120)

    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(read_csv(out), read_csv(reference))
    assert read_csv(out)["file"].is_unique
