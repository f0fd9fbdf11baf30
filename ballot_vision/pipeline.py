"""One photo in, one :class:`PhotoResult` out: the stages in order.

``read_photo`` never raises for a bad photo: any failure becomes a row with
``decision=error`` and a clear ``error`` text, so a batch never loses work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .config import Config, load_config
from .results import Decision, PhotoResult
from .templates import Template, load_templates


@dataclass(frozen=True)
class PipelineContext:
    """Everything a worker needs besides the photo; small and picklable."""

    config: Config
    templates: dict[str, Template]
    debug_dir: Path | None = None

    @classmethod
    def default(cls, *, config_path: str | Path | None = None, template_dir: str | Path | None = None,
                debug_dir: str | Path | None = None) -> PipelineContext:
        return cls(
            config=load_config(config_path),
            templates=load_templates(template_dir),
            debug_dir=Path(debug_dir) if debug_dir else None,
        )


def relative_name(path: Path, root: Path) -> str:
    """The photo's name relative to the input folder, with forward slashes."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def read_photo(path: str | Path, *, root: str | Path, context: PipelineContext) -> PhotoResult:
    """Read one photo into a result row. Never raises for a bad photo."""
    from .stages.load import LoadError, load_photo

    path, root = Path(path), Path(root)
    name = relative_name(path, root)
    started = time.perf_counter()
    try:
        photo = load_photo(path, limits=context.config.load)
    except LoadError as exc:
        return PhotoResult(file=name, sha256=exc.sha256, decision=Decision.ERROR, error=str(exc),
                           ms=(time.perf_counter() - started) * 1000)
    # The reading stages are added by the reading-pipeline work (issue 3).
    return PhotoResult(file=name, sha256=photo.sha256, decision=Decision.UNREADABLE,
                       width_px=photo.original_size[0], height_px=photo.original_size[1],
                       ms=(time.perf_counter() - started) * 1000)
