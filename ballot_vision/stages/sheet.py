"""Find a sheet of paper when nothing printed on it could be read.

The table and signature-line finders need some sharp structure. A heavily blurred back
keeps only its outline: a bright, plain rectangle of A4 proportions, blank in the middle
with a smudge (the label and line) at one end. Rather than call such a photo "not a
ballot" with confidence, the pipeline sends it to review as a possible back. Full pages
of text (documents) and sheets with print in their middle (forms) are not backs.

A sheet photographed at a slant is a quadrilateral, not a rectangle, so its outline is
fitted with four corners. A sheet cut by the photo's frame may have no such outline, or
one of its part in frame only: where that part is plain paper, almost blank, it may be the
part of a back away from its label, and is not dismissed either.
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
#: Only where those give no sheet: a darker cut, this share of the way from Otsu's
#: threshold down to the mean brightness below it (the background's), takes in the part of
#: a sheet a hard shadow darkens; and an opening this wide (share of the working long side)
#: cuts off a finger or a corner of another paper joining it. The darker cut takes in grey
#: walls and tables too, and a plain one at the frame's edge then goes to review as a
#: possible back: a back dismissed as no ballot is a silent error, another picture looked
#: at is not (make eval, 15 sets, photos read as no ballot without review: 2 of 16 backs
#: found by it, a shadow across a sheet the frame cuts, and 5 of 813 other pictures).
SHADOW_CUT = 0.5
OPENING = 0.04
#: Paper is at most this colourful (Lab chroma): wood, cloth and skin are more.
PAPER_CHROMA = 30.0
#: A sheet covers this share of the photo (a whole-frame bright area is a wall or a screen).
AREA = (0.05, 0.92)
#: Long side / short side (means of opposite sides): A4 and A5 are 1.41; perspective and a
#: fold change it a little.
ASPECT = (1.15, 1.75)
#: Outline area / the area of its four-cornered fit (a sheet is a convex quadrilateral), or
#: where four corners do not fit it (a corner clipped by the frame or a finger), of its
#: smallest bounding rectangle.
FILL = 0.93
RECT_FILL = 0.85
SOLIDITY = 0.93
#: A sheet cut by the frame: at least this share of the photo (smaller bright patches at
#: the edge are a lamp's reflection or a wall), plain (solidity) and nearly blank.
CUT_AREA = (0.1, 0.7)
CUT_SOLIDITY = 0.95
CUT_MAX_INK = 0.03
#: Contour points this close to the photo's edge (working px) touch the frame.
EDGE_PX = 2
#: Darkness (relative to the paper) that counts as ink on the rectified page.
INK_DARKNESS = 0.12
#: A back's middle third is blank (below this ink share) and something is printed at an end.
BLANK_MIDDLE = 0.01
SOME_INK = 0.005


@dataclass(frozen=True)
class SheetObservation:
    """A plain sheet of paper in the photo.

    corners : (4, 2) float32, photo px, in order round the outline from a corner of a short
        side; None for a sheet cut by the frame past fitting.
    area_share : share of the photo the sheet (its part in frame) covers.
    thirds_ink : ink share of the page's three thirds along its long side (None without corners).
    ink : ink share of its part in frame.
    touches_frame : the photo's edge cuts it (its outline fitted or not).
    """

    corners: np.ndarray | None
    area_share: float
    thirds_ink: tuple[float, float, float] | None
    ink: float
    touches_frame: bool

    @property
    def cut_by_frame(self) -> bool:
        return self.corners is None

    @property
    def blank_middle(self) -> bool:
        """Blank in the middle, print at an end: a back's layout (label and signature line)."""
        if self.thirds_ink is None:
            return False
        ends = max(self.thirds_ink[0], self.thirds_ink[2])
        return self.thirds_ink[1] < BLANK_MIDDLE and ends >= SOME_INK

    @property
    def may_be_back(self) -> bool:
        """A back's layout, or a nearly blank sheet the frame cuts: its printed end may be
        the part out of frame (four corners may still fit what is left of it). Nearly blank
        inside its margins is enough: the frame may cut the label's first line, leaving it
        along the sheet's edge (make eval seed 3916027458, hard, IMG_00019: a back whose
        label showed only there was dismissed as no ballot without review)."""
        inside_blank = self.thirds_ink is not None and max(self.thirds_ink) < BLANK_MIDDLE
        return self.blank_middle or (self.touches_frame and (self.ink <= CUT_MAX_INK or inside_blank))


def find_sheet(bgr: np.ndarray) -> SheetObservation | None:
    """The largest plain, sheet-shaped bright region of the photo, or None.

    A sheet four corners fit (wholly in frame, or its part in frame of sheet proportions)
    is preferred to a bright region at the frame's edge they do not fit (which may be a wall).

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray, the photo.
    """
    small, scale = resize_long_side(bgr, WORK_LONG_SIDE_PX)
    gray = to_gray(small)
    smooth = cv2.GaussianBlur(gray, (0, 0), 3)
    otsu, _ = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper_coloured = chroma(small) < PAPER_CHROMA
    whole: tuple[float, np.ndarray, np.ndarray] | None = None  # area, corners, outline
    cut: tuple[float, np.ndarray] | None = None
    # Otsu's split first; a shadow or a light background joins the sheet to its
    # surroundings there, and a brighter cut separates them again. Where none gives a
    # sheet, a darker cut and an opening (see SHADOW_CUT): a hard shadow across a sheet
    # splits it at every cut above, and a finger on its edge spoils its outline.
    opening = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(OPENING * max(gray.shape)) | 1,) * 2)
    below = smooth[smooth <= otsu]
    shadow = otsu - SHADOW_CUT * (otsu - float(below.mean())) if below.size else otsu
    usual = tuple((otsu + step * (255 - otsu), False) for step in THRESHOLD_STEPS)
    fallback = ((shadow, False), (shadow, True)) + tuple((threshold, True) for threshold, _ in usual)
    for cuts in (usual, fallback):
        for threshold, opened in cuts:
            mask = ((smooth > threshold) & paper_coloured).astype(np.uint8)
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
            if opened:
                mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, opening)
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            for contour in contours:
                area = cv2.contourArea(contour)
                if (corners := _sheet_corners(contour, mask.size)) is not None:
                    if whole is None or area > whole[0]:
                        whole = (area, corners, contour)
                elif _touches_frame(contour, mask.shape) and _cut_sheet_shaped(contour, mask.size):
                    if cut is None or area > cut[0]:
                        cut = (area, contour)
        if whole is not None or cut is not None:
            break
    if whole is not None:
        area, corners, outline = whole
        corners = _portrait_corners(corners)
        return SheetObservation(corners / scale, area / gray.size, _thirds_ink(gray, corners),
                                _region_ink(gray, outline), _touches_frame(outline, gray.shape))
    if cut is not None:
        return SheetObservation(None, cut[0] / gray.size, None, _region_ink(gray, cut[1]), True)
    return None


def _touches_frame(contour: np.ndarray, shape: tuple[int, ...]) -> bool:
    points = contour.reshape(-1, 2)
    h, w = shape[:2]
    return bool(((points.min(axis=1) < EDGE_PX) | (points[:, 0] >= w - 1 - EDGE_PX)
                 | (points[:, 1] >= h - 1 - EDGE_PX)).any())


def _quadrilateral(hull: np.ndarray) -> np.ndarray | None:
    """(4, 2) float32 corners of a convex outline, in order round it, or None when four
    corners do not describe it (the coarsest simplification still keeps more)."""
    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.01, 0.015, 0.02, 0.03, 0.04, 0.05):
        approx = cv2.approxPolyDP(hull, tolerance * perimeter, True)
        if len(approx) <= 4:
            return approx.reshape(4, 2).astype(np.float32) if len(approx) == 4 else None
    return None


def _sheet_corners(contour: np.ndarray, image_area: int) -> np.ndarray | None:
    """A convex quadrilateral of sheet proportions covering a plausible share of the photo:
    its (4, 2) corners, or None."""
    area = cv2.contourArea(contour)
    if not AREA[0] <= area / image_area <= AREA[1]:
        return None
    hull = cv2.convexHull(contour)
    if area / max(cv2.contourArea(hull), 1.0) < SOLIDITY:
        return None
    corners = _quadrilateral(hull)
    if corners is None or area / max(cv2.contourArea(corners), 1.0) < FILL:
        corners = cv2.boxPoints(cv2.minAreaRect(contour)).astype(np.float32)
        if area / max(cv2.contourArea(corners), 1.0) < RECT_FILL:
            return None
    sides = np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1)
    a, b = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    if min(a, b) < 1 or not ASPECT[0] <= max(a, b) / min(a, b) <= ASPECT[1]:
        return None
    return corners


def _cut_sheet_shaped(contour: np.ndarray, image_area: int) -> bool:
    """A plain bright region at the frame's edge, large enough to be part of a sheet."""
    area = cv2.contourArea(contour)
    if not CUT_AREA[0] <= area / image_area <= CUT_AREA[1]:
        return False
    return area / max(cv2.contourArea(cv2.convexHull(contour)), 1.0) >= CUT_SOLIDITY


def _region_ink(gray: np.ndarray, contour: np.ndarray) -> float:
    """Ink share inside ``contour``, its rim left out (the sheet's edge is no ink)."""
    inside = np.zeros(gray.shape, np.uint8)
    cv2.drawContours(inside, [contour], -1, 1, thickness=-1)
    inside = cv2.erode(inside, np.ones((9, 9), np.uint8)) > 0
    if not inside.any():
        return 1.0
    return float((relative_darkness(gray, kernel_px=15) > INK_DARKNESS)[inside].mean())


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
