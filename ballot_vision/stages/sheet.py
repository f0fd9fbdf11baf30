"""Find a sheet of paper when nothing printed on it could be read.

The table and signature-line finders need some sharp structure. A heavily blurred back
keeps only its outline: a bright, plain rectangle of A4 proportions, blank in the middle
with a smudge (the label and line) at one end. Rather than call such a photo "not a
ballot" with confidence, the pipeline sends it to review as a possible back. Full pages
of text (documents) and sheets with print in their middle (forms) are not backs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..imaging import chroma, relative_darkness, resize_long_side, to_gray

#: Working size: a sheet's outline needs no detail.
WORK_LONG_SIDE_PX = 480
#: Brightness cuts tried, as steps from Otsu's threshold towards white.
THRESHOLD_STEPS = (0.0, 0.1, 0.2)
#: Paper is at most this colourful (Lab chroma): wood, cloth and skin are more.
PAPER_CHROMA = 30.0
#: A sheet covers this share of the photo (a whole-frame bright area is a wall or a screen).
AREA = (0.05, 0.92)
#: Long side / short side: A4 and A5 are 1.41; perspective and a fold change it a little.
ASPECT = (1.2, 1.7)
#: Outline area / its bounding rectangle (a sheet is a convex quadrilateral).
FILL = 0.85
SOLIDITY = 0.93
#: Darkness (relative to the paper) that counts as ink on the rectified page.
INK_DARKNESS = 0.12
#: A back's middle third is blank (below this ink share) and something is printed at an end.
BLANK_MIDDLE = 0.01
SOME_INK = 0.005


@dataclass(frozen=True)
class SheetObservation:
    """A plain sheet of paper in the photo.

    corners : (4, 2) float32, photo px, clockwise from a corner of a short side.
    area_share : share of the photo the sheet covers.
    thirds_ink : ink share of the page's three thirds along its long side.
    """

    corners: np.ndarray
    area_share: float
    thirds_ink: tuple[float, float, float]

    @property
    def blank_middle(self) -> bool:
        """Blank in the middle, print at an end: a back's layout (label and signature line)."""
        ends = max(self.thirds_ink[0], self.thirds_ink[2])
        return self.thirds_ink[1] < BLANK_MIDDLE and ends >= SOME_INK


def find_sheet(bgr: np.ndarray) -> SheetObservation | None:
    """The largest plain, sheet-shaped bright region of the photo, or None.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray, the photo.
    """
    small, scale = resize_long_side(bgr, WORK_LONG_SIDE_PX)
    gray = to_gray(small)
    smooth = cv2.GaussianBlur(gray, (0, 0), 3)
    otsu, _ = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper_coloured = chroma(small) < PAPER_CHROMA
    best = None
    # Otsu's split first; a shadow or a light background joins the sheet to its
    # surroundings there, and a brighter cut separates them again.
    for step in THRESHOLD_STEPS:
        threshold = otsu + step * (255 - otsu)
        mask = ((smooth > threshold) & paper_coloured).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            if _sheet_shaped(contour, mask.size) and (best is None or cv2.contourArea(contour) > cv2.contourArea(best)):
                best = contour
    if best is None:
        return None
    corners = _portrait_corners(cv2.boxPoints(cv2.minAreaRect(best)))
    thirds = _thirds_ink(gray, corners)
    return SheetObservation(corners / scale, cv2.contourArea(best) / gray.size, thirds)


def _sheet_shaped(contour: np.ndarray, image_area: int) -> bool:
    """A convex quadrilateral of sheet proportions covering a plausible share of the photo."""
    area = cv2.contourArea(contour)
    if not AREA[0] <= area / image_area <= AREA[1]:
        return False
    (_, _), (w, h), _ = cv2.minAreaRect(contour)
    if min(w, h) < 1 or not ASPECT[0] <= max(w, h) / min(w, h) <= ASPECT[1]:
        return False
    return area / (w * h) >= FILL and area / max(cv2.contourArea(cv2.convexHull(contour)), 1.0) >= SOLIDITY


def _portrait_corners(box: np.ndarray) -> np.ndarray:
    """(4, 2) corners ordered so that the first edge is a short side."""
    box = np.asarray(box, dtype=np.float32)
    if np.linalg.norm(box[1] - box[0]) > np.linalg.norm(box[2] - box[1]):
        box = np.roll(box, -1, axis=0)
    return box


def _thirds_ink(gray: np.ndarray, corners: np.ndarray) -> tuple[float, float, float]:
    """Ink share of the rectified page's thirds along its long side (margins left out)."""
    width = int(np.linalg.norm(corners[1] - corners[0]))
    height = int(np.linalg.norm(corners[2] - corners[1]))
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    page = cv2.warpPerspective(gray, cv2.getPerspectiveTransform(corners, target), (width, height))
    margin = max(1, int(0.06 * width))
    page = page[margin:height - margin, margin:width - margin]
    if page.size == 0:
        return (0.0, 0.0, 0.0)
    ink = relative_darkness(page, kernel_px=15) > INK_DARKNESS
    thirds = np.array_split(ink, 3, axis=0)
    return tuple(float(t.mean()) if t.size else 0.0 for t in thirds)  # type: ignore[return-value]
