"""Recognise the back of a ballot and whether the issuing member signed it.

The back carries one structure: a long printed line with the label "signature of the
member of the precinct commission who issued the ballot" (Kazakh and Russian) beside it.
We look for long thin straight lines, read the text next to each (both sides of the line,
so a photo upside down is read too) and match the label's words. The signature is then
the pen ink along the line.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..config import Config
from ..imaging import relative_darkness, to_gray
from ..ocr import keyword_score, read_text
from ..results import Signature
from .score import stroke_length_px

#: Words of the signature label ("signature", "commission", "who issued").
LABEL_WORDS = ("ПОДПИСЬ", "КОМИССИИ", "ВЫДАВШЕГО", "УЧАСТКОВОЙ", "КОМИССИЯСЫ", "МҮШЕСІНІҢ", "БЕРГЕН")
#: A signature line is at least this share of the photo's long side.
MIN_LINE_FRACTION = 0.12
#: Pen stroke length along the line, as a share of the line's length, for present/absent.
SIGNATURE_PRESENT = 0.45
SIGNATURE_ABSENT = 0.12
#: Resolution of the rectified strips: the line becomes this many pixels long.
STRIP_LINE_PX = 700


@dataclass(frozen=True)
class BackReading:
    is_back: bool
    signature: Signature
    label_text: str = ""
    # Whether the text around the lines looked like a ballot at all (front we failed on).
    ballot_words: float = 0.0


def _long_thin_lines(gray: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Long straight thin dark segments, longest first, as (p0, p1) pixel pairs."""
    long_side = max(gray.shape)
    dark = relative_darkness(gray, kernel_px=max(7, long_side // 150))
    ink = (dark > 0.25).astype(np.uint8) * 255
    min_len = MIN_LINE_FRACTION * long_side
    segments = cv2.HoughLinesP(ink, 1, np.pi / 360, threshold=int(min_len * 0.6),
                               minLineLength=min_len, maxLineGap=max(3, long_side // 300))
    if segments is None:
        return []
    found: list[tuple[float, np.ndarray, np.ndarray]] = []
    for x0, y0, x1, y1 in segments.reshape(-1, 4):
        p0, p1 = np.float32([x0, y0]), np.float32([x1, y1])
        length = float(np.linalg.norm(p1 - p0))
        if any(_same_line(p0, p1, q0, q1) for _, q0, q1 in found):
            continue
        found.append((length, p0, p1))
    found.sort(key=lambda f: -f[0])
    return [(p0, p1) for _, p0, p1 in found[:4]]


def _same_line(p0, p1, q0, q1) -> bool:
    d = p1 - p0
    n = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
    return abs(float((q0 - p0) @ n)) < 6 and abs(float((q1 - p0) @ n)) < 6


def _strip(bgr: np.ndarray, p0: np.ndarray, p1: np.ndarray, *, along: tuple[float, float],
           across: tuple[float, float], flip: bool) -> np.ndarray:
    """Rectify a strip in the line's frame; units are line lengths. ``flip`` reads it upside down."""
    u = p1 - p0
    length = float(np.linalg.norm(u))
    u = u / length
    n = np.array([-u[1], u[0]], dtype=np.float32)  # "down" of the line's frame
    if flip:
        u, n = -u, -n
        p0 = p1
    scale = STRIP_LINE_PX / length
    w = int((along[1] - along[0]) * STRIP_LINE_PX)
    h = int((across[1] - across[0]) * STRIP_LINE_PX)
    origin = p0 + u * along[0] * length + n * across[0] * length
    src = np.float32([origin, origin + u * w / scale, origin + u * w / scale + n * h / scale])
    dst = np.float32([[0, 0], [w, 0], [w, h]])
    m = cv2.getAffineTransform(src, dst)
    return cv2.warpAffine(bgr, m, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def _signature(bgr: np.ndarray, p0: np.ndarray, p1: np.ndarray, flip: bool) -> Signature:
    """Pen strokes just above the line (and crossing it), relative to the line's length."""
    strip = _strip(bgr, p0, p1, along=(0.0, 1.0), across=(-0.14, 0.04), flip=flip)
    gray = to_gray(strip)
    dark = relative_darkness(gray, kernel_px=25)
    ink = dark > 0.2
    h = ink.shape[0]
    line_row = int(round(0.14 / 0.18 * h))
    ink[max(0, line_row - 6):line_row + 7] = False  # the printed line itself
    length = stroke_length_px(ink) / STRIP_LINE_PX
    if length >= SIGNATURE_PRESENT:
        return Signature.PRESENT
    if length <= SIGNATURE_ABSENT:
        return Signature.ABSENT
    return Signature.UNKNOWN


def read_back(bgr: np.ndarray, config: Config) -> BackReading:
    """Decide whether a photo (with no option table found) shows a ballot's back."""
    if not config.ocr.enabled:
        return BackReading(False, Signature.UNKNOWN)
    gray = to_gray(bgr)
    best_ballot = 0.0
    for p0, p1 in _long_thin_lines(gray)[:3]:
        for flip in (False, True):
            # The label sits above the line, left of it or centred on the page.
            strip = _strip(bgr, p0, p1, along=(-1.0, 1.1), across=(-0.42, -0.02), flip=flip)
            text = read_text(to_gray(strip), languages=config.ocr.languages).text
            # Two words of the label, not one: single words recur on a front's instruction.
            label = sorted((keyword_score(text, w) for w in LABEL_WORDS), reverse=True)[:2]
            best_ballot = max(best_ballot, keyword_score(text, "БЮЛЛЕТЕНЬ"))
            if min(label) >= 0.8:
                return BackReading(True, _signature(bgr, p0, p1, flip), text, best_ballot)
    return BackReading(False, Signature.NOT_APPLICABLE, "", best_ballot)
