"""Locate the option table in a photo: its cells, its rows and which way is up.

The table is the most reliable structure on a ballot: its rules form one connected ink
component whose holes are the cells, two per row (the wide name cell and the square cell
on its right). Cells survive what breaks other cues: a cluttered background (no page edge
needed), a corner out of frame, a pen mark inside a square, a crease across the table.
From the name-cell → square-cell direction we also get the orientation (0/90/180/270 and
anything between) without OCR.

Coordinates are image (x, y) pixels of the photo as given (EXIF orientation applied).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..imaging import order_quad, paper_level, to_gray

#: Pixels darker than the local paper by this share are ink (printed or pen).
INK_DARKNESS = 0.2
#: Second, fainter ink level tried when no table is found at INK_DARKNESS: motion blur
#: across a rule spreads it into a pale band (a 1.5-px rule smeared over 10 px keeps a
#: sixth of its darkness), so the rules perpendicular to the shake vanish and no cell
#: stays closed. Only tried after a failure, so sharp photos are read as before.
FAINT_INK_DARKNESS = 0.12
#: A hole smaller than this share of the image's long side (squared) cannot be a cell.
MIN_CELL_SIDE_FRACTION = 1 / 90
#: Name cell / square cell area ratio of a table row. 2021: 156 × 30 vs 30 × 30 → 5.2;
#: 2023 A5: 108 × 22 vs 24 × 22 → 4.5. A wide margin covers printing differences and tilt.
ROW_AREA_RATIO = (2.2, 10.0)
#: A cell's shortest side over its longest. A name cell is 156 × 25–33 mm (about 1:6 at
#: the shortest rows), and a camera tilted towards the table foreshortens it further
#: (1:7.1 in make eval seed 3736675841, IMG_00114, whose every name cell was missed for
#: it, so no row was paired and the table's direction came from the square column alone).
CELL_SIDE_RATIO = 0.07
#: The same for a square cell or a printed square (about 1:1): anything much thinner is a
#: sliver between two lines, such as a square's side and the table's border, which with a
#: square's inside for a "name cell" made a row of a small, far-off ballot (make eval seed
#: 1649070854, IMG_01056; at 0.15 a 1:4.5 sliver did again: seed 4093317526, IMG_00407).
#: A square cell is at most about 1:1.3 (25 mm wide, 33 tall), 1:2 foreshortened.
SQUARE_SIDE_RATIO = 0.35


#: A cell whose quad comes this near the photo's edge (px) was cut open by it.
FRAME_TOUCH_PX = 3


@dataclass(frozen=True)
class LocateFailure:
    """A falsy result: the table was not found, and why."""

    reason: str
    #: Cell-shaped holes that were found but formed no table row, (4, 2) float32 quads in
    #: photo pixels: a ballot whose square column is out of frame leaves its name cells.
    cells: tuple[np.ndarray, ...] = ()
    #: The table its name cells alone make, where they do (see :func:`_rows_beside_names`):
    #: taken only where no look at the photo shows a square cell beside a name cell.
    by_names: TableObservation | None = None
    #: ...and its printed squares alone (see :func:`_rows_from_squares`): only where no
    #: look's name cells make one either.
    by_squares: TableObservation | None = None
    #: ...with the names' print found only further out (``NAME_BAND_FAR_REACH``): only
    #: where no look makes one by nearer print (an enlarged look may show the rule that
    #: bounds the squares' cells, which this one missed).
    by_far_squares: TableObservation | None = None

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class RowCells:
    """One table row as seen in the photo.

    Quads are (4, 2) float32 arrays of (x, y) photo pixels ordered top-left, top-right,
    bottom-right, bottom-left in the ballot's own frame. Either may be None when that cell
    was not seen (occluded, out of frame, broken rule).
    """

    name_quad: np.ndarray | None
    square_quad: np.ndarray | None


@dataclass(frozen=True)
class TableObservation:
    """The table found in a photo.

    rows : rows from the top of the ballot down; None for a row known to exist (between
        two seen rows) but not seen itself.
    right_xy, down_xy : (2,) unit vectors, the ballot's +x and +y in photo pixels.
    rotation_deg : the ballot's in-plane rotation in the photo (degrees, counter-clockwise
        positive as seen on screen), and ``quarter_turns`` its nearest multiple of 90.
    pitch_px : median distance between consecutive rows, photo pixels.
    rows_above, rows_below : rows the table's outline suggests beyond the seen ones.
    cut_above, cut_below : the table's rules run into the photo's edge beyond the first
        (last) seen row: rows may lie out of frame there, however few the outline shows.
    """

    rows: tuple[RowCells | None, ...]
    right_xy: np.ndarray
    down_xy: np.ndarray
    rotation_deg: float
    pitch_px: float
    rows_above: int = 0
    rows_below: int = 0
    cut_above: bool = False
    cut_below: bool = False

    @property
    def quarter_turns(self) -> int:
        return int(round(self.rotation_deg / 90.0)) % 4

    @property
    def n_seen(self) -> int:
        return sum(1 for r in self.rows if r is not None)


@dataclass(frozen=True)
class _Cell:
    quad: np.ndarray  # (4, 2) float32, unordered
    area: float
    centre: np.ndarray  # (2,)
    parent: int
    index: int
    has_square: bool  # a heavy-bordered square sits inside


def ink_mask(gray: np.ndarray, *, darkness: float = INK_DARKNESS) -> np.ndarray:
    """Binary mask of everything printed or written (uint8 0/255).

    ``darkness`` is the share by which a pixel must be darker than the local paper.

    The paper-level kernel is a fraction of the image size so that it is wider than any
    printed rule or pen stroke at any plausible framing.
    """
    return _ink_at(_paper(gray), darkness)


def _paper(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The photo smoothed, and its local paper level ((M, N) float32 each), for :func:`_ink_at`."""
    kernel_px = max(9, max(gray.shape) // 60)
    # Smooth sensor noise and JPEG grain first: the paper level is a local maximum, which
    # noise would bias upwards and so make all paper look slightly dark.
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.0)
    return smooth.astype(np.float32), paper_level(smooth, kernel_px=kernel_px)


def _ink_at(paper: tuple[np.ndarray, np.ndarray], darkness: float) -> np.ndarray:
    """:func:`ink_mask` at ``darkness`` of a photo's :func:`_paper` (one per photo for every level)."""
    smooth, level = paper
    # relative_darkness > darkness, in the same float32 steps (its clipping changes nothing here).
    mask = cv2.compare(np.float32(1.0) - smooth / level, float(np.float32(darkness)), cv2.CMP_GT)
    # Close 1-px breaks in faint, blurred rules so that cells stay closed holes.
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))


def _as_quad(contour: np.ndarray, *, min_side_ratio: float) -> np.ndarray | None:
    """A convex quadrilateral approximating ``contour``, or None if it is not one (or its
    shortest side is under ``min_side_ratio`` of its longest)."""
    area = cv2.contourArea(contour)
    if area <= 0:
        return None
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.035, 0.05):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            break
    else:
        return None
    quad = approx.reshape(4, 2).astype(np.float32)
    quad_area = cv2.contourArea(quad)
    # The hole must fill its quad (a cell), not be a ragged blob that happens to fit one.
    if quad_area <= 0 or area / quad_area < 0.85:
        return None
    if _side_ratio(quad) < min_side_ratio:
        return None
    return quad


def _side_ratio(quad: np.ndarray) -> float:
    """A quad's (4, 2) shortest side over its longest."""
    sides = np.linalg.norm(quad - np.roll(quad, 1, axis=0), axis=1)
    return float(sides.min() / max(float(sides.max()), 1e-6))


def _depths(hierarchy: np.ndarray) -> np.ndarray:
    parents = hierarchy[:, 3]
    depth = np.full(len(parents), -1, dtype=np.int32)
    for i in range(len(parents)):
        chain = []
        j = i
        while j != -1 and depth[j] == -1:
            chain.append(j)
            j = parents[j]
        base = -1 if j == -1 else depth[j]
        for k in reversed(chain):
            base += 1
            depth[k] = base
    return depth


def _has_square_inside(index: int, contours, hierarchy: np.ndarray, cell_area: float) -> bool:
    """True when a component inside the cell hole is a bordered square (outline + hole)."""
    child = hierarchy[index, 2]
    while child != -1:
        area = cv2.contourArea(contours[child])
        if 0.12 * cell_area <= area <= 0.75 * cell_area:
            quad = _as_quad(contours[child], min_side_ratio=SQUARE_SIDE_RATIO)
            if quad is not None:
                return True
        child = hierarchy[child, 0]
    return False


def find_cells(ink: np.ndarray, contours, hierarchy: np.ndarray | None) -> list[_Cell]:
    """Every quadrilateral hole in the ink that is big enough to be a table cell.

    ``contours, hierarchy`` are ``cv2.findContours(ink, RETR_TREE, ...)`` with the
    hierarchy's first axis dropped.
    """
    if hierarchy is None:
        return []
    depth = _depths(hierarchy)
    min_side = max(ink.shape) * MIN_CELL_SIDE_FRACTION
    cells = []
    for i, contour in enumerate(contours):
        if depth[i] % 2 == 0:  # outer boundaries; cells are holes
            continue
        area = cv2.contourArea(contour)
        if area < min_side * min_side or area > 0.5 * ink.size:
            continue
        quad = _as_quad(contour, min_side_ratio=CELL_SIDE_RATIO)
        if quad is None:
            continue
        cells.append(
            _Cell(
                quad=quad,
                area=float(area),
                centre=quad.mean(axis=0),
                parent=int(hierarchy[i, 3]),
                index=i,
                has_square=_has_square_inside(i, contours, hierarchy, area),
            )
        )
    return cells


def _shared_edge(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    """Whether two quads have two corners each within ``tol`` pixels of the other's."""
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return int((d.min(axis=1) < tol).sum()) >= 2


def _pair_rows(cells: list[_Cell]) -> list[tuple[_Cell, _Cell]]:
    """(name cell, square cell) pairs: neighbours under one grid, area ratio of a row."""
    pairs = []
    for sq in cells:
        if _side_ratio(sq.quad) < SQUARE_SIDE_RATIO:
            continue
        best = None
        for nm in cells:
            if nm is sq or nm.parent != sq.parent:
                continue
            ratio = nm.area / sq.area
            if not ROW_AREA_RATIO[0] <= ratio <= ROW_AREA_RATIO[1]:
                continue
            tol = max(6.0, 0.25 * np.sqrt(sq.area))
            if _shared_edge(nm.quad, sq.quad, tol):
                score = abs(np.log(ratio / 5.0)) - (1.0 if sq.has_square else 0.0)
                if best is None or score < best[0]:
                    best = (score, nm)
        if best is not None:
            pairs.append((best[1], sq))
    return pairs


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


#: A name cell's short side over its long one is at most this (156 × 25–33 mm: about 1:5).
NAME_CELL_SIDE_RATIO = 0.45
#: Name cells of one stack have areas within this factor of their median, and long sides
#: within this angle (degrees) of one another.
NAME_STACK_AREA = 1.6
NAME_STACK_ANGLE = 12.0
#: Beside a stack of name cells, the grid reaches at least this far (share of a row's
#: height) on the squares' side, and at most this far on the other (its border alone).
SQUARE_SIDE_REACH = (0.5, 0.3)
#: A printed square's centre lies within this share of its row's height of its cell's,
#: and its inside's shortest side is at least this share of its longest.
SQUARE_OFF_CENTRE = 0.15
SQUARE_INSIDE_SIDE_RATIO = 0.5


def _rows_beside_names(contours, cells: list[_Cell]) -> tuple[int, np.ndarray, list, list] | None:
    """Rows of a table whose square cells are no holes of their own, from its name cells.

    A square printed close to its cell's rules (a narrow square column, a small or blurred
    photo) merges with them: its cell splits into slivers around the square's inside, and
    no square cell pairs with a name cell (make eval seed 4093317526, IMG_00057, IMG_00262:
    sharp enough to read, taken for backs). The name cells still stack in one grid, whose
    outline reaches a square column's width past their ends on one side and a border's on
    the other; each row's square cell is that reach, beside its name cell. A square's inside
    must show in half the rows at least (a hole about square, in the square cell), so that a
    form's stack of fields with a column beside it is no ballot table.

    Returns (grid parent index, right unit vector, (name, square) pairs, []) as
    :func:`_orient` does, or None.
    """
    stacks: dict[int, list[_Cell]] = {}
    for c in cells:
        if c.parent >= 0 and _side_ratio(c.quad) <= NAME_CELL_SIDE_RATIO:
            stacks.setdefault(c.parent, []).append(c)
    best = None
    for parent, names in stacks.items():
        outline = contours[parent].reshape(-1, 2).astype(np.float32)
        insides = [c for c in cells if c.parent == parent and _side_ratio(c.quad) >= SQUARE_INSIDE_SIDE_RATIO]
        for group in _alike_groups(names):
            found = _name_stack(outline, group)
            if found is None:
                continue
            right, rows = found
            shown = sum(1 for _, sq in rows if any(_square_inside(c, sq) for c in insides))
            if shown >= max(1, len(rows) // 2) and (best is None or len(rows) > len(best[2])):
                best = (parent, right, rows, [])
    return best


def _column_axes(centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(down, right) float32 unit vectors of a column of points ((K, 2) px): along its
    best-fitting line, and across it (signs arbitrary)."""
    _, _, vt = np.linalg.svd(centres - centres.mean(axis=0))
    down = vt[0].astype(np.float32)
    return down, np.array([-down[1], down[0]], dtype=np.float32)


def _away_from_names(outline: np.ndarray, centres: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``right`` or its opposite, pointing from the names to a column of squares at
    ``centres``: the grid's ``outline`` ((K, 2) px) reaches far to the names' side of the
    column and barely past it on the other, whether or not the rules between the names
    survived."""
    reach = (outline - centres.mean(axis=0)) @ right
    return -right if abs(float(reach.max())) > abs(float(reach.min())) else right


def _column_ends(centres: np.ndarray, down: np.ndarray, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """The top and bottom ends ((2,) px) of a column of squares' rows: half a pitch beyond
    its first and last square's centres along ``down``."""
    along = centres @ down
    return (centres[int(np.argmin(along))] - down * pitch / 2,
            centres[int(np.argmax(along))] + down * pitch / 2)


#: A printed square's inside over its outline's area: 16 over 18 mm squared is 0.79; a heavy
#: border on a small photo leaves less, and an outline that takes in a rule more.
SQUARE_INSIDE_AREA = (0.3, 0.92)
#: A row is this many squares tall (rows 25-33 mm, squares 15-20 mm: 1.25-2.2).
ROW_PITCH_SQUARES = (1.15, 2.5)
#: From a square's centre, the table's border lies at most this many square sides out on the
#: squares' side (a 30-mm cell around 18 mm: 0.83), and at least this many on the names'.
SQUARE_CELL_REACH = 1.5
NAME_CELL_REACH = 2.5
#: Half a square cell's width in square sides, where no border encloses the squares to
#: measure it by (the design's 30 mm around 18).
SQUARE_CELL_HALF = 0.83
#: Where no border encloses the squares, the names' side holds this many times the ink of
#: the other (print against the sheet's margin), and this share at least, in a band from one
#: square side out to NAME_BAND_REACH, or else (at any look, see LocateFailure) out to
#: NAME_BAND_FAR_REACH. A name cell is about eight square sides wide and its names may sit
#: anywhere in it: a press's left-aligned names ended three sides short of the squares, and
#: the near band found no print (seed 605918237, IMG_00324). The near band goes first: the
#: far one may reach past the sheet's margin into whatever lies beside it.
NAMES_INK_RATIO = 2.0
NAMES_MIN_INK = 0.02
NAME_BAND_REACH = 3.0
NAME_BAND_FAR_REACH = 6.0


def _rows_from_squares(ink: np.ndarray, contours, hierarchy: np.ndarray, cells: list[_Cell], *,
                       names_reach: float = NAME_BAND_REACH,
                       level: np.ndarray | None = None) -> tuple[int, np.ndarray, list, list] | None:
    """Rows of a table whose rules are too faint to close a cell, from its printed squares.

    A press's hairline rules (0.15 mm) vanish on a small or blurred photo while the squares'
    heavy borders stay, and often the table's border: a sharp 960-px vote printed so was taken
    for a back (second press, make eval seed 605918237, IMG_00045). A square is centred in
    its cell, whose far side is the table's border: each row's square cell is made of the
    square's centre, out to the border and as far back (``SQUARE_CELL_HALF`` square sides
    where no border encloses them), a row's pitch tall. It takes two squares alike in one
    column at a row's pitch, with the names' side told by the border's reach (far on the
    names' side) or else by the ink beside the column, out to ``names_reach`` square sides,
    on the paper only where the photo's local paper ``level`` ((M, N), see :func:`_paper`) is given.

    Returns (the table's outline index or -1, right unit vector, [], square cells) as
    :func:`_orient` does for a column of square cells without name cells, or None.
    """
    columns: dict[int, list[tuple[_Cell, float]]] = {}
    for c in cells:
        square = c.parent
        if square < 0 or _side_ratio(c.quad) < SQUARE_INSIDE_SIDE_RATIO:
            continue
        outline = _as_quad(contours[square], min_side_ratio=SQUARE_INSIDE_SIDE_RATIO)
        if outline is None:
            continue
        side = float(np.sqrt(cv2.contourArea(outline)))
        if SQUARE_INSIDE_AREA[0] <= c.area / side**2 <= SQUARE_INSIDE_AREA[1]:
            columns.setdefault(int(hierarchy[square, 3]), []).append((c, side))
    best = None
    for hole, found in columns.items():
        side = float(np.median([s for _, s in found]))
        found = [(c, s) for c, s in found if _alike_side(s, side)]
        filled = _filled_squares(contours, hierarchy, hole, side, found) if len(found) >= 2 else []
        # Squares a mark filled count only where the column holds with them: a blob that
        # merely looks like one must not break the column its clean squares make.
        column = None
        for squares in ([found + filled] if filled else []) + [found]:
            column = _square_column(ink, contours, hierarchy, hole, squares, side, names_reach, level)
            if column is not None:
                break
        if column is not None and (best is None or len(column[3]) > len(best[3])):
            best = column
    return best


def _alike_side(s: float, side: float) -> bool:
    """Whether a square of side ``s`` is alike in size to squares of side ``side`` (px):
    their areas within ``NAME_STACK_AREA`` of each other."""
    return abs(np.log(s / side)) <= np.log(NAME_STACK_AREA) / 2


def _square_column(ink: np.ndarray, contours, hierarchy: np.ndarray, hole: int, found: list[tuple[_Cell, float]],
                   side: float, names_reach: float,
                   level: np.ndarray | None = None) -> tuple[int, np.ndarray, list, list] | None:
    """The rows of one column of printed squares (``found``: cells and their sides in px,
    ``side`` their median) inside ``hole`` (a contour index, or -1), as
    :func:`_rows_from_squares` returns them, or None where they make no column of rows."""
    if len(found) < 2:
        return None
    centres = np.array([c.centre for c, _ in found])
    down, right = _column_axes(centres)
    order = np.argsort(centres @ down)
    found, centres = [found[i] for i in order], centres[order]
    sides = np.array([s for _, s in found])
    # Steps in square sides where they are (a slanted camera shrinks both down the column).
    steps = np.diff(centres @ down) / ((sides[1:] + sides[:-1]) / 2)
    unit = float(steps.min())
    if (np.ptp(centres @ right) > 0.3 * side
            or not ROW_PITCH_SQUARES[0] <= unit <= ROW_PITCH_SQUARES[1]
            or np.any(np.abs(steps / unit - np.round(steps / unit)) > 0.2)):
        return None
    pitch = unit * side
    if hole >= 0:
        polygon = contours[hole].reshape(-1, 2).astype(np.float32)
        right = _away_from_names(polygon, centres, right)
        near = [_ray_exit(polygon, c.centre, right) for c, _ in found]
        far = [_ray_exit(polygon, c.centre, -right) for c, _ in found]
        if not (0.5 * side < float(np.median(near)) <= SQUARE_CELL_REACH * side
                and float(np.median(far)) >= NAME_CELL_REACH * side):
            return None
    else:
        beside = {sign: _band_ink(ink, centres, sign * right, down, side, pitch, names_reach, level)
                  for sign in (1.0, -1.0)}
        if beside[1.0] > beside[-1.0]:
            right = -right
        names_ink = max(beside.values())
        if names_ink < NAMES_MIN_INK or names_ink < NAMES_INK_RATIO * min(beside.values()):
            return None
        # The rule between names and squares, or the table's right side, where it shows:
        # the cell is no wider than that (a press's 2.5-mm margins around a 15-mm square
        # put its rule inside a design-wide cell, where it was taken for the square's
        # side and every square scored as marked: seed 605918237, IMG_00352).
        rules = [_rule_offset(ink, centres, sign * right, down, side, pitch) for sign in (-1.0, 1.0)]
        measured = [d for d in rules if d is not None]
        near = [(min(measured) if measured else SQUARE_CELL_HALF * side) * s / side for s in sides]
    down = np.array([-right[1], right[0]], dtype=np.float32)
    made = []
    for (c, s), r in zip(found, near):
        quad = np.float32([c.centre + a * r * right + b * unit * s / 2 * down
                           for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
        made.append(_Cell(quad=quad, area=float(cv2.contourArea(quad)), centre=c.centre.astype(np.float32),
                          parent=-1, index=-1, has_square=True))
    return (int(hierarchy[hole, 3]) if hole >= 0 else -1, right, [], made)


def _filled_squares(contours, hierarchy: np.ndarray, hole: int, side: float,
                    column: list[tuple[_Cell, float]]) -> list[tuple[_Cell, float]]:
    """Printed squares in ``hole`` whose inside a mark has filled or split: solid square
    blobs of about ``side`` (px) on the line of the ``column`` of two or more squares
    already found by their insides (cells whose ``parent`` is the square's outline).

    A scribble or a fill leaves no hole, and a row without its square breaks the column's
    pitch: a sharp, hairline-ruled vote whose marked square sat between the two others
    was taken for a back (second press, make eval seed 605918237, IMG_00324).
    """
    outlines = {c.parent for c, _ in column}
    centres = np.array([c.centre for c, _ in column])
    _, across = _column_axes(centres)
    squares = []
    for j in np.flatnonzero(hierarchy[:, 3] == hole):
        area = cv2.contourArea(contours[j])
        if int(j) in outlines or not 0.4 <= area / side**2 <= 2.5:
            continue
        quad = _as_quad(contours[j], min_side_ratio=SQUARE_INSIDE_SIDE_RATIO)
        if quad is None or abs(float((quad.mean(axis=0) - centres.mean(axis=0)) @ across)) > FILLED_OFF_COLUMN * side:
            continue
        s = float(np.sqrt(cv2.contourArea(quad)))
        # Solid and square: a round emblem's blob overfills the quad its outline reduces to.
        if _alike_side(s, side) and area <= FILLED_SQUARE_OVERFILL * s * s:
            squares.append((_Cell(quad=quad, area=s * s, centre=quad.mean(axis=0), parent=int(j), index=-1,
                                  has_square=True), s))
    return squares


#: A solid square's blob covers at most this share of the quad its outline reduces to (a
#: disc covers pi/2 of the square inscribed in it).
FILLED_SQUARE_OVERFILL = 1.15
#: ...and its centre lies within this many square sides of the column's line.
FILLED_OFF_COLUMN = 0.2


#: A rule beside a column of squares is ink along this share of the column's length.
RULE_ALONG_COLUMN = 0.6


def _rule_offset(ink: np.ndarray, centres: np.ndarray, direction: np.ndarray, down: np.ndarray,
                 side: float, pitch: float) -> float | None:
    """Distance (px) from a column of squares' centres (``centres``, (K, 2) px) out along
    ``direction`` to the first rule running along the whole column (ink along
    ``RULE_ALONG_COLUMN`` of it), searched from just outside the squares to
    ``SQUARE_CELL_HALF`` square sides; None where there is none."""
    top, _ = _column_ends(centres, down, pitch)
    steps = np.arange(0.0, float(np.ptp(centres @ down)) + pitch, 1.0)
    height, width = ink.shape
    for offset in np.arange(0.6 * side, SQUARE_CELL_HALF * side, 1.0):
        points = np.round(top + offset * direction + steps[:, None] * down).astype(np.int32)
        inside = (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)
        if inside.mean() < 0.9:
            return None
        if np.count_nonzero(ink[points[inside, 1], points[inside, 0]]) >= RULE_ALONG_COLUMN * len(steps):
            return float(offset)
    return None


def _band_ink(ink: np.ndarray, centres: np.ndarray, direction: np.ndarray, down: np.ndarray,
              side: float, pitch: float, reach: float, level: np.ndarray | None = None) -> float:
    """Share of ink in a band beside a column of squares (``centres``, (K, 2) px), from one
    to ``reach`` square sides out along ``direction``, the column's length plus half a pitch
    at each end; where the local paper ``level`` is given, only ink on paper about as bright
    as the squares' counts.

    Beyond the sheet's edge, a wooden table's grain is "ink" against its own level: a
    sheet whose names end short of the squares lay near a table's edge, the grain beside
    the squares outweighed the names, and the ballot was read upside down (second press,
    make eval seed 3316624790, IMG_00264).
    """
    top, bottom = _column_ends(centres, down, pitch)
    near, far = side, reach * side
    band = np.float32([top + near * direction, top + far * direction, bottom + far * direction, bottom + near * direction])
    mask = np.zeros(ink.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(band).astype(np.int32), 1)
    inside = mask > 0
    area = int(np.count_nonzero(inside))
    if level is not None:
        h, w = level.shape
        at = np.clip(np.round(centres).astype(np.int32), 0, (w - 1, h - 1))
        inside &= level >= BAND_PAPER_LEVEL * float(np.median(level[at[:, 1], at[:, 0]]))
    return float(np.count_nonzero(ink[inside])) / area if area else 0.0


#: Paper beside a column of squares is at least this share of the paper level at the squares
#: (a table, a cloth or a floor beyond the sheet's edge is darker; a shadow across the sheet
#: rarely takes off more).
BAND_PAPER_LEVEL = 0.75


def _square_inside(hole: _Cell, cell: _Cell) -> bool:
    """Whether ``hole`` may be the inside of the printed square of square cell ``cell``:
    the right size, about centred in it (a cell split in two halves is not)."""
    height = _cell_height(cell.quad)
    return (0.1 * cell.area <= hole.area <= 0.8 * cell.area
            and float(np.linalg.norm(hole.centre - cell.centre)) <= SQUARE_OFF_CENTRE * height)


def _alike_groups(cells: list[_Cell]) -> list[list[_Cell]]:
    """The sets of at least two cells alike in size and direction, each around one cell:
    a table's name cells, or the slivers of its split square cells (long and thin too)."""
    axes = np.array([_long_side_direction(c.quad) for c in cells])
    areas = np.array([c.area for c in cells])
    alike = ((np.abs(axes @ axes.T) > np.cos(np.deg2rad(NAME_STACK_ANGLE)))
             & (np.abs(np.log(areas[:, None] / areas[None, :])) <= np.log(NAME_STACK_AREA)))
    groups = {tuple(np.flatnonzero(row)) for row in alike if row.sum() >= 2}
    return [[cells[i] for i in g] for g in sorted(groups)]


def _long_side_direction(quad: np.ndarray) -> np.ndarray:
    """Unit vector along a (4, 2) quad's longest side."""
    sides = quad - np.roll(quad, 1, axis=0)
    return _unit(sides[int(np.argmax(np.linalg.norm(sides, axis=1)))])


def _name_stack(outline: np.ndarray, names: list[_Cell]) -> tuple[np.ndarray, list[tuple[_Cell, _Cell]]] | None:
    """(right unit vector, (name, synthesised square cell) pairs) of one grid's stack of
    name cells (alike, see :func:`_alike_groups`), or None where they are none."""
    first = _long_side_direction(names[0].quad)
    axis = _unit(np.sum([a if a @ first > 0 else -a for a in (_long_side_direction(c.quad) for c in names)], axis=0))
    down = np.array([-axis[1], axis[0]], dtype=np.float32)
    length = float(np.median([np.ptp(c.quad @ axis) for c in names]))
    height = float(np.median([np.ptp(c.quad @ down) for c in names]))
    # One stack: centres on one line across the rows.
    centre_u = np.array([c.centre @ axis for c in names])
    if np.ptp(centre_u) > 0.25 * length:
        return None
    # Each cell ordered with +x either way along the stack, and how far the grid reaches past it.
    ordered = {sign: [order_quad(c.quad, (sign * axis).astype(np.float32), sign * down) for c in names]
               for sign in (1.0, -1.0)}
    reaches = {sign: [_reach(outline, q) for q in quads] for sign, quads in ordered.items()}
    reach = {sign: float(np.median(r)) for sign, r in reaches.items()}
    sign = 1.0 if reach[1.0] >= reach[-1.0] else -1.0
    if reach[sign] < SQUARE_SIDE_REACH[0] * height or reach[-sign] > SQUARE_SIDE_REACH[1] * height:
        return None
    right = (sign * axis).astype(np.float32)
    rule = reach[-sign]  # the border beyond the names' far ends: about a rule's width
    rows = []
    for c, q, cell_reach in zip(names, ordered[sign], reaches[sign]):
        width = cell_reach - 2 * rule
        if width < SQUARE_SIDE_REACH[0] * height:
            continue
        top, bottom = _unit(q[1] - q[0]), _unit(q[2] - q[3])
        square = np.float32([q[1] + rule * top, q[1] + (rule + width) * top,
                             q[2] + (rule + width) * bottom, q[2] + rule * bottom])
        area = float(cv2.contourArea(square))
        rows.append((c, _Cell(quad=square, area=area, centre=square.mean(axis=0), parent=c.parent, index=-1,
                              has_square=False)))
    return (right, rows) if len(rows) >= 2 else None


def _reach(outline: np.ndarray, quad: np.ndarray) -> float:
    """How far (px) the outline polygon lies beyond a cell's right side (quad ordered TL, TR, BR, BL),
    along the cell's rows: where rays from its right side, along its top and bottom, leave it."""
    top, bottom = _unit(quad[1] - quad[0]), _unit(quad[2] - quad[3])
    exits = []
    for share in (0.25, 0.75):
        origin = quad[1] + share * (quad[2] - quad[1])
        exits.append(_ray_exit(outline, origin, _unit((1 - share) * top + share * bottom)))
    return float(np.mean(exits))


def _ray_exit(polygon: np.ndarray, origin: np.ndarray, direction: np.ndarray) -> float:
    """Distance (px) along ``direction`` from ``origin`` to the nearest crossing of the closed
    ``polygon`` ((K, 2) px); 0 when the ray crosses none."""
    p = polygon.astype(np.float64)
    e = np.roll(p, -1, axis=0) - p
    w = p - origin
    denom = direction[0] * e[:, 1] - direction[1] * e[:, 0]
    valid = np.abs(denom) > 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (w[:, 0] * e[:, 1] - w[:, 1] * e[:, 0]) / denom
        s = (w[:, 0] * direction[1] - w[:, 1] * direction[0]) / denom
    hits = t[valid & (s >= 0) & (s <= 1) & (t > 0)]
    return float(hits.min()) if len(hits) else 0.0


def _orient(contours, cells: list[_Cell], pairs: list[tuple[_Cell, _Cell]]):
    """Choose the table's grid and the ballot's +x direction.

    Returns (grid parent index, right unit vector, agreeing (name, square) pairs, square
    cells without a name cell), or a LocateFailure. With name/square pairs, +x points from
    name cell to square cell. Without any (the rules between name cells broken by blur or
    a shadow), a column of square cells still fixes +x: perpendicular to the column,
    pointing away from the rest of the grid.
    """
    by_parent: dict[int, list] = {}
    for c in cells:
        if c.has_square:
            by_parent.setdefault(c.parent, [])
    for nm, sq in pairs:
        by_parent.setdefault(sq.parent, [])
    if not by_parent:
        return LocateFailure("no table rows (name cell beside a square cell) found")

    def strength(parent: int) -> int:
        return sum(1 for nm, sq in pairs if sq.parent == parent) * 2 + sum(
            1 for c in cells if c.parent == parent and c.has_square)

    parent = max(by_parent, key=strength)
    rows = [(nm, sq) for nm, sq in pairs if sq.parent == parent]
    squares = [c for c in cells if c.parent == parent and c.has_square]
    if rows:
        directions = np.array([_unit(sq.centre - nm.centre) for nm, sq in rows])
        # The direction most pairs agree with (a stray pair must not outvote the rest).
        agree = (directions @ directions.T) > np.cos(np.deg2rad(25))
        right = directions[int(np.argmax(agree.sum(axis=1)))]
        rows = [r for r, d in zip(rows, directions) if d @ right > np.cos(np.deg2rad(25))]
        if not rows:
            return LocateFailure("table rows disagree on orientation")
        right = _unit(np.mean([_unit(sq.centre - nm.centre) for nm, sq in rows], axis=0))
    else:
        if len(squares) < 2:
            return LocateFailure("no table rows (name cell beside a square cell) found")
        centres = np.array([c.centre for c in squares])
        _, right = _column_axes(centres)
        # The name cells (the rest of the grid) lie on the -x side of the squares.
        right = _away_from_names(contours[parent].reshape(-1, 2).astype(np.float32), centres, right)
        spread = (centres - centres.mean(axis=0)) @ right
        sides = np.sqrt([c.area for c in squares])
        if np.abs(spread).max() > 0.3 * np.median(sides):
            return LocateFailure("square cells do not form one column")
    paired = {sq.index for _, sq in rows}
    reference = [sq for _, sq in rows] or squares
    sq_side = float(np.median([np.sqrt(sq.area) for sq in reference]))
    column_u = float(np.median([sq.centre @ right for sq in reference]))
    lone = [
        c for c in squares
        if c.index not in paired
        and abs(c.centre @ right - column_u) < 0.3 * sq_side
        and 0.5 < np.sqrt(c.area) / sq_side < 1.6
    ]
    if not rows and not lone:
        return LocateFailure("square cells differ too much in size to be one table's")
    return parent, right.astype(np.float32), rows, lone


def locate_table(bgr: np.ndarray, *, upscale_limit_px: int = 3600) -> TableObservation | LocateFailure:
    """Find the option table and its rows in a photo.

    When nothing is found, more looks, cheapest first: with a fainter ink level
    (``FAINT_INK_DARKNESS``: rules smeared by motion blur), then at twice the size (the
    long side at most ``upscale_limit_px``), because a ballot far from the camera has
    rules under a pixel wide and squares a couple of pixels from their cell's rules,
    which merge at the photo's own resolution and separate when enlarged. Only where no
    look shows a square cell beside a name cell are rows made of name cells alone (see
    :func:`_rows_beside_names`), or else of printed squares alone (hairline rules, see
    :func:`_rows_from_squares`): a cell seen is measured, a made one estimated.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray
        The photo, upright as a viewer sees it (EXIF orientation applied).

    Returns
    -------
    TableObservation in the photo's pixel coordinates, or a falsy LocateFailure.
    """
    gray = to_gray(bgr)
    paper = _paper(gray)
    ink = _ink_at(paper, INK_DARKNESS)

    def looks() -> Iterator[tuple[np.ndarray, float, np.ndarray]]:
        """Ink masks to look in, cheapest first, with their scale to the photo and their paper level."""
        yield ink, 1.0, paper[1]
        yield _ink_at(paper, FAINT_INK_DARKNESS), 1.0, paper[1]
        if 2 * max(gray.shape) <= upscale_limit_px:
            enlarged = _paper(cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC))
            yield _ink_at(enlarged, INK_DARKNESS), 0.5, enlarged[1]

    def estimated() -> TableObservation | None:
        """The rows an earlier look made of name cells, or else of printed squares."""
        return next((f.by_names for f in failures if f.by_names), None) \
            or next((f.by_squares for f in failures if f.by_squares), None) \
            or next((f.by_far_squares for f in failures if f.by_far_squares), None)

    failures: list[LocateFailure] = []
    for mask, scale, level in looks():
        found = _locate_ink(mask, level=level)
        if found:
            found = found if scale == 1.0 else _scaled(found, scale)
            # A fainter look may pair one row where the first made the whole table of its
            # name cells: printed squares touching their cells' rules leave no square cell
            # of their own, and the faint ink closed one (a sharp Mazhilis ballot was found
            # as one row, and read as a back: make eval seed 1618033988, IMG_00677). Rows
            # found beat more rows made, though: a made row's square cell is an estimate.
            made = estimated()
            return made if made is not None and found.n_seen == 1 < made.n_seen else found
        failures.append(replace(found, cells=tuple(q * scale for q in found.cells),
                                by_names=found.by_names and _scaled(found.by_names, scale),
                                by_squares=found.by_squares and _scaled(found.by_squares, scale),
                                by_far_squares=found.by_far_squares and _scaled(found.by_far_squares, scale)))
    made = estimated()
    if made:
        return made
    # The cells of the first look that found any (the photo's own ink before the enlarged).
    found = next((f for i, f in enumerate(failures) if f.cells and i != 1), failures[0])
    return replace(found, cells=found.cells + cells_cut_by_frame(ink), by_names=None, by_squares=None,
                   by_far_squares=None)


def cells_cut_by_frame(ink: np.ndarray) -> tuple[np.ndarray, ...]:
    """Quads of the cells that the photo's edge cuts open, closed along that edge.

    A ballot partly out of frame leaves its table's rows open at the edge: no hole, so no
    cell. With the photo's border drawn as a rule, they close.

    Parameters
    ----------
    ink : (M, N) uint8 ndarray, :func:`ink_mask` of the photo (not modified).

    Returns
    -------
    (4, 2) float32 quads in photo pixels, of cells touching the edge only.
    """
    ink = ink.copy()
    ink[0, :] = ink[-1, :] = 255
    ink[:, 0] = ink[:, -1] = 255
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    return tuple(c.quad for c in find_cells(ink, contours, hierarchy[0] if hierarchy is not None else None)
                 if _near_frame(c.quad, ink.shape).any())


def _near_frame(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(K,) bool: which of ``points`` ((K, 2) x, y px) lie within ``FRAME_TOUCH_PX`` of the photo's edge."""
    h, w = shape[:2]
    m = FRAME_TOUCH_PX
    return ((points[:, 0] <= m) | (points[:, 1] <= m) | (points[:, 0] >= w - 1 - m) | (points[:, 1] >= h - 1 - m))


def _scaled(obs: TableObservation, factor: float) -> TableObservation:
    def quad(q: np.ndarray | None) -> np.ndarray | None:
        return None if q is None else (q * factor).astype(np.float32)

    rows = tuple(None if r is None else RowCells(quad(r.name_quad), quad(r.square_quad)) for r in obs.rows)
    return replace(obs, rows=rows, pitch_px=obs.pitch_px * factor)


def _locate_ink(ink: np.ndarray, *, level: np.ndarray | None = None) -> TableObservation | LocateFailure:
    """The table in one ink mask; where no square cell pairs with a name cell, the failure
    carries the rows its name cells or printed squares alone make, if any (see
    :func:`_rows_beside_names`, :func:`_rows_from_squares`)."""
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    hierarchy = hierarchy[0] if hierarchy is not None else None
    cells = find_cells(ink, contours, hierarchy)
    if not cells:
        return LocateFailure("no table cells found")
    pairs = _pair_rows(cells)
    oriented = _orient(contours, cells, pairs)
    if not oriented:
        by_names = _rows_beside_names(contours, cells)
        by_squares = None if by_names else _rows_from_squares(ink, contours, hierarchy, cells, level=level)
        far = None if by_names or by_squares else _rows_from_squares(ink, contours, hierarchy, cells,
                                                                     names_reach=NAME_BAND_FAR_REACH, level=level)
        return replace(oriented, cells=tuple(c.quad for c in cells),
                       by_names=_observation(contours, ink.shape, *by_names) if by_names else None,
                       by_squares=_observation(contours, ink.shape, *by_squares) if by_squares else None,
                       by_far_squares=_observation(contours, ink.shape, *far) if far else None)
    if len(oriented[2]) + len(oriented[3]) == 1:
        # One row, and a column of printed squares no rules divide: the "row" was some small
        # print's boxes, the table's rules too faint to see (second press, make eval seed
        # 605918237, IMG_00311: a 15-px row under the title, beside 37-px squares).
        made = _rows_from_squares(ink, contours, hierarchy, cells, level=level)
        if made is not None:
            return LocateFailure("one row, beside a column of squares without rules between them",
                                 cells=tuple(c.quad for c in cells),
                                 by_squares=_observation(contours, ink.shape, *made))
    return _observation(contours, ink.shape, *oriented)


def _observation(contours, shape: tuple[int, ...], parent: int, right: np.ndarray,
                 rows: list[tuple[_Cell, _Cell]], lone: list[_Cell]) -> TableObservation:
    """The table of grid ``parent`` from its rows and lone square cells, in order down the ballot."""
    down = np.array([-right[1], right[0]], dtype=np.float32)
    entries: list[tuple[float, RowCells]] = []
    for nm, sq in rows:
        entries.append((float(sq.centre @ down), RowCells(order_quad(nm.quad, right, down), order_quad(sq.quad, right, down))))
    for c in lone:
        entries.append((float(c.centre @ down), RowCells(None, order_quad(c.quad, right, down))))
    entries.sort(key=lambda e: e[0])

    # Row pitch from neighbouring square cells; gaps of ~k pitches hold k-1 unseen rows.
    positions = np.array([e[0] for e in entries])
    steps = np.diff(positions)
    # Neighbouring cells share a rule, so the pitch is about one cell height; steps of
    # about one height refine it, longer ones are gaps.
    height = float(np.median([_cell_height(e[1].square_quad) for e in entries]))
    single = steps[(steps > 0.75 * height) & (steps < 1.3 * height)]
    pitch = float(np.median(single)) if len(single) else height
    ordered: list[RowCells | None] = [entries[0][1]]
    for step, (_, row) in zip(steps, entries[1:]):
        k = int(round(step / pitch)) if pitch > 0 else 1
        if k < 1:  # two detections of one row: keep the first
            continue
        ordered.extend([None] * (k - 1))
        ordered.append(row)

    angle = float(np.degrees(np.arctan2(-right[1], right[0])))
    outline = contours[parent].reshape(-1, 2).astype(np.float32) if parent >= 0 else None
    above, below = _rows_beyond(outline, ordered=ordered, down=down, pitch=pitch)
    cut_above, cut_below = _cut_beyond(outline, ordered=ordered, down=down, pitch=pitch, shape=shape)
    return TableObservation(
        rows=tuple(ordered),
        right_xy=right.astype(np.float32),
        down_xy=down,
        rotation_deg=angle % 360.0,
        pitch_px=pitch,
        rows_above=above,
        rows_below=below,
        cut_above=cut_above,
        cut_below=cut_below,
    )


def _cell_height(quad: np.ndarray) -> float:
    return float(np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2


def _seen_span(ordered: list[RowCells | None], down: np.ndarray) -> tuple[float, float]:
    """Where, along ``down`` (photo px), the first seen row's square cell starts and the last one's ends."""
    first = next(r for r in ordered if r is not None)
    last = next(r for r in reversed(ordered) if r is not None)
    return float(np.min(first.square_quad @ down)), float(np.max(last.square_quad @ down))


#: The table runs into the frame when its outline touches the photo's edge this far (share
#: of the row pitch) beyond the first or last seen row's square cell. Print or shadow
#: merged with the grid near the edge reached 0.2–0.35 pitch past complete tables (3 of
#: 1,033 decided fronts of make eval seed 1673343435 went to review at 0.2); half a pitch
#: is well inside a row cut by the frame.
CUT_BEYOND = 0.5
#: ...or touches it this far beyond (share of the pitch: past the seen row's own rule) along
#: this share of the table's width at least.
CUT_NEAR = 0.1
CUT_ACROSS = 0.8


def _cut_beyond(outline: np.ndarray | None, *, ordered: list[RowCells | None], down: np.ndarray,
                pitch: float, shape: tuple[int, ...]) -> tuple[bool, bool]:
    """Whether the table's outline reaches the photo's edge above its first seen row, and below its last.

    A row cut by the frame is no closed cell, and a fold may bend its rules away from where
    the seen rows put them; but the grid's rules still run, connected, up to the edge.
    """
    if outline is None or pitch <= 0:
        return False, False
    at_edge = outline[_near_frame(outline, shape)]
    if len(at_edge) == 0:
        return False, False
    proj = at_edge @ down
    top_seen, bottom_seen = _seen_span(ordered, down)
    # Nearer, the edge cuts the table where it touches it all across, at its rules: a grid's
    # sides and column rule running into the frame, not print or shadow merged at one place
    # (a four-row ballot cut 0.44 pitch below its third row was read as the three-row form,
    # its third row's Ak Zhol taken for ADAL: make eval seed 3571942208, IMG_00617).
    across = np.array([-down[1], down[0]], dtype=np.float32)
    width = float(np.ptp(outline @ across))

    def cut(beyond: np.ndarray) -> bool:
        return bool(beyond.any()) and width > 0 and float(np.ptp(at_edge[beyond] @ across)) >= CUT_ACROSS * width

    above = proj < top_seen - CUT_NEAR * pitch
    below = proj > bottom_seen + CUT_NEAR * pitch
    return (bool((proj < top_seen - CUT_BEYOND * pitch).any()) or cut(above),
            bool((proj > bottom_seen + CUT_BEYOND * pitch).any()) or cut(below))


def _rows_beyond(outline: np.ndarray | None, *, ordered: list[RowCells | None],
                 down: np.ndarray, pitch: float) -> tuple[int, int]:
    """How many rows the grid's own outline extends above the first and below the last seen row.

    Rows whose cells are broken (finger, glare) leave the grid's rules, so the outline of the
    grid component still spans them.
    """
    if outline is None or pitch <= 0:
        return 0, 0
    proj = outline @ down
    top_seen, bottom_seen = _seen_span(ordered, down)
    above = int(np.floor((top_seen - float(np.percentile(proj, 1))) / pitch + 0.35))
    below = int(np.floor((float(np.percentile(proj, 99)) - bottom_seen) / pitch + 0.35))
    return max(0, above), max(0, below)
