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


if __name__ == "__main__":  # pragma: no cover
    app()
