"""Score each mark square: how much pen is in it, measured as strokes, not mean darkness.

For every option the square cell is rectified at ``PX_PER_MM`` from the row's own
homography. Inside the cell we find the printed square itself (its heavy border is the
outermost pair of long horizontal and vertical lines), because a real ballot's square may
be 15–20 mm and off-centre by a millimetre or two. Then, inside the border only:

- ``fill``: share of the interior covered by ink;
- ``stroke``: total skeleton length of the ink in units of ``MARK_REFERENCE_MM`` (12 mm,
  about the inside of a square), so a thin tick scores as much as its length deserves
  (mean darkness would call it nearly blank);
- ``score = min(1, max(stroke, 2 × fill))``: 1.0 is a 12 mm stroke, or half the square
  filled; a pen dot scores about 0.05; a 3 mm dash about 0.23.

The interior ends a little inside the border's *fitted* inner edges, found per side where
darkness falls back to paper, so a blurred or slightly rotated border never leaks in.

The same measure on a band just outside the border (``outside``) catches marks that miss
the square. Printed borders never count: they are outside the interior by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import cv2
import numpy as np
from skimage.morphology import skeletonize

from ..imaging import relative_darkness, to_gray
from ..results import SquareScore
from ..templates import Rect
from .register import Registration, rectify

#: Resolution of the rectified square cells. 6 px/mm resolves a 0.4 mm ballpoint stroke.
PX_PER_MM = 6.0
#: A pixel this much darker than its surroundings (within ~4 mm) is a stroke.
STROKE_DARKNESS = 0.20
#: A pixel this much darker than the cell's paper is ink even in a wide filled area.
FILL_DARKNESS = 0.55
#: Colour distance from the paper (Lab a*b*) above which a darker pixel is pen ink.
INK_CHROMA = 22.0
#: A grey stroke whose core is lighter than this share of the printed border's darkness
#: looks like pencil (graphite stays light; pen ink is about as dark as print). Marked
#: squares in ten make eval sets, on darkness with the noise's grains taken out: pencil
#: 0.31-0.54 (5-95 %), black pen 0.61-1.03; at 0.55, 147 of 153 pencil marks flagged and
#: 12 of 420 black pen ones (145 and 12 without the median); at 0.5, 139 and 8. Those
#: missed were nearly all blurred. Violet and blue are not grey: 1 of 252 flagged.
PENCIL_DARKNESS = 0.55
#: Colour (Lab chroma) per unit darkness below which ink is grey: graphite and black ink
#: stay near 0 however dark, a blue or violet stroke keeps ~30–60 even when blurred.
GREY_CHROMA_PER_DARKNESS = 12.0
#: Stroke length (mm) that scores 1: about the inside of a printed square.
MARK_REFERENCE_MM = 12.0
#: Paper darkness in a cell is mostly sensor noise; strokes must be this many times darker.
NOISE_FACTOR = 2.2
#: Faint strokes (see _faint_strokes): this much darker than the paper around, or this many
#: times the cell's noise; only pieces this long (mm), this far (mm) inside the border.
FAINT_STROKE_DARKNESS = 0.08
FAINT_NOISE_FACTOR = 1.6
FAINT_MIN_LENGTH_MM = 2.5
FAINT_CLEARANCE_MM = 1.0
#: Faint lines shorter than this (12 mm units) are reported without the crease check.
FAINT_NEGLIGIBLE = 0.1
#: Ink pieces shorter than this (mm) are noise grains or paper fibres, not pen strokes
#: (a pen dot is about 1 mm across, so it still counts where it is big enough).
MIN_STROKE_MM = 0.8
#: Broader than any pen stroke or printed rule (mm); and the least area (mm²) of a broad
#: shape entering the cell from outside for it to count as an occluder (a fingertip).
OCCLUDER_WIDTH_MM = 2.5
OCCLUDER_AREA_MM2 = 12.0
#: Colour distance from the cell's paper (Lab a*b*) of an occluder's surface (skin).
OCCLUDER_CHROMA = 9.0
#: Strokes are judged against the paper this wide around them (mm): a pen line stands out,
#: a fill's inside does not.
STROKE_CONTEXT_MM = 4.0
#: Ink specks smaller than this (mm²) are sensor noise or paper texture, not marks.
MIN_SPECK_MM2 = 0.35
#: Printed squares are between these sides (mm); a "frame" outside the range is not one.
SQUARE_SIDE_RANGE_MM = (10.0, 26.0)
#: A printed square's border is darker than the paper by at least this share...
FRAME_DARKNESS = 0.3
#: ...unless blur has spread it: motion blur across a 1-mm border leaves a band a fraction
#: as dark. Tried only where no border is found at FRAME_DARKNESS; the border must still
#: be straight, square, of a square's size and run round the cell.
FAINT_FRAME_DARKNESS = 0.15
#: Width (mm) of the closing that estimates the paper under any square or fill.
PAPER_KERNEL_MM = 24.0
#: Paper rectified around each cell (mm per side) only to judge the paper's brightness. On
#: a crop no wider than the closing, a lighting gradient that darkens towards the crop's
#: edge keeps the brighter paper's level there (the closing cannot see the paper beyond
#: the edge), so the paper itself reads as ink and a square's side merges with it.
PAPER_CONTEXT_MM = PAPER_KERNEL_MM / 2
#: Typical printed border weight (mm), used where the border merges with a mark.
BORDER_MM = 1.2
#: A border line's run thicker than this (mm) is the border merged with a fill or a shadow.
MAX_BORDER_MM = 2.5
#: Strip along the cell's edges (mm) where the table's own rules run: no border is sought
#: there, so a square's side found at this margin may lie beyond it.
CELL_MARGIN_MM = 1.8


@dataclass(frozen=True)
class CellImage:
    """A rectified square cell and what was found in it (for scoring and debug pictures)."""

    option: str
    bgr: np.ndarray  # (H, W, 3) uint8
    frame_px: tuple[int, int, int, int] | None  # (left, top, right, bottom) outer border
    printed_mm: tuple[float, float] | None  # (width, height) of the printed square, blur removed
    interior_px: tuple[int, int, int, int]  # (left, top, right, bottom), exclusive ends
    ink: np.ndarray  # (H, W) bool, pen ink (printed border excluded)
    score: SquareScore
    dark: np.ndarray  # (H, W) float32, darkness against the paper (0–1)


def _runs(profile: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(start, end-exclusive) of runs where ``profile >= threshold``."""
    on = np.concatenate([[False], profile >= threshold, [False]])
    edges = np.flatnonzero(np.diff(on.astype(np.int8)))
    return list(zip(edges[::2], edges[1::2]))


class FoundFrame(NamedTuple):
    """A printed square's border found in a rectified cell (pixels)."""

    box: tuple[int, int, int, int]  # (left, top, right, bottom), outer edges
    thickness: tuple[int, int, int, int]  # line weight per side (left, top, right, bottom)
    printed_px: tuple[float, float]  # (width, height) of the square as printed, see find_frame


def find_frame(dark: np.ndarray, *, px_per_mm: float, darkness: float = FRAME_DARKNESS,
               printed_px: tuple[float, float] | None = None) -> FoundFrame | None:
    """The printed square's outer border and its line thickness in a rectified cell.

    Parameters
    ----------
    dark : (M, N) float32 ndarray, darkness relative to the paper (0–1).
    darkness : share by which the border must be darker than the paper.
    printed_px : (width, height) the printed square is known to have (the ballot's other
        squares); frames more than ``FRAME_SIZE_TOLERANCE`` off it are passed over.

    Returns
    -------
    FoundFrame or None. Blur spreads each border line both ways, moving the outer edges
    out by half the blur; ``printed_px`` is measured between the lines' centres (on the
    thinner line of each opposite pair, as a mark merged with one line thickens it) plus a
    typical border weight, so it stays the printed size however blurred the photo.
    """
    ink = (dark > darkness).astype(np.uint8)
    if ink.mean() > MAX_INK_SHARE_FOR_FRAME:
        # Below the paper's own noise (a faint level on a grainy photo): every "line" here
        # would be noise, and a frame made of it would put noise inside the square.
        return None
    margin = int(round(CELL_MARGIN_MM * px_per_mm))  # keep the table's own rules out
    inner = np.zeros_like(ink)
    inner[margin:-margin, margin:-margin] = ink[margin:-margin, margin:-margin]
    line_px = int(round(0.55 * SQUARE_SIDE_RANGE_MM[0] * px_per_mm))
    along_x = cv2.getStructuringElement(cv2.MORPH_RECT, (line_px, 1))
    along_y = cv2.getStructuringElement(cv2.MORPH_RECT, (1, line_px))
    horiz = cv2.morphologyEx(inner, cv2.MORPH_OPEN, along_x)
    vert = cv2.morphologyEx(inner, cv2.MORPH_OPEN, along_y)
    # Long lines anywhere in the cell, margins included (sensor noise is not one).
    lines_xy = (cv2.morphologyEx(ink, cv2.MORPH_OPEN, along_x), cv2.morphologyEx(ink, cv2.MORPH_OPEN, along_y))
    rows = _runs(horiz.sum(axis=1).astype(np.float32), line_px)
    cols = _runs(vert.sum(axis=0).astype(np.float32), line_px)
    # The outermost lines first (a fill merged with the border is one long run, whose outer
    # edges are the border's), then inner ones: a table rule that misregistration brought
    # into the cell, or a shadow's edge, can be the outermost "line" beside a real square.
    # A run too thick for a border is tried as the border at its outer end (merged with a
    # fill inside) and at its inner end (merged with a shadow outside); inner end first
    # when the run reaches the cell's margin, as a shadow does and a fill does not.
    typical = int(round(BORDER_MM * px_per_mm))
    limit = MAX_BORDER_MM * px_per_mm
    size = ink.shape

    def lines(runs: list[tuple[int, int]], from_start: bool, axis: int) -> list[tuple[int, int]]:
        found = []
        for start, end in (runs if from_start else runs[::-1])[:MAX_FRAME_CANDIDATES]:
            if end - start <= limit:
                found.append((start, end))
                continue
            inner_end = (end - typical, end) if from_start else (start, start + typical)
            at_margin = start <= margin if from_start else end >= size[axis] - margin
            found += [inner_end, (start, end)] if at_margin else [(start, end), inner_end]
        return found

    tops, bottoms = lines(rows, True, 0), lines(rows, False, 0)
    lefts, rights = lines(cols, True, 1), lines(cols, False, 1)
    combos = sorted(((a, b, c, d) for a in range(len(tops)) for b in range(len(bottoms))
                     for c in range(len(lefts)) for d in range(len(rights))), key=sum)
    paper = float(np.median(dark))  # sensor noise makes even paper a little "dark"
    for a, b, c, d in combos[:MAX_FRAME_COMBINATIONS]:
        found = _frame_from_lines(ink, dark, tops[a], bottoms[b], lefts[c], rights[d], margin=margin,
                                  px_per_mm=px_per_mm, paper=paper, lines_xy=lines_xy)
        if found is not None and (printed_px is None or same_size(found.printed_px, printed_px)):
            return found
    return None


#: Squares of one ballot are printed alike: measured sizes (blur removed) agree within 3 %
#: on 98 % of squares (make eval seed 430552106, 360 fronts); a frame this much off its
#: ballot's other squares has taken a rule or the square's own side for a side.
FRAME_SIZE_TOLERANCE = 0.08


def same_size(printed_px: tuple[float, float], expected_px: tuple[float, float]) -> bool:
    """Whether a printed square's (width, height) is within FRAME_SIZE_TOLERANCE of another's."""
    return all(abs(a / b - 1.0) <= FRAME_SIZE_TOLERANCE for a, b in zip(printed_px, expected_px) if b > 0)


#: Share of a cell dark at the border level above which that level is below the noise (a
#: blank square's border and the rules cover about a quarter, a filled square a half).
MAX_INK_SHARE_FOR_FRAME = 0.6
#: Lines tried from each end of the cell when looking for the printed square's border.
MAX_FRAME_CANDIDATES = 3
#: Combinations of those lines tried as a frame, the outermost first.
MAX_FRAME_COMBINATIONS = 64
#: Height / width of a rectified printed square: rows printed 25–33 mm high against the
#: template's 30 stretch it by 0.9–1.2, and a row misregistered by a crease by more; a
#: "frame" twice as wide as high or more is none.
FRAME_ASPECT = (0.5, 2.0)
#: Share of each side of a candidate border along which its line must be found.
MIN_SIDE_COVERAGE = 0.85
#: Share of a side's contrast with the paper by which the strip just outside it (0.5–1.5 mm
#: out) must be lighter than the side: else the "side" is the edge of a dark area (a
#: shadow), not a printed line.
MIN_CONTRAST_BEYOND_BORDER = 0.4
#: A side whose line goes on 0.5–2.5 mm past both its corners (along this share of that
#: stretch), with paper outside it there (ink on less than RULE_OUTSIDE_INK of the strip
#: 0.5–1.5 mm out), is a table rule, not a square's side.
RUN_ON_MM = 2.0
RUN_ON_SHARE = 0.8
RULE_OUTSIDE_INK = 0.5


def _frame_from_lines(ink: np.ndarray, dark: np.ndarray, top_run: tuple[int, int], bottom_run: tuple[int, int],
                      left_run: tuple[int, int], right_run: tuple[int, int], *, margin: int,
                      px_per_mm: float, paper: float, lines_xy: tuple[np.ndarray, np.ndarray]) -> FoundFrame | None:
    """The square bounded by these four line runs, or None if they do not make one.

    ``paper`` is the cell's median darkness: its paper, sensor noise included.
    ``lines_xy`` are the (M, N) masks of long lines along x and along y in the whole cell.
    """
    (top, top_end), (bottom_start, bottom) = top_run, bottom_run
    (left, left_end), (right_start, right) = left_run, right_run
    if bottom <= top or right <= left:
        return None
    w_mm, h_mm = (right - left) / px_per_mm, (bottom - top) / px_per_mm
    lo, hi = SQUARE_SIDE_RANGE_MM
    if not (lo <= w_mm <= hi and lo <= h_mm <= hi * 1.35 and FRAME_ASPECT[0] <= h_mm / w_mm <= FRAME_ASPECT[1]):
        return None
    # A run thicker than any printed border is the border merged with a fill or a
    # stroke along it: take a typical border weight there instead.
    typical = int(round(BORDER_MM * px_per_mm))
    limit = MAX_BORDER_MM * px_per_mm
    raw = (left_end - left, top_end - top, right - right_start, bottom - bottom_start)
    thickness = tuple(t if t <= limit else typical for t in raw)
    # The border must run most of the way round, along each side: a real frame, not two
    # stray strokes or a rule. Test along the middle of the measured border lines.
    x0, y0 = left + thickness[0] // 2, top + thickness[1] // 2
    x1, y1 = right - 1 - thickness[2] // 2, bottom - 1 - thickness[3] // 2
    ring = np.zeros_like(ink)
    cv2.rectangle(ring, (x0, y0), (x1, y1), 1, thickness=2)
    covered = ring & ink
    if float(covered.sum()) / max(1, int(ring.sum())) < 0.8:
        return None
    # Each side on its own, within a millimetre of its line (a tilted or keystoned square's
    # sides drift off the axis-aligned ring): a rule or a shadow's edge taken for one side
    # leaves the square's own sides short of it.
    tol = int(round(px_per_mm))
    sides = (ink[y0:y1, max(0, x0 - tol):x0 + tol + 1].any(axis=1),
             ink[max(0, y0 - tol):y0 + tol + 1, x0:x1].any(axis=0),
             ink[y0:y1, max(0, x1 - tol):x1 + tol + 1].any(axis=1),
             ink[max(0, y1 - tol):y1 + tol + 1, x0:x1].any(axis=0))
    if min(float(side.mean()) if side.size else 0.0 for side in sides) < MIN_SIDE_COVERAGE:
        return None
    # A printed border is a line: just outside it the paper comes back (inside, a fill may
    # not). A shadow merged with a side makes a dark band as dark beyond it. Sides cut by
    # the cell's margin (a square off-centre in its cell) cannot be checked.
    gap, depth = int(round(0.5 * px_per_mm)), int(round(1.5 * px_per_mm))
    h, w = dark.shape
    checks = (
        (left > margin, dark[y0:y1, left:left_end], dark[y0:y1, max(0, left - depth):max(0, left - gap)]),
        (top > margin, dark[top:top_end, x0:x1], dark[max(0, top - depth):max(0, top - gap), x0:x1]),
        (right < w - margin, dark[y0:y1, right_start:right], dark[y0:y1, min(w, right + gap):min(w, right + depth)]),
        (bottom < h - margin, dark[bottom_start:bottom, x0:x1], dark[min(h, bottom + gap):min(h, bottom + depth), x0:x1]),
    )
    for checkable, line, beyond in checks:
        if checkable and line.size and beyond.size:
            contrast = float(line.mean()) - paper
            if float(line.mean()) - float(beyond.mean()) < MIN_CONTRAST_BEYOND_BORDER * contrast:
                return None
    # A square's side ends at its corners; a table rule runs on past them, a thin line with
    # paper outside it. (A side at the cell's margin is where a rule passes every check
    # above. A shadow's edge merged with a side runs on too, but as the edge of a dark area,
    # which the contrast check has dealt with.)
    reach = int(round(RUN_ON_MM * px_per_mm))
    t0, t1, t2, t3 = thickness
    along_x, along_y = lines_xy
    before_x, after_x = slice(max(0, left - gap - reach), max(0, left - gap)), slice(min(w, right + gap), right + gap + reach)
    before_y, after_y = slice(max(0, top - gap - reach), max(0, top - gap)), slice(min(h, bottom + gap), bottom + gap + reach)
    # Outside the whole line: a side cut by the cell's margin (a rule the margin clipped to
    # a sliver) has the rest of itself just beyond the cut, which is not "outside" it.
    outer_top = _line_extent(along_x[:top, x0:x1].mean(axis=1)[::-1], int(limit))
    outer_bottom = _line_extent(along_x[bottom:, x0:x1].mean(axis=1), int(limit))
    outer_left = _line_extent(along_y[y0:y1, :left].mean(axis=0)[::-1], int(limit))
    outer_right = _line_extent(along_y[y0:y1, right:].mean(axis=0), int(limit))
    above = slice(max(0, top - outer_top - depth), max(0, top - outer_top - gap))
    below = slice(min(h, bottom + outer_bottom + gap), bottom + outer_bottom + depth)
    leftward = slice(max(0, left - outer_left - depth), max(0, left - outer_left - gap))
    rightward = slice(min(w, right + outer_right + gap), right + outer_right + depth)
    sides_beyond_corners = (
        [(along_x[top:top + t1, c].any(axis=0), ink[above, c]) for c in (before_x, after_x)],
        [(along_x[bottom - t3:bottom, c].any(axis=0), ink[below, c]) for c in (before_x, after_x)],
        [(along_y[r, left:left + t0].any(axis=1), ink[r, leftward]) for r in (before_y, after_y)],
        [(along_y[r, right - t2:right].any(axis=1), ink[r, rightward]) for r in (before_y, after_y)],
    )
    for ends in sides_beyond_corners:
        seen = [(float(line.mean()), float(outward.mean()) if outward.size else 0.0)
                for line, outward in ends if 2 * line.size >= reach]
        if seen and all(line >= RUN_ON_SHARE and outward < RULE_OUTSIDE_INK for line, outward in seen):
            return None
    printed = (float(right - left - min(raw[0], raw[2]) + typical), float(bottom - top - min(raw[1], raw[3]) + typical))
    return FoundFrame((left, top, right, bottom), thickness, printed)


def _line_extent(share: np.ndarray, limit_px: int) -> int:
    """How many rows (or columns) from the start of ``share`` (each one's share of long-line
    pixels, outwards from a side) a line goes on for; 0 where the darkness goes on past
    ``limit_px``, a line's widest, as a shadow's or other dark area's does."""
    off = np.flatnonzero(share < 0.5)
    extent = int(off[0]) if off.size else int(share.size)
    return extent if extent <= limit_px else 0


#: Darkness below which a pixel beyond the border is paper again (the end of a blurred
#: border's halo), when finding the border's inner edge.
HALO_DARKNESS = 0.12
#: An inner edge lies at least this share of its side's measured line thickness in from
#: the outer edge (see :func:`inner_edge_mask`): on a noisy blank ballot the fit put a
#: square's left edge 4 px into its 10-px border, whose rest read as a 2.8 mm stroke and
#: a vote (make eval seed 3221853415, hard, IMG_00099).
MIN_EDGE_DEPTH = 0.7


def _fit_side(positions: np.ndarray, depths: np.ndarray) -> tuple[float, float] | None:
    """Robust line depth = a * position + b through per-scanline inner-edge depths.

    Scanlines where a mark touches the border report a deeper edge: they are outliers,
    dropped by refitting on the points near the median line.
    """
    ok = np.isfinite(depths)
    if ok.sum() < 5:
        return None
    x, y = positions[ok], depths[ok]
    a, b = 0.0, float(np.median(y))
    for _ in range(3):
        keep = np.abs(y - (a * x + b)) <= max(2.0, 1.5 * float(np.median(np.abs(y - (a * x + b)))))
        if keep.sum() < 5:
            break
        a, b = np.polyfit(x[keep], y[keep], 1)
    return float(a), float(b)


def inner_edge_mask(dark: np.ndarray, frame: tuple[int, int, int, int], *, inset_px: int,
                    min_depth_px: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)) -> np.ndarray | None:
    """(M, N) bool: the square's interior, ``inset_px`` inside the border's fitted inner edges.

    Each side's inner edge is where, scanning inwards from the outer edge, darkness falls
    below :data:`HALO_DARKNESS`; so a blurred border (wider halo) gets a deeper edge. A
    line fit per side follows a slightly rotated or keystoned square, which an
    axis-aligned rectangle would clip into, leaving phantom strokes along the border.

    min_depth_px : (left, top, right, bottom) no inner edge is nearer its outer edge than
        this. Sensor noise as dark as the halo threshold leaves scanlines with no paper or
        with "paper" inside the border, and the fit can land inside the line itself.
    """
    left, top, right, bottom = frame
    h, w = bottom - top, right - left
    if h < 10 or w < 10:
        return None
    span = dark[top:bottom, left:right] > HALO_DARKNESS
    # Depth of the first paper pixel inwards from each side, per scanline (middle 70 %).
    def depths(block: np.ndarray) -> np.ndarray:
        limit = block.shape[1] // 3  # an edge deeper than a third of the square is a mark
        part = block[:, :limit]
        # Paper after the border: a tilted border starts a few pixels in on some scanlines.
        paper = ~part & (np.cumsum(part, axis=1) > 0)
        return np.where(paper.any(axis=1), paper.argmax(axis=1), np.nan).astype(float)
    lo_y, hi_y = int(0.15 * h), int(0.85 * h)
    lo_x, hi_x = int(0.15 * w), int(0.85 * w)
    ys, xs = np.arange(lo_y, hi_y, dtype=float), np.arange(lo_x, hi_x, dtype=float)
    fits = [
        _fit_side(ys, depths(span[lo_y:hi_y, :])),  # left: depth from x=0
        _fit_side(xs, depths(span[:, lo_x:hi_x].T)),  # top
        _fit_side(ys, depths(span[lo_y:hi_y, ::-1])),  # right
        _fit_side(xs, depths(span[::-1, lo_x:hi_x].T)),  # bottom
    ]
    if any(f is None for f in fits):
        return None
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    (al, bl), (at, bt), (ar, br), (ab, bb) = fits
    ml, mt, mr, mb = min_depth_px
    inside = (
        (xx >= np.maximum(al * yy + bl, ml) + inset_px)
        & (yy >= np.maximum(at * xx + bt, mt) + inset_px)
        & ((w - 1 - xx) >= np.maximum(ar * yy + br, mr) + inset_px)
        & ((h - 1 - yy) >= np.maximum(ab * xx + bb, mb) + inset_px)
    )
    mask = np.zeros(dark.shape, bool)
    mask[top:bottom, left:right] = inside
    return mask if mask.sum() > 0.15 * h * w else None


def _clean(mask: np.ndarray, min_px: int, *, min_length_px: float = 0.0) -> np.ndarray:
    """``mask`` without components smaller than ``min_px`` pixels or shorter than ``min_length_px``.

    Length is the component's skeleton length: a scatter of noise grains is many short
    pieces, a pen stroke is long even when thin. Components of at least ``4 * min_px``
    pixels are kept whatever their length.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_px
    if min_length_px > 0 and n > 1:
        # Thinning shrinks a compact blob (a filled square) to a point: blobs of more than
        # a few grains' area stay whatever their skeleton.
        lengths = np.bincount(labels[skeletonize(mask)], minlength=n)
        keep &= (lengths >= min_length_px) | (stats[:, cv2.CC_STAT_AREA] >= 4 * min_px)
    return keep[labels]


def stroke_length_px(mask: np.ndarray) -> float:
    """Length of the strokes in a binary mask (pixels), from its skeleton."""
    if not mask.any():
        return 0.0
    return float(skeletonize(mask).sum())


#: A printed rule runs straight along the cell, across this share of it at least.
RULE_ACROSS_CELL = 0.7


def _printed_rules(ink: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """(M, N) bool: the rows and columns of a rectified cell along which a printed rule runs
    (``ink``, the square's own border left out, across ``RULE_ACROSS_CELL`` of the cell,
    within a strip about 0.6 mm wide: a rule a degree or two off the cell's axis, or broken
    by the print's grain, still is one).

    A table's rules lie at the cell's edges, outside the band a missed mark is looked for
    in, where the cell is the design's; but a press's double border or a narrower square
    column puts a rule inside it (second press, make eval seed 605918237, IMG_00250: a
    double border's inner rule read as a mark outside the top square). A pen's mark beside
    a square is no straight line across the whole cell.
    """
    strip = max(3, int(round(0.6 * px_per_mm)))
    rules = np.zeros(ink.shape, bool)
    for axis in (0, 1):
        along = ink.astype(np.uint8) if axis == 0 else ink.T.astype(np.uint8)
        near = cv2.dilate(along, np.ones((strip, 1), np.uint8))
        lines = cv2.dilate((near.mean(axis=1) >= RULE_ACROSS_CELL).astype(np.uint8)[:, None],
                           np.ones((strip, 1), np.uint8))[:, 0].astype(bool)
        if axis == 0:
            rules[lines, :] = True
        else:
            rules[:, lines] = True
    return rules


def _erase_creases(grey_ink: np.ndarray, ink: np.ndarray, *, frame: tuple[int, int, int, int],
                   px_per_mm: float) -> np.ndarray:
    """``ink`` without grey straight lines that cross the whole square and beyond.

    A fold's crease or a shadow's hard edge is a faint, grey, straight line running across
    the cell from one side of the square to the other and past it; a pen stroke (even a
    blurred, grey cross) starts and ends near the square.
    """
    side = min(grey_ink.shape)
    lines = cv2.HoughLinesP(grey_ink.astype(np.uint8) * 255, 1, np.pi / 180, threshold=int(0.3 * side),
                            minLineLength=int(0.7 * side), maxLineGap=int(0.2 * side))
    if lines is None:
        return ink
    left, top, right, bottom = frame
    beyond = 1.5 * px_per_mm
    # Past a side found at the cell's margin lies the rest of that side, not paper: a
    # stroke's end there is not beyond the square.
    margin = int(round(CELL_MARGIN_MM * px_per_mm))
    height, width = ink.shape
    open_left, open_top = left > margin, top > margin
    open_right, open_bottom = right < width - margin, bottom < height - margin

    def outside(x: float, y: float) -> bool:
        return ((open_left and x < left - beyond) or (open_right and x > right + beyond)
                or (open_top and y < top - beyond) or (open_bottom and y > bottom + beyond))

    band = np.zeros(ink.shape, np.uint8)
    for x0, y0, x1, y1 in lines.reshape(-1, 4):
        if outside(x0, y0) and outside(x1, y1):
            cv2.line(band, (int(x0), int(y0)), (int(x1), int(y1)), 1, thickness=max(3, int(1.6 * px_per_mm)))
    return ink & ~(band.astype(bool) & grey_ink)


def _faint_strokes(rel: np.ndarray, inside: np.ndarray, *, frame: tuple[int, int, int, int],
                   px_per_mm: float) -> float:
    """Length of the lines too faint to be ink inside the square, in units of MARK_REFERENCE_MM.

    A light pencil or a dry pen, washed out by blur, can fall below the stroke threshold
    and leave a marked square blank. Such strokes still run as lines: long pieces at a lower
    darkness, away from the border's blurred edge, that are no crease across the square.

    Parameters
    ----------
    rel : (M, N) float32, darkness against the paper within a few millimetres.
    inside : (M, N) bool, the square's interior.
    """
    level = max(FAINT_STROKE_DARKNESS, FAINT_NOISE_FACTOR * float(np.median(rel)))
    k = 2 * int(round(FAINT_CLEARANCE_MM * px_per_mm)) + 1
    core = cv2.erode(inside.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))).astype(bool)
    speck = int(MIN_SPECK_MM2 * px_per_mm * px_per_mm)

    def length(faint: np.ndarray) -> float:
        faint = _clean(faint & core, speck, min_length_px=FAINT_MIN_LENGTH_MM * px_per_mm)
        return stroke_length_px(faint) / px_per_mm / MARK_REFERENCE_MM

    faint = rel > level
    # Erasing creases only shortens the lines, and costs a Hough transform: a square with
    # next to no faint line (most blank squares) is measured without it.
    upper = length(faint)
    if upper < FAINT_NEGLIGIBLE:
        return upper
    return length(_erase_creases(faint, faint, frame=frame, px_per_mm=px_per_mm))


def _broad_shapes(ink: np.ndarray, px_per_mm: float) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected shapes of ``ink`` broader than any pen stroke, printed border or rule (an
    opening by a disc ``OCCLUDER_WIDTH_MM`` across): ``cv2.connectedComponentsWithStats``'
    count, labels and stats."""
    k = int(round(OCCLUDER_WIDTH_MM * px_per_mm)) | 1
    broad = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(broad, connectivity=8)
    return n, labels, stats


def _reaches_edge(stat: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether a shape (one row of ``cv2.connectedComponentsWithStats``' stats) touches the
    edge of an image of ``shape``."""
    x, y, bw, bh = (int(v) for v in stat[:4])
    return x == 0 or y == 0 or x + bw == shape[1] or y + bh == shape[0]


def _occluded(ink: np.ndarray, px_per_mm: float, *, context_px: int = 0) -> bool:
    """Whether something broad (a finger, a pen lying on the sheet) enters the cell from outside.

    Pen strokes, printed borders and rules are thin: an opening by a disc wider than any of
    them leaves only broad shapes. A broad shape inside the square is a filled mark; one
    that reaches the cell's edge came from outside the cell.

    Parameters
    ----------
    ink : (M, N) bool ndarray, the cell with ``context_px`` of its surroundings on each side.
    context_px : with surroundings, a broad shape in the cell must also reach the outer edge
        of ``ink`` (``PAPER_CONTEXT_MM`` beyond the cell) to be an occluder: a finger or a
        hand runs on out of the picture, while a filled mark that spills over the cell's
        edge ends within a few millimetres of its square.
    """
    n, labels, stats = _broad_shapes(ink, px_per_mm)
    h, w = ink.shape
    c = context_px
    cell = labels[c:h - c, c:w - c]
    min_area = OCCLUDER_AREA_MM2 * px_per_mm * px_per_mm
    for i in range(1, n):
        if not _reaches_edge(stats[i], ink.shape):
            continue
        if c == 0:
            in_cell, enters = stats[i][4], True
        else:
            mine = cell == i
            in_cell = int(mine.sum())
            enters = bool(mine[0].any() or mine[-1].any() or mine[:, 0].any() or mine[:, -1].any())
        if enters and in_cell >= min_area:
            return True
    return False


#: Share of a square's printed area a filled mark must cover for a square whose border
#: cannot be found to be taken as seen under it.
FILLED_OVER_SHARE = 0.8


def _filled_over(ink: np.ndarray, square_px: tuple[int, int, int, int], px_per_mm: float, *,
                 context_px: int) -> bool:
    """Whether broad ink that stays near the square (see :func:`_occluded`) covers it.

    Parameters
    ----------
    ink : (M, N) bool ndarray, the cell with ``context_px`` of its surroundings on each side.
    square_px : (left, top, right, bottom) of the square in the cell (without the context).
    """
    n, labels, stats = _broad_shapes(ink, px_per_mm)
    near = [i for i in range(1, n) if not _reaches_edge(stats[i], ink.shape)]
    left, top, right, bottom = (v + context_px for v in square_px)
    square = labels[top:bottom, left:right]
    return bool(square.size) and float(np.isin(square, near).mean()) >= FILLED_OVER_SHARE


def _stroke_darkness(gray: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Darkness against the paper within a few millimetres: pen strokes, not fills."""
    return relative_darkness(gray, kernel_px=int(STROKE_CONTEXT_MM * px_per_mm))


def _colour_from_paper(lab: np.ndarray, paper_ab: np.ndarray) -> np.ndarray:
    """(M, N) float32: each pixel's distance from the paper's colour in (a*, b*), given the
    image in float Lab (M, N, 3)."""
    return np.hypot(lab[..., 1] - paper_ab[0], lab[..., 2] - paper_ab[1])


def _broad_candidates(bgr: np.ndarray, dark: np.ndarray, paper_ab: np.ndarray, px_per_mm: float,
                      stroke_darkness: float) -> np.ndarray:
    """Pixels that may belong to ink or to an occluder, as :func:`score_cell` takes them in a
    cell (dark against the paper, or tinted away from it), over a whole patch.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray; dark : (M, N) float32 ndarray, its relative darkness.
    paper_ab : the paper's Lab (a*, b*).
    """
    rel = _stroke_darkness(to_gray(bgr), px_per_mm)
    colour = _colour_from_paper(cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32), paper_ab)
    return (rel > stroke_darkness) | (dark > FILL_DARKNESS) | (colour > OCCLUDER_CHROMA)


def _border_darkness(dark: np.ndarray, frame: tuple[int, int, int, int], thickness: tuple[int, ...]) -> float:
    """90th percentile darkness of the square's printed border (0–1)."""
    left, top, right, bottom = frame
    ring = np.zeros(dark.shape, bool)
    ring[top:bottom, left:right] = True
    ring[top + thickness[1]:bottom - thickness[3], left + thickness[0]:right - thickness[2]] = False
    return float(np.percentile(dark[ring], 90)) if ring.any() else 1.0


def score_cell(cell_bgr: np.ndarray, *, option: str, nominal_square_px: tuple[int, int, int, int],
               px_per_mm: float = PX_PER_MM, context_px: int = 0,
               printed_px: tuple[float, float] | None = None) -> CellImage:
    """Measure the ink in one rectified square cell.

    Parameters
    ----------
    cell_bgr : (M + 2 c, N + 2 c, 3) uint8 ndarray, the square cell at ``px_per_mm`` with
        ``c = context_px`` of the paper around it on each side (see PAPER_CONTEXT_MM), which
        only sets the paper's brightness; everything returned is of the cell alone.
    nominal_square_px : (left, top, right, bottom) where the template puts the square in
        the cell, used when the printed border cannot be found (mark over it, occlusion).
    printed_px : the printed square's (width, height) where known (see :func:`find_frame`).
    """
    # Darkness against the paper around each pixel: a closing wider than any printed square
    # removes fills and strokes but keeps a shadow's edge, so shadows are not ink.
    gray = to_gray(cell_bgr)
    dark = relative_darkness(gray, kernel_px=int(PAPER_KERNEL_MM * px_per_mm))
    full_bgr, full_dark = cell_bgr, dark
    if context_px > 0:
        inner = (slice(context_px, -context_px), slice(context_px, -context_px))
        cell_bgr, gray, dark = cell_bgr[inner], gray[inner], dark[inner]
    # Strokes against the paper within a few millimetres (the cell alone is wide enough).
    rel = _stroke_darkness(gray, px_per_mm)
    found = _find_frame_at_either_darkness(dark, px_per_mm=px_per_mm, printed_px=printed_px)
    if found is not None:
        frame, thickness = found.box, found.thickness
    else:
        frame, thickness = nominal_square_px, (int(BORDER_MM * px_per_mm),) * 4
    inset = int(round(0.6 * px_per_mm))
    left, top, right, bottom = frame
    interior = (left + thickness[0] + inset, top + thickness[1] + inset,
                right - thickness[2] - inset, bottom - thickness[3] - inset)

    lab = cv2.cvtColor(cell_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    paper_ab = np.median(lab[..., 1:][gray >= np.percentile(gray, 60)], axis=0)
    colour = _colour_from_paper(lab, paper_ab)
    # In a shadow the sensor's noise is a larger share of the dim paper: raise the stroke
    # threshold with the cell's typical (paper) darkness so noise grains are not strokes.
    stroke_darkness = max(STROKE_DARKNESS, NOISE_FACTOR * float(np.median(rel)))
    ink = (rel > stroke_darkness) | (dark > FILL_DARKNESS) | ((colour > INK_CHROMA) & (dark > 0.08))
    ink = _erase_creases(ink & ~((dark > 0.45) | (colour > INK_CHROMA)), ink, frame=frame, px_per_mm=px_per_mm)
    ink = _clean(ink, int(MIN_SPECK_MM2 * px_per_mm * px_per_mm), min_length_px=MIN_STROKE_MM * px_per_mm)

    il, it, ir, ib = interior
    inside = None
    # Against the paper within a few millimetres where the cell's own paper level fails: a
    # soft shadow inside the square is darker than the halo level on every scanline next to
    # it, and the axis-aligned interior left took in the side the shadow had widened, which
    # read as a mark, an overvote decided without review (make eval seed 1187032269, IMG_00195).
    for darkness in (dark, rel) if found is not None else ():
        inside = inner_edge_mask(darkness, frame, inset_px=max(1, int(round(0.6 * px_per_mm))),
                                 min_depth_px=tuple(MIN_EDGE_DEPTH * t for t in thickness))
        if inside is not None:
            break
    if inside is None:
        inside = np.zeros_like(ink)
        inside[it:ib, il:ir] = True
    else:
        ys, xs = np.nonzero(inside)
        interior = il, it, ir, ib = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    interior_ink = ink & inside
    side_px = max(1.0, ((ir - il) + (ib - it)) / 2)
    area_px = max(1, int(inside.sum()))
    fill = float(interior_ink.sum()) / area_px
    # In millimetres, not relative to the square: a 3 mm dash is a deliberate mark in a
    # 15 mm square and in a 20 mm one alike, and a pen dot is short in both.
    stroke = stroke_length_px(interior_ink) / px_per_mm / MARK_REFERENCE_MM
    score = min(1.0, max(stroke, 2.0 * fill))
    faint = _faint_strokes(rel, inside, frame=frame, px_per_mm=px_per_mm)

    # Band outside the border (≤ 4 mm), inside the cell's own rules.
    margin = int(round(CELL_MARGIN_MM * px_per_mm))
    grow = int(round(0.8 * px_per_mm))
    band = np.zeros_like(ink)
    band[margin:-margin, margin:-margin] = True
    band[max(0, top - grow):bottom + grow, max(0, left - grow):right + grow] = False
    beside = ink & band
    outside = min(1.0, stroke_length_px(beside & ~_printed_rules(beside, px_per_mm=px_per_mm)) / side_px)

    pencil = 0.0
    if interior_ink.sum() > 0:
        # Pencil is grey (no chroma) and never as dark as ink, even at its core. "As dark
        # as ink" is judged against the square's printed border, which blur and exposure
        # lighten just as they lighten a pen stroke. Both on the darkness without the
        # sensor noise's grains, which lift a light stroke's darkest tenth towards ink's:
        # pencil votes on noisy photos were counted, at 0.56 and 0.57 of the border's
        # darkness (0.52 and 0.53 with a 3 × 3 median; make eval seeds 2645751311,
        # IMG_00036, and 2236067977, IMG_00255).
        steady = cv2.medianBlur(np.round(dark * 255).astype(np.uint8), 3).astype(np.float32) / 255
        core = float(np.percentile(steady[interior_ink], 90))
        reference = _border_darkness(steady, frame, thickness) if found is not None else 1.0
        # Grey relative to how dark: a blurred coloured stroke keeps its hue, only weaker.
        grey = colour[interior_ink] < np.maximum(3.0, GREY_CHROMA_PER_DARKNESS * dark[interior_ink])
        pencil = float(grey.mean()) if core < PENCIL_DARKNESS * reference else 0.0

    # A square we cannot see printed where it should be (a finger over it, torn, out of
    # focus, or a row that is not there at all) cannot be vouched for: its score means
    # nothing. (Colour tests for skin fail under warm light; the border test does not.)
    # Skin is tinted where paper is not, even where it is too light to count as ink.
    visible = found is not None and not _occluded(ink | (colour > OCCLUDER_CHROMA), px_per_mm)
    if found is not None and not visible and context_px > 0:
        # Seen with its surroundings, a broad shape that ends near the square is a filled
        # mark spilling over the cell's edge, not a finger (a filled Nur Otan square was
        # left unread as "hidden": make eval seed 3221853415, IMG_00852).
        visible = not _occluded(_broad_candidates(full_bgr, full_dark, paper_ab, px_per_mm, stroke_darkness),
                                px_per_mm, context_px=context_px)
    elif found is None and context_px > 0:
        # No border where the square should be: a filled mark over it all hides it as well
        # as a finger does, but ends within millimetres of the square (a square filled
        # over its border was left unread as "hidden": make eval seed 4210495658, IMG_00090).
        broad = _broad_candidates(full_bgr, full_dark, paper_ab, px_per_mm, stroke_darkness)
        visible = _filled_over(broad, nominal_square_px, px_per_mm, context_px=context_px) \
            and not _occluded(broad, px_per_mm, context_px=context_px)
    return CellImage(
        option=option,
        bgr=cell_bgr,
        frame_px=frame if found is not None else None,
        printed_mm=(found.printed_px[0] / px_per_mm, found.printed_px[1] / px_per_mm) if found is not None else None,
        interior_px=interior,
        ink=ink,
        score=SquareScore(option=option, score=score, fill=fill, stroke=stroke, outside=outside,
                          pencil=pencil, visible=visible, faint=faint),
        dark=dark,
    )


def score_squares(bgr: np.ndarray, registration: Registration, *, px_per_mm: float = PX_PER_MM) -> list[CellImage]:
    """Rectify and score every option's square cell (in template order).

    A square whose border came out another size than the ballot's other squares is looked
    for again at their size: the first find took a table rule or a side for a side, which
    leaves a printed line inside the "square" to be read as a mark.
    """
    template = registration.template
    cells = []
    for index, option in enumerate(template.options):
        if not registration.visible[index]:
            blank = np.zeros((1, 1, 3), np.uint8)
            cells.append(CellImage(option.id, blank, None, None, (0, 0, 0, 0), np.zeros((1, 1), bool),
                                   SquareScore(option=option.id, score=0.0, visible=False),
                                   np.zeros((1, 1), np.float32)))
            continue
        cells.append(score_option(bgr, registration, index, px_per_mm=px_per_mm))
    printed = ballot_square_size([c.printed_mm for c in cells])
    if printed is None:
        return cells
    expected_px = (printed[0] * px_per_mm, printed[1] * px_per_mm)
    for index, cell in enumerate(cells):
        if cell.printed_mm is not None and not same_size(cell.printed_mm, printed):
            again = score_option(bgr, registration, index, px_per_mm=px_per_mm, printed_px=expected_px)
            # Found nowhere at that size, the first find stands, marked as such: a marked
            # square's own border is often measured off (a fill, a stroke along a side), but
            # a hard shadow's edge across a blank square also made a 13 × 23 mm "square"
            # whose printed side inside scored as a mark (make eval seed 1649070854, IMG_01117).
            if again.printed_mm is None:
                cells[index] = replace(cell, score=replace(cell.score, odd_size=True))
            # Found at that size, it stands; but where the two finds disagree on whether
            # the square is marked, one of them has a printed side inside: a curl squeezed
            # a blank square's row, the box at the others' size took in the table rule's
            # gap above it, and its top side counted as a second mark, an overvote decided
            # without review (make eval seed 4210495658, IMG_00274).
            elif _disagree(cell.score.score, again.score.score):
                cells[index] = replace(again, score=replace(again.score, disputed=True))
            else:
                cells[index] = again
    return cells


#: Two finds of a square disagree on whether it is marked when one scores below the first
#: and the other at least the second (the default marginal and definite thresholds: a
#: measurement, flagged in ``disputed`` for the policy, not a decision).
DISAGREEING_SCORES = (0.10, 0.20)


def _disagree(a: float, b: float) -> bool:
    low, high = DISAGREEING_SCORES
    return min(a, b) < low and max(a, b) >= high


#: A ballot's square size is known from at least this many squares found, most of them alike.
MIN_SQUARES_FOR_SIZE = 3


def ballot_square_size(printed_mm: list[tuple[float, float] | None]) -> tuple[float, float] | None:
    """The (width, height) most of a ballot's found squares share (mm), or None.

    Parameters
    ----------
    printed_mm : per square, its printed size as found, or None where no border was found.
    """
    found = [p for p in printed_mm if p is not None]
    if len(found) < MIN_SQUARES_FOR_SIZE:
        return None
    median = (float(np.median([w for w, _ in found])), float(np.median([h for _, h in found])))
    if 2 * sum(same_size(p, median) for p in found) <= len(found):
        return None
    return median


def score_option(bgr: np.ndarray, registration: Registration, index: int, *, px_per_mm: float = PX_PER_MM,
                 printed_px: tuple[float, float] | None = None, shift_mm: float = 0.0) -> CellImage:
    """Rectify and score option ``index``'s square cell (see :func:`score_squares`).

    shift_mm : move the cell this far down the template (negative: up), by the option's
        own homography: where a further row's square would be, past the table's end.
    """
    option = registration.template.options[index]
    cell = registration.square_cell(index)
    region = Rect(cell.x, cell.y + shift_mm, cell.w, cell.h)
    return _score_with_search(bgr, registration.homography_for(index), region, option.id,
                              _to_px(registration.square(index), cell, px_per_mm), px_per_mm, printed_px=printed_px)


#: Shifts (as shares of the cell's height) tried when the printed square is not where the
#: registration puts it: a crease or curl can move a row a few millimetres.
SEARCH_SHIFTS = ((0.0, -0.2), (0.0, 0.2), (0.0, -0.35), (0.0, 0.35), (-0.15, 0.0), (0.15, 0.0))


def _score_with_search(bgr: np.ndarray, h: np.ndarray, region: Rect, option: str,
                       nominal: tuple[int, int, int, int], px_per_mm: float,
                       printed_px: tuple[float, float] | None = None) -> CellImage:
    """Score the cell at ``region``; if no printed square is found there, look around it."""
    pad = PAPER_CONTEXT_MM

    context_px = round(pad * px_per_mm)

    def patch_at(x: float, y: float) -> np.ndarray:
        return rectify(bgr, h, Rect(x - pad, y - pad, region.w + 2 * pad, region.h + 2 * pad), px_per_mm=px_per_mm)

    def score(patch: np.ndarray) -> CellImage:
        return score_cell(patch, option=option, nominal_square_px=nominal, px_per_mm=px_per_mm,
                          context_px=context_px, printed_px=printed_px)

    cell = score(patch_at(region.x, region.y))
    if cell.score.visible:
        return cell
    for fx, fy in SEARCH_SHIFTS:
        patch = patch_at(region.x + fx * region.h, region.y + fy * region.h)
        # A square is looked for around only by its printed border (a fill seen over a
        # square that is not where the fit puts it may be a neighbour's); where none is
        # near the middle, the rest of the measurement is not worth making.
        if not _frame_centred(patch, px_per_mm=px_per_mm, context_px=context_px, printed_px=printed_px):
            continue
        candidate = score(patch)  # its border is the one just found, near the middle
        if candidate.score.visible:
            shift = float(np.hypot(fx, fy) * region.h)
            return replace(candidate, score=replace(candidate.score, shift_mm=round(shift, 1)))
    return cell


def _frame_centred(patch: np.ndarray, *, px_per_mm: float, context_px: int,
                   printed_px: tuple[float, float] | None) -> bool:
    """Whether :func:`score_cell` would find a printed square's border near the middle of
    ``patch`` (the cell with ``context_px`` around it), without the rest of its measurement."""
    dark = relative_darkness(to_gray(patch), kernel_px=int(PAPER_KERNEL_MM * px_per_mm))
    if context_px > 0:
        dark = dark[context_px:-context_px, context_px:-context_px]
    found = _find_frame_at_either_darkness(dark, px_per_mm=px_per_mm, printed_px=printed_px)
    return found is not None and _centred(found.box, dark.shape)


def _find_frame_at_either_darkness(dark: np.ndarray, *, px_per_mm: float,
                                   printed_px: tuple[float, float] | None) -> FoundFrame | None:
    """:func:`find_frame` at ``FRAME_DARKNESS``, else at ``FAINT_FRAME_DARKNESS`` (blur
    spread the border)."""
    found = find_frame(dark, px_per_mm=px_per_mm, printed_px=printed_px)
    if found is None:
        found = find_frame(dark, px_per_mm=px_per_mm, darkness=FAINT_FRAME_DARKNESS, printed_px=printed_px)
    return found


def _centred(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> bool:
    """Whether a found square's (left, top, right, bottom) box sits near the middle of a
    cell of ``shape`` (not a neighbour's square)."""
    left, top, right, bottom = box
    height, width = shape[:2]
    off = max(abs((left + right) / 2 - width / 2), abs((top + bottom) / 2 - height / 2))
    return off <= 0.15 * min(height, width)


def _to_px(rect: Rect, region: Rect, px_per_mm: float) -> tuple[int, int, int, int]:
    return (round((rect.x - region.x) * px_per_mm), round((rect.y - region.y) * px_per_mm),
            round((rect.x2 - region.x) * px_per_mm), round((rect.y2 - region.y) * px_per_mm))


def sharpness(cells: list[CellImage]) -> float | None:
    """Median variance of the Laplacian over the visible cells (higher is sharper)."""
    values = [float(cv2.Laplacian(to_gray(c.bgr), cv2.CV_32F).var()) for c in cells if c.score.visible]
    return float(np.median(values)) if values else None


def _edge_width_px(profile: np.ndarray) -> float:
    """Contrast / steepest slope of a darkness profile across one border line (pixels).

    About the blur's extent: a motion blur L px long gives ~L, a defocus of sigma s ~1.7 s,
    a sharp print the rectification's pixel or two.
    """
    smooth = cv2.GaussianBlur(profile.astype(np.float32).reshape(-1, 1), (1, 0), sigmaX=0.1, sigmaY=0.7).ravel()
    contrast = float(smooth.max() - np.percentile(smooth, 10))
    slope = float(np.abs(np.diff(smooth)).max()) if len(smooth) > 1 else 0.0
    return contrast / slope if slope > 0 else float("inf")


def _border_profiles(cell: CellImage, px_per_mm: float, reduce=np.mean) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Darkness profiles across a found square's vertical sides (along x) and horizontal
    sides (along y), each ``reduce``-d along the middle three fifths of the line: clear of
    the corners, where the lines cross. 3 mm either side of the border's outer edge."""
    dark = cell.dark
    left, top, right, bottom = cell.frame_px
    height, width = dark.shape
    pad = int(3 * px_per_mm)
    ys = slice(top + (bottom - top) // 5, bottom - (bottom - top) // 5)
    xs = slice(left + (right - left) // 5, right - (right - left) // 5)
    across_x = [reduce(dark[ys, max(0, x - pad):min(width, x + pad)], axis=0) for x in (left, right)]
    across_y = [reduce(dark[max(0, y - pad):min(height, y + pad), xs], axis=1) for y in (top, bottom)]
    return across_x, across_y


def border_blur_mm(cells: list[CellImage], *, px_per_mm: float = PX_PER_MM) -> float | None:
    """How far the photo's blur spreads a printed edge (mm), from the squares' borders.

    Each border line is averaged along its length, so sensor noise, which inflates the
    Laplacian :func:`sharpness`, cancels out; each square reports its most spread side, so
    a shake along one axis counts in full. Median over the visible squares; None if none.
    A pen stroke 0.4 mm wide keeps about 0.4 / blur of its darkness.
    """
    widths = []
    for c in cells:
        if c.frame_px is None or not c.score.visible:
            continue
        across_x, across_y = _border_profiles(c, px_per_mm)
        widths.append(max(_edge_width_px(p) for p in across_x + across_y if p.size > 2) / px_per_mm)
    return float(np.median(widths)) if widths else None


#: Darkness below this share of a border profile's peak is left out of its spread: sensor
#: noise far from the line would otherwise weigh in with the square of its distance.
SPREAD_FLOOR = 0.1


def _profile_variance(profile: np.ndarray) -> float:
    """Second moment (px²) of a darkness profile across one line, about its centre."""
    if profile.size < 3 or not np.isfinite(profile).all():
        return float("nan")
    p = profile.astype(np.float64) - float(np.percentile(profile, 10))
    p[p < SPREAD_FLOOR * p.max()] = 0.0
    total = p.sum()
    if total <= 0:
        return float("nan")
    x = np.arange(p.size)
    centre = (x * p).sum() / total
    return float(((x - centre) ** 2 * p).sum() / total)


def border_blur_variance(cells: list[CellImage], *, px_per_mm: float = PX_PER_MM,
                         line_mm: float = 1.0) -> tuple[float, float] | None:
    """How far the photo's blur spreads a thin line across x and across y (variance, mm²).

    Measured on the squares' borders: a border line's darkness, taken across it (the median
    along its middle, so a pen stroke over part of it does not count), spreads by the
    line's own weight (``line_mm``, a uniform spread of ``line_mm² / 12``) plus the blur.
    The vertical sides give the spread across x, the horizontal ones across y; unlike
    :func:`border_blur_mm` this keeps growing with blur wider than the line, and says
    along which axis a shake ran (see :mod:`ballot_vision.deblur`). None without squares.
    """
    across_x, across_y = [], []
    for c in cells:
        if c.frame_px is None or not c.score.visible:
            continue
        xs, ys = _border_profiles(c, px_per_mm, np.median)
        across_x += [_profile_variance(p) for p in xs]
        across_y += [_profile_variance(p) for p in ys]
    if not np.isfinite(across_x).any() or not np.isfinite(across_y).any():
        return None
    base = line_mm ** 2 / 12.0
    return tuple(max(0.0, float(np.nanmedian(v)) / px_per_mm ** 2 - base) for v in (across_x, across_y))


def glare(cells: list[CellImage]) -> float | None:
    """Largest share of a visible square's interior blown out by a specular highlight.

    White paper in bright light is near 255 too, so only pixels both saturated and much
    brighter than the cell's typical paper count.
    """
    shares = []
    for c in cells:
        if not c.score.visible:
            continue
        il, it, ir, ib = c.interior_px
        roi = c.bgr[it:ib, il:ir].min(axis=2)
        if roi.size:
            typical = float(np.median(to_gray(c.bgr)))
            shares.append(float(((roi >= 250) & (roi >= typical + 25)).mean()))
    return float(max(shares)) if shares else None
