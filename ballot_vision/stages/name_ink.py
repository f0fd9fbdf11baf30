"""Tell forms that list different parties apart by how much print each row's name holds.

A maslikhat ballot of three or four rows may list Ak Zhol, Auyl or the People's Party
beside Nur Otan and ADAL: only the row names tell those forms apart, and a blurred name
reads as nothing Tesseract can use. But blur moves ink, it does not remove it: the
darkness summed over a name cell stays what the print put there, and that grows with the
name's length (letters, in both languages), whatever the typeface. Auyl's names hold 89
letters, Nur Otan's 28, so a blurred row still says which of the two it is. How fast ink
grows with length depends on how the printer set long names (smaller, to fit the cell),
so each photo's own rows fit it (see :func:`fit_name_lengths`).

The evidence is used only where it is strong: the rows measured must follow one form's
name lengths closely (:data:`MAX_FIT_RMS`: a fold across a name, a finger or print that
follows no form leave the forms as they were) and the others clearly worse
(:data:`MIN_FIT_GAP`). Names of about the same length (Ak Zhol's 74 letters and Auyl's 89)
stay undecided.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..imaging import paper_level, to_gray
from ..ocr import normalise
from ..templates import Option, Rect, Template
from .register import Registration, in_photo, rectify

#: Resolution the name cells are measured at: letters need not be legible, only their ink.
INK_PX_PER_MM = 4.0
#: The cell is measured this far inside its rules (mm), which blur spreads into the cell.
RULE_MARGIN_MM = 1.5
#: Paper level: a closing wider than a name's lines blurred into one block (mm).
PAPER_KERNEL_MM = 24.0
#: Smoothing before the paper level is taken (Gaussian sigma, mm).
NOISE_SIGMA_MM = 0.75
#: Rows with less ink than this (mean darkness above the cell's own paper) measured nothing.
MIN_INK = 0.002
#: At least this many rows measured: a scale is fitted, and what is left must still test it.
MIN_ROWS = 3
#: Range of the exponent of name length that ink follows (see :func:`fit_name_lengths`).
LENGTH_EXPONENT = (0.3, 1.2)
#: The best form's RMS residual, in natural-log units of ink (0.15: within about 16 % a
#: row), at most: beyond it the rows do not follow name lengths at all.
MAX_FIT_RMS = 0.15
#: A form stays possible while its squared log residuals sum to at most this much more than
#: the best form's. One row of a long name against a short one (Auyl's 89 letters against
#: Nur Otan's 28, at an exponent of 0.7) adds about 0.5; Ak Zhol's 74 against Auyl's, 0.02.
MIN_FIT_GAP = 0.2


def name_length(option: Option) -> int:
    """Letters in an option's names, both languages (what its name cell's ink follows)."""
    return len(normalise(f"{option.kaz} {option.rus}").replace(" ", ""))


def name_ink(bgr: np.ndarray, registration: Registration) -> np.ndarray:
    """Ink in each row's name cell: mean darkness above the cell's own paper level.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray, the photo.
    registration : the table's fit; rows placed beyond the seen ones (see
        :meth:`Registration.placed_between_seen`), or whose name cell runs out of the
        photo, are not measured.

    Returns
    -------
    ink : (R,) float ndarray, one per option of the registration's template; NaN where not
        measured. Unitless (0 blank paper, 1 solid black).
    """
    ink = np.full(len(registration.template.options), np.nan)
    pad = RULE_MARGIN_MM
    for index in range(len(ink)):
        if not registration.placed_between_seen(index):
            continue
        cell = registration.name_cell(index)
        if not in_photo(cell, registration.photo_to_mm, bgr.shape):
            continue
        inner = Rect(cell.x + pad, cell.y + pad, cell.w - 2 * pad, cell.h - 2 * pad)
        # Measured with paper all round it: the level is known at the cell's edges, and a
        # blurred name, smeared into one dark block, is narrower than the closing.
        m_mm = PAPER_KERNEL_MM / 2
        patch = to_gray(rectify(bgr, registration.photo_to_mm,
                                Rect(inner.x - m_mm, inner.y - m_mm, inner.w + 2 * m_mm, inner.h + 2 * m_mm),
                                px_per_mm=INK_PX_PER_MM))
        # Smoothed first: the closing rides the noise's peaks, and on a noisy photo that
        # bias, the same over every cell, outweighs a short name's ink. Smoothing moves
        # no ink.
        patch = cv2.GaussianBlur(patch, (0, 0), NOISE_SIGMA_MM * INK_PX_PER_MM)
        level = paper_level(patch, kernel_px=int(PAPER_KERNEL_MM * INK_PX_PER_MM))
        m = int(round(m_mm * INK_PX_PER_MM))
        # Not clipped at the paper: what noise is left averages out instead of adding up.
        dark = (1.0 - patch.astype(np.float32) / level)[m:patch.shape[0] - m, m:patch.shape[1] - m]
        ink[index] = float(dark.mean())
    return ink


def _measured(ink: np.ndarray) -> np.ndarray:
    """(R,) bool: the rows whose ink was measured (NaN compares false)."""
    return ink > MIN_INK


@dataclass(frozen=True)
class LengthFit:
    """How one form's name lengths explain the ink measured in its rows."""

    #: Sum of squared residuals, natural-log units of ink, the exponent kept within
    #: ``LENGTH_EXPONENT``.
    sse: float
    #: The exponent the rows alone fit (not kept within the range): below the range the ink
    #: does not follow this form's lengths (flat, or the other way round).
    exponent: float


def fit_name_lengths(ink: np.ndarray, templates: list[Template]) -> list[LengthFit] | None:
    """How well each form's name lengths explain ``ink``.

    Ink is modelled as ``scale * length ** exponent``: the scale is the paper, lighting and
    print weight, and the exponent how the printer set long names (a smaller type to fit
    the cell puts less ink per letter). Fitted by least squares on logarithms; the
    residuals are taken with the exponent kept within ``LENGTH_EXPONENT``, which never
    turns the lengths' order round: a long name's row stays the darker.

    Parameters
    ----------
    ink : (R,) float ndarray from :func:`name_ink` (NaN rows are left out).
    templates : forms with R rows each.

    Returns
    -------
    fits : one per template; None where fewer than ``MIN_ROWS`` rows were measured.
    """
    rows = _measured(ink)
    if rows.sum() < MIN_ROWS:
        return None
    measured = np.log(ink[rows])
    measured -= measured.mean()
    fits = []
    for template in templates:
        expected = np.log([name_length(o) for o in template.options])[rows]
        expected -= expected.mean()
        spread = float(np.sum(expected ** 2))
        exponent = float(np.sum(expected * measured) / spread) if spread > 0 else 1.0
        kept = float(np.clip(exponent, *LENGTH_EXPONENT))
        fits.append(LengthFit(float(np.sum((measured - kept * expected) ** 2)), exponent))
    return fits


def forms_by_name_ink(ink: np.ndarray, templates: list[Template]) -> list[int]:
    """Indices of ``templates`` the rows' ink leaves possible (all of them where it is no evidence).

    A form is ruled out only where the best form follows the measured rows (an exponent
    within ``LENGTH_EXPONENT``, residuals within ``MAX_FIT_RMS`` a row) and this one's
    squared residuals exceed the best's by ``MIN_FIT_GAP`` or more.
    """
    everything = list(range(len(templates)))
    fits = fit_name_lengths(ink, templates)
    if fits is None or len(templates) < 2:
        return everything
    measured = int(_measured(ink).sum())
    best = min(fits, key=lambda f: f.sse)
    low, high = LENGTH_EXPONENT
    # (Rows of nearly the same ink, a flat fit, would leave every form's residuals small.)
    if not low <= best.exponent <= high or np.sqrt(best.sse / measured) > MAX_FIT_RMS:
        return everything
    return [i for i in everything if fits[i].sse - best.sse < MIN_FIT_GAP]
