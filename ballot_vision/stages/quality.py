"""How blurred a whole photo is, whatever it shows.

"Not a ballot" is only worth saying of a photo sharp enough that a ballot's print would
have been found in it. A ballot photographed out of focus or with a shaking hand can lose
its table rules, square borders and signature line altogether; it then looks like any
other paper. This measure needs no ballot: it looks at the photo's own contrasted edges
(paper against background, print, wood grain) and how many pixels they spread over.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..imaging import long_side_scale, resize_long_side, to_gray

#: Resolution the width is measured at (photos are larger or about this size; a chat photo
#: of 1280 px is the common case).
WORK_LONG_SIDE_PX = 1280
#: Grey levels between the darkest and brightest pixel near an edge for it to count.
MIN_EDGE_CONTRAST = 30.0
#: Half-size of the neighbourhood the contrast is taken over (px at the working size).
CONTRAST_RADIUS_PX = 5
#: Edge points needed in an orientation for its width to be trusted.
MIN_EDGE_POINTS = 200
#: Orientation bins (degrees): motion blur spreads edges across its direction only.
ORIENTATION_BINS = (0, 45, 90, 135)
#: The sharpest edges of an orientation: this percentile of their widths.
SHARP_PERCENTILE = 10


def edge_width_px(bgr: np.ndarray) -> float:
    """Width (px at ``WORK_LONG_SIDE_PX``) of the photo's sharpest edges, in the orientation they are widest.

    Each edge point's width is its neighbourhood's contrast over its gradient (a step
    spread over w pixels rises 1/w of its height per pixel). Within each edge orientation
    the sharpest points are taken (print, a sheet's outline); across orientations the
    widest (motion blur leaves edges along its direction sharp). About 2–3 px on a sharp
    photo, 3.5 and up once a mark of pen or a printed rule fades.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray, the photo.

    Returns
    -------
    float
        The width, or NaN when no orientation has enough contrasted edges to tell
        (a plain wall, a photo of nothing).
    """
    small, _ = resize_long_side(bgr, WORK_LONG_SIDE_PX)
    gray = cv2.GaussianBlur(to_gray(small), (0, 0), 0.7).astype(np.float32)  # sensor noise is no edge
    # Sobel 3x3 sums 8 differences of one pixel: per-pixel slope.
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    slope = np.hypot(gx, gy)
    window = np.ones((2 * CONTRAST_RADIUS_PX + 1,) * 2, np.uint8)
    contrast = cv2.dilate(gray, window) - cv2.erode(gray, window)
    # An edge's middle: the steepest point of its neighbourhood.
    peaks = (slope >= cv2.dilate(slope, np.ones((3, 3), np.uint8))) & (contrast >= MIN_EDGE_CONTRAST) & (slope > 1.0)
    width = contrast[peaks] / slope[peaks]
    angle = np.degrees(np.arctan2(gy[peaks], gx[peaks])) % 180.0
    widths = []
    step = 180.0 / len(ORIENTATION_BINS)
    for start in ORIENTATION_BINS:
        chosen = width[(angle >= start) & (angle < start + step)]
        if chosen.size >= MIN_EDGE_POINTS:
            widths.append(float(np.percentile(chosen, SHARP_PERCENTILE)))
    return max(widths) if widths else float("nan")


def sheet_blur_mm(bgr: np.ndarray, corners: np.ndarray, *, long_side_mm: float) -> float:
    """Width of a sheet's sharpest edges, in millimetres of its paper.

    :func:`edge_width_px` judges the whole photo: a small, far-off sheet keeps sharp edges
    at the photo's scale (its own outline against the table) while its print, a few pixels
    a millimetre, is smeared at its own.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray, the photo.
    corners : (4, 2) float ndarray, the sheet's corners in photo pixels, in order round it.
    long_side_mm : the sheet's long side on paper (mm).

    Returns
    -------
    float
        The width in mm, or NaN when the sheet has too few contrasted edges to tell.
    """
    corners = np.asarray(corners, dtype=np.float64)
    long_side_px = max(float(np.linalg.norm(corners[i] - corners[(i + 1) % 4])) for i in range(4))
    h, w = bgr.shape[:2]
    x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int), 0, [w, h])
    x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 1, 0, [w, h])
    crop = bgr[y0:y1, x0:x1]
    if crop.size == 0 or long_side_px <= 0:
        return float("nan")
    scale = long_side_scale(crop.shape, WORK_LONG_SIDE_PX)  # the size edge_width_px measures at
    return edge_width_px(crop) / (scale * long_side_px / long_side_mm)
