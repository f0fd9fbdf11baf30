"""The command line: parse options, call the library, map errors to exit codes.

Nothing here does vision or batch work; see ``pipeline.py``, ``batch/`` and ``synth/``.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

import typer

app = typer.Typer(
    help="Read photographed paper ballots into a votes CSV with confidence.",
    no_args_is_help=True,
    add_completion=False,
)
template_app = typer.Typer(help="Inspect and draw ballot templates.", no_args_is_help=True)
app.add_typer(template_app, name="template")


class ExitCode(IntEnum):
    OK = 0  # the run finished (error rows included)
    BAD_ARGS = 2  # wrong options, missing folder, invalid config or template
    CANNOT_RUN = 3  # the run could not proceed (output not writable, scheduler unreachable, ...)
    INTERRUPTED = 130


def fail(message: str, code: ExitCode) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(int(code))


# Commands are added below by area: `process` (batch engine), `synth` and `template render`
# (synthetic data), `rescore`/`calibrate` (decision policy).


# --------------------------------------------------------------------------------------
# Templates and synthetic data (`template list`, `template render`, `synth`)


def _templates_or_fail(directory: Path | None) -> dict:
    from ballot_vision.templates import TemplateError, load_templates

    try:
        return load_templates(directory)
    except TemplateError as exc:
        raise fail(str(exc), ExitCode.BAD_ARGS) from exc


def _template_or_fail(template_id: str, directory: Path | None):
    templates = _templates_or_fail(directory)
    if template_id not in templates:
        raise fail(f"unknown template {template_id!r}; known ids: {', '.join(templates)}", ExitCode.BAD_ARGS)
    return templates[template_id]


TEMPLATES_OPTION = typer.Option(None, "--templates", help="Template folder (default: $BALLOT_VISION_TEMPLATES or the shipped templates_ballots/).")


@template_app.command("list")
def template_list(templates: Path | None = TEMPLATES_OPTION) -> None:
    """List the templates: id, paper size, sides, options."""
    for t in _templates_or_fail(templates).values():
        sides = "+".join(s.name for s in t.sides)
        typer.echo(f"{t.id}\t{t.paper_w:g}x{t.paper_h:g} mm\t{sides}\t{','.join(t.option_ids)}\t{t.election}")


@template_app.command("render")
def template_render(
    template_id: str = typer.Argument(..., help="Template id (see `ballot-vision template list`)."),
    output: Path = typer.Option(..., "-o", "--output", help="PNG to write: all sides side by side, front first, on a grey ground."),
    dpi: float = typer.Option(150.0, "--dpi", min=20, max=1200, help="Resolution of the drawing."),
    seed: int | None = typer.Option(None, "--seed", help="Draw a random print variation (PrintStyle.random) from this seed instead of the design."),
    templates: Path | None = TEMPLATES_OPTION,
) -> None:
    """Draw a blank ballot (every side, side by side in one PNG) from its template."""
    import cv2
    import numpy as np

    from ballot_vision.render import PrintStyle, render_template, side_by_side

    template = _template_or_fail(template_id, templates)
    style = None if seed is None else PrintStyle.random(np.random.default_rng(seed), template)
    sides = render_template(template, dpi=dpi, style=style)
    if not output.parent.is_dir():
        raise fail(f"{output.parent}: folder does not exist", ExitCode.CANNOT_RUN)
    if not cv2.imwrite(str(output), side_by_side(list(sides.values()))):
        raise fail(f"{output}: cannot write (use a .png name in a writable folder)", ExitCode.CANNOT_RUN)
    typer.echo(f"{output}: {template.id}, sides {', '.join(sides)} at {dpi:g} dpi")


# --------------------------------------------------------------------------------------
# Batch processing (`process`)


def _setup_run_logging(*, quiet: bool, verbose: bool, console) -> None:
    """Log to stderr: through rich above the progress bar on a terminal, plain lines otherwise."""
    import logging
    import sys

    if console is not None:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=console, show_path=False, show_time=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    if not verbose:
        # Dask's own chatter (connections, heartbeats) only with -v.
        for name in ("distributed", "tornado", "asyncio"):
            logging.getLogger(name).setLevel(logging.ERROR)


def _import_read_fn(spec: str):
    import importlib

    module_name, _, attribute = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise fail(f"--read-fn {spec}: cannot import it ({exc}); expected MODULE:FUNCTION", ExitCode.BAD_ARGS) from exc


@app.command("process")
def process(
    photos: Path = typer.Argument(..., help="Folder of photos, searched recursively (JPEG, PNG, WEBP, TIFF, HEIC)."),
    output: Path = typer.Option(Path("results.csv"), "-o", "--output", help="Results CSV to write (its folder is created)."),
    workers: int | None = typer.Option(None, "--workers", "-j", min=0, help="Worker processes (default: every CPU; 0 runs in this process, for debugging)."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="tcp://HOST:8786", help="Run on this Dask scheduler's workers instead of local processes."),
    resume: bool = typer.Option(False, "--resume", help="Continue an existing results CSV: read only photos not in it yet."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing results CSV."),
    timeout: float = typer.Option(120.0, "--timeout", min=0, metavar="SECONDS", help="Give up on a photo after this long (0: never)."),
    debug: Path | None = typer.Option(None, "--debug", metavar="DIR", help="Write an annotated picture of each photo into DIR."),
    config: Path | None = typer.Option(None, "--config", metavar="FILE", help="YAML file overriding thresholds in defaults.yaml."),
    templates: Path | None = typer.Option(None, "--templates", metavar="DIR", help="Template folder (default: $BALLOT_VISION_TEMPLATES or the shipped templates_ballots/)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors; no progress."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs, and tracebacks of failures."),
    read_fn: str | None = typer.Option(None, "--read-fn", hidden=True, help="MODULE:FUNCTION replacing the per-photo function (tests)."),
) -> None:
    """Read every photo under PHOTOS into a results CSV, one row per photo.

    Uses every CPU (or a Dask cluster with --scheduler). Rows are written as photos finish, so an
    interrupted run loses nothing: run it again with --resume.
    """
    import sys

    from ballot_vision.batch import runner
    from ballot_vision.batch.progress import LogProgress, Progress, RichProgress
    from ballot_vision.config import ConfigError
    from ballot_vision.pipeline import PipelineContext, read_photo
    from ballot_vision.templates import TemplateError

    progress: Progress
    if quiet:
        progress = Progress()
        console = None
    elif sys.stderr.isatty():
        progress = RichProgress()
        console = progress.console
    else:
        progress, console = LogProgress(), None
    _setup_run_logging(quiet=quiet, verbose=verbose, console=console)

    try:
        context = PipelineContext.default(config_path=config, template_dir=templates, debug_dir=debug)
    except (ConfigError, TemplateError) as exc:
        raise fail(str(exc), ExitCode.BAD_ARGS) from exc
    function = _import_read_fn(read_fn) if read_fn else read_photo

    try:
        summary = runner.run(photos, output, context=context, workers=workers, scheduler=scheduler, resume=resume,
                             overwrite=overwrite, timeout_s=timeout or None, progress=progress, read_fn=function)
    except (runner.InputError, runner.OutputExistsError) as exc:
        raise fail(str(exc), ExitCode.BAD_ARGS) from exc
    except (runner.OutputError, runner.SchedulerError) as exc:
        raise fail(str(exc), ExitCode.CANNOT_RUN) from exc
    except KeyboardInterrupt:
        raise fail(f"interrupted; the rows written so far are in {output}: add --resume to continue",
                   ExitCode.INTERRUPTED) from None
    except Exception as exc:
        if verbose:
            raise
        raise fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", ExitCode.CANNOT_RUN) from exc
    if not quiet:
        typer.echo(runner.format_summary(summary), err=True)
    typer.echo(f"results: {summary.output_csv}")


@app.command("synth")
def synth(
    n: int = typer.Option(..., "--n", min=0, help="Number of photos to make."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the photos and truth.csv (created if missing)."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same bytes; photo i depends only on (seed, i)."),
    difficulty: str = typer.Option("normal", "--difficulty", help="easy (mild conditions), normal (realistic mix) or hard (strong blur, tilt, shadows, folds, occlusion more often)."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Processes to use (0: one per core, at most 4). Output does not depend on it."),
    force: list[str] = typer.Option([], "--force", help="KEY=VALUE: force a condition on every photo, e.g. delivery=chat_1280, kind=front, mark=tick (repeatable)."),
    templates: Path | None = TEMPLATES_OPTION,
) -> None:
    """Make synthetic phone photos of filled ballots, backs, non-ballots and duplicates, with truth.csv."""
    import yaml

    from ballot_vision.synth.generate import DIFFICULTIES, SynthError, default_jobs, generate

    if difficulty not in DIFFICULTIES:
        raise fail(f"--difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}", ExitCode.BAD_ARGS)
    forced = {}
    for item in force:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"--force takes KEY=VALUE, got {item!r}", ExitCode.BAD_ARGS)
        forced[key.strip()] = yaml.safe_load(value)  # numbers, true/false and strings as written
    _templates_or_fail(templates)
    step = max(1, n // 20)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            typer.echo(f"{done}/{total}", err=True)

    try:
        truth = generate(n, out, seed=seed, difficulty=difficulty, template_dir=templates, jobs=jobs or default_jobs(), progress=progress, forced=forced)
    except SynthError as exc:
        raise fail(str(exc), ExitCode.BAD_ARGS) from exc
    except OSError as exc:
        raise fail(f"{out}: cannot write: {exc.strerror or exc}", ExitCode.CANNOT_RUN) from exc
    typer.echo(f"{n} photos and {truth}")


if __name__ == "__main__":  # pragma: no cover
    app()
