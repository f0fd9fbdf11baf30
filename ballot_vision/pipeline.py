"""One photo in, one :class:`PhotoResult` out: the stages in order.

``read_photo`` never raises for a bad photo: any failure becomes a row with
``decision=error`` and a clear ``error`` text, so a batch never loses work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from . import debug
from .config import Config, load_config
from .deblur import blur_hypotheses
from .ocr import KEYWORD_MATCH
from .results import Decision, PhotoResult, Reason, Side, Signature
from .stages.back import BackReading, read_back
from .stages.sheet import find_sheet
from .stages.decide import FrontEvidence, decide_front
from .stages.identify import candidate_fits, choose_template, layout_matches, print_stretch, reads_as_party_row
from .stages.locate import TableObservation, locate_table
from .stages.quality import edge_width_px, sheet_blur_mm
from .stages.score import border_blur_mm, border_blur_variance, glare, score_squares, sharpness
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
    try:
        result = analyse(photo.bgr, name=name, context=context)
    except Exception as exc:  # noqa: BLE001 - one bad photo must never stop a batch
        result = PhotoResult(file=name, decision=Decision.ERROR,
                             error=f"internal error while reading the photo: {type(exc).__name__}: {exc}")
    return replace(result, sha256=photo.sha256, width_px=photo.original_size[0],
                   height_px=photo.original_size[1], ms=(time.perf_counter() - started) * 1000)


def analyse(bgr: np.ndarray, *, name: str, context: PipelineContext) -> PhotoResult:
    """Run the vision stages on a loaded photo.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray, upright (EXIF applied).
    """
    config = context.config
    # Read at most once: the front stage may ask first (see _read_front).
    back_reading = cache(lambda: read_back(bgr, config))
    observation = locate_table(bgr)
    if observation:
        fits = candidate_fits(observation, context.templates, bgr.shape)
        if fits:
            front = _read_front(bgr, fits, observation, name=name, context=context, back_reading=back_reading)
            if front is not None:
                return front
    back = back_reading()
    # A ruled column of party names whose squares are out of frame or covered: a front, even
    # where its rules look like a back's signature line on a blank page.
    names_only = not observation and not back.confirmed and reads_as_party_row(bgr, observation.cells, config)
    if back.is_back and not names_only:
        reasons: tuple[Reason, ...] = ()
        if back.signature == Signature.ABSENT:
            reasons = (Reason.SIGNATURE_MISSING,)
        elif back.signature == Signature.UNKNOWN:
            reasons = (Reason.SIGNATURE_UNKNOWN,)
        if not back.confirmed:
            # A signature line on a blank page, but its label could not be read.
            reasons += (Reason.BALLOT_UNCONFIRMED,)
        result = PhotoResult(file=name, side=Side.BACK, decision=Decision.BACK,
                             confidence=config.confidence.back_confirmed if back.confirmed
                             else config.confidence.back_unconfirmed, signature=back.signature,
                             reasons=reasons, needs_review=back.signature == Signature.UNKNOWN or not back.confirmed,
                             extras={"ballot_confirmed": _flag(back.confirmed)})
    elif observation or names_only or back.ballot_words >= KEYWORD_MATCH:
        # Ballot structure or words, but no readable front: a person must look.
        result = PhotoResult(file=name, side=Side.FRONT if names_only else Side.UNKNOWN,
                             decision=Decision.UNREADABLE, confidence=config.confidence.unreadable_structure,
                             needs_review=True, reasons=(Reason.UNREADABLE,)
                             + ((Reason.SQUARE_NOT_VISIBLE,) if names_only else ()))
    elif (sheet := find_sheet(bgr)) is not None and sheet.may_be_back:
        # Nothing sharp enough to read, but the outline and layout of a back (blank page,
        # print at one end), or a blank sheet cut by the frame: too likely a back to be
        # dismissed as "not a ballot".
        result = PhotoResult(file=name, side=Side.BACK, decision=Decision.BACK,
                             confidence=config.confidence.back_sheet_only,
                             signature=Signature.UNKNOWN, needs_review=True,
                             reasons=(Reason.SIGNATURE_UNKNOWN, Reason.BALLOT_UNCONFIRMED),
                             extras={"ballot_confirmed": "false", "confirmed_by": "",
                                     "found_by": "sheet" if sheet.blank_middle else "sheet_cut_by_frame"})
    else:
        # "No ballot" is known only where a ballot's print would have been sharp enough to find.
        width = edge_width_px(bgr)
        blurred = not width <= config.review.max_edge_width_not_ballot  # NaN: no edges to tell by
        extras = {"edge_width_px": f"{width:.2f}"}
        if sheet is not None and sheet.corners is not None:
            # A sheet small in the photo is judged at its own scale, taking it for the largest
            # paper: a smaller sheet's blur comes out overstated, which errs towards review.
            paper_mm = max((t.paper_h for t in context.templates.values()), default=297.0)
            sheet_blur = sheet_blur_mm(bgr, sheet.corners, long_side_mm=paper_mm)
            blurred = blurred or not sheet_blur <= config.review.max_sheet_blur_mm_not_ballot
            extras["sheet_blur_mm"] = f"{sheet_blur:.2f}"
        result = PhotoResult(file=name, decision=Decision.NOT_BALLOT,
                             confidence=config.confidence.not_ballot_blurred if blurred else config.confidence.not_ballot,
                             reasons=(Reason.NOT_BALLOT,) + ((Reason.BLUR,) if blurred else ()), needs_review=blurred,
                             extras=extras)
    return _finish(context, bgr, result)


def _read_front(bgr: np.ndarray, fits: list, observation: TableObservation, *, name: str,
                context: PipelineContext, back_reading: Callable[[], BackReading]) -> PhotoResult | None:
    """Score, identify and decide a located front; None when this is no front after all.

    ``back_reading``: the photo read as a back (see :func:`~ballot_vision.stages.back.read_back`),
    asked only where the table may be a back's.
    """
    config = context.config
    template, registration = fits[0]
    cells = score_squares(bgr, registration)
    frames_mm = [c.printed_mm for c in cells if c.printed_mm is not None]
    stretch = print_stretch(frames_mm)
    layout_ok = config.review.confirm_by_layout and layout_matches(observation, template, registration, frames_mm,
                                                                   bgr, stretch=stretch)
    spread = border_blur_variance(cells)
    identified = choose_template(bgr, fits, config, stretch=stretch, layout_ok=layout_ok,
                                 squares_found=tuple(c.printed_mm is not None for c in cells),
                                 blurs=tuple(blur_hypotheses(spread)) if spread is not None else (),
                                 table_cut=observation.cut_above or observation.cut_below,
                                 marked=tuple(not c.score.visible or c.score.score >= config.marks.marginal
                                              for c in cells))
    if not identified:
        if identified.not_ballot:
            return _finish(context, bgr, PhotoResult(file=name, decision=Decision.NOT_BALLOT,
                                                     confidence=config.confidence.not_ballot,
                                                     reasons=(Reason.NOT_BALLOT,)))
        return None
    if not any(c.score.visible for c in cells):
        # Cell-like shapes with no printed square in any of them and no ballot text: not a
        # front we can vouch for (a back's stamp or a background paper); look for a back.
        if not identified.confirmed:
            return None
        # With ballot text, it may still be a back's: its label says "ballot", and a close-up
        # of the signature line with the signature's strokes across it made a two-row
        # "table" (make eval seed 800942543, IMG_00136). A back's label read there says so.
        back = back_reading()
        if back.is_back and back.confirmed:
            return None
    # Scored again unless the chosen form puts the same table in the same place (a form
    # with the same rows, where only the title differs).
    if identified.template.table != template.table or not np.array_equal(identified.registration.photo_to_mm,
                                                                          registration.photo_to_mm):
        cells = score_squares(bgr, identified.registration)
    registration = identified.registration
    evidence = FrontEvidence(
        squares=tuple(c.score for c in cells),
        registration=registration.quality,
        sharpness=sharpness(cells),
        glare=glare(cells),
        blur_mm=border_blur_mm(cells),
        template_certain=identified.certain,
        ballot_confirmed=identified.confirmed,
        open_options=identified.open_options,
    )
    verdict = decide_front(evidence, config)
    result = PhotoResult(
        file=name,
        side=Side.FRONT,
        template=identified.template.id,
        decision=verdict.decision,
        party=verdict.party,
        confidence=verdict.confidence,
        needs_review=verdict.needs_review,
        reasons=verdict.reasons,
        squares=evidence.squares,
        rotation_deg=int(round(observation.rotation_deg)) % 360,
        registration=evidence.registration,
        sharpness=evidence.sharpness,
        blur_mm=evidence.blur_mm,
        glare=evidence.glare,
        extras={"template_certain": _flag(identified.certain), "ballot_confirmed": _flag(identified.confirmed),
                **({"open_options": ",".join(identified.open_options)} if identified.open_options else {}),
                "confirmed_by": identified.confirmed_by, **({"tentative": verdict.tentative} if verdict.tentative else {}),
                **({"title_restored": identified.restored_by.label} if identified.restored_by else {}),
                **({"square_column": f"{registration.square_column:.2f}"}
                   if registration.square_column is not None else {})},
    )
    if context.debug_dir is not None:
        debug.write(debug.debug_path(context.debug_dir, name), debug.draw_front(bgr, registration, cells, result))
    return result


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _finish(context: PipelineContext, bgr: np.ndarray, result: PhotoResult) -> PhotoResult:
    if context.debug_dir is not None:
        debug.write(debug.debug_path(context.debug_dir, result.file), debug.draw_photo(bgr, result))
    return result
