"""Register the located table to a template: photo pixels → template millimetres.

Real ballots differ from the template (row height, margins, scale), so we map the
printed *cells* onto the template's cells rather than trusting absolute positions: the
homography absorbs a different row height or table position, and the exact square inside
each cell is found later by the score stage. Each row also gets a homography of its own
from its square cell's four corners, which follows a crease or curl through the table
better than one global fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..imaging import in_frame
from ..templates import Option, Rect, Template
from .locate import RowCells, TableObservation

#: Residual (mm) of the global fit at which registration quality falls to about 1/e.
RESIDUAL_SCALE_MM = 4.0


@dataclass(frozen=True)
class RegisterFailure:
    reason: str

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class Registration:
    """How the photo maps onto the template's marks side.

    photo_to_mm : (3, 3) homography, photo (x, y) px → template (x, y) mm.
    cell_to_mm : per option, a homography from that row's own square cell, or None.
    residual_mm : RMS distance between seen cell corners and the global fit, mm (for a form
        whose only one or two rows are all seen, the homography they fix where smaller: see
        ``PERSPECTIVE_RESIDUAL_MM``).
    quality : 0–1, 1 for a perfect fit of every row.
    visible : per option, whether its printed square, with ``VISIBLE_MARGIN_MM`` around it,
        lies inside the photo.
    separator_x : where the rule between the name and square cells was printed, template
        mm (see :func:`printed_separator`); the template's own where it was not measured or
        not believed.
    square_column : the square cells' printed width over the template's, as measured (None
        where no row was seen whole); the separator is believed within
        ``SEPARATOR_CELL_RANGE``.
    """

    template: Template
    photo_to_mm: np.ndarray
    cell_to_mm: tuple[np.ndarray | None, ...]
    residual_mm: float
    quality: float
    visible: tuple[bool, ...]
    separator_x: float
    square_column: float | None = None

    @property
    def seen_rows(self) -> list[int]:
        """Indices of the rows whose own cells were seen (``cell_to_mm`` not None)."""
        return [i for i, h in enumerate(self.cell_to_mm) if h is not None]

    @property
    def unseen_rows(self) -> list[int]:
        """Indices of the rows placed by the table's fit alone."""
        return [i for i, h in enumerate(self.cell_to_mm) if h is None]

    def placed_between_seen(self, index: int) -> bool:
        """Whether row ``index`` was seen, or lies between two rows that were: placed by the
        table's fit between cells it was fitted on, not beyond them (a mark across a
        square's border often breaks its cell, so the marked row is the one unseen)."""
        seen = self.seen_rows
        return bool(seen) and seen[0] <= index <= seen[-1]

    def homography_for(self, index: int) -> np.ndarray:
        local = self.cell_to_mm[index]
        return local if local is not None else self.photo_to_mm

    def name_cell(self, index: int) -> Rect:
        return name_cell(self.template, self.template.options[index], separator_x=self.separator_x)

    def square_cell(self, index: int) -> Rect:
        return square_cell(self.template, self.template.options[index], separator_x=self.separator_x)

    def square(self, index: int) -> Rect:
        return printed_square(self.template, self.template.options[index], separator_x=self.separator_x)


def name_cell(template: Template, option: Option, *, separator_x: float | None = None) -> Rect:
    """The option's name cell, template mm; ``separator_x`` where the print put the rule."""
    table = template.table
    return Rect(table.box.x, option.row.y, _separator(template, separator_x) - table.box.x, option.row.h)


def square_cell(template: Template, option: Option, *, separator_x: float | None = None) -> Rect:
    """The option's square cell, template mm; ``separator_x`` where the print put the rule."""
    table = template.table
    sep = _separator(template, separator_x)
    return Rect(sep, option.row.y, table.box.x2 - sep, option.row.h)


def printed_square(template: Template, option: Option, *, separator_x: float | None = None) -> Rect:
    """Where the option's square is expected, template mm: the template's square, moved
    with its cell's centre when the print put the rule at ``separator_x``."""
    return option.square.shifted((_separator(template, separator_x) - template.table.separator_x) / 2, 0.0)


def _separator(template: Template, separator_x: float | None) -> float:
    return template.table.separator_x if separator_x is None else separator_x


#: A measured separator is believed where it leaves the square cell between these multiples
#: of the template's width: printed squares are 15–20 mm, each needs a few millimetres of
#: cell around it, and more than this is a misread cell, not a printing house's choice.
SEPARATOR_CELL_RANGE = (0.7, 1.4)
#: ...and where it is further than this from the template's: nearer, the print is taken to
#: follow the design. Cell corners come off a pixel contour a pixel or so askew, which
#: puts a measured rule 0.3–1 mm off the design's on sharp prints as designed (1.1 mm at
#: the 90th percentile of 80 fronts of three printing houses).
SEPARATOR_NOISE_MM = 2.0


def plausible_column(column: float) -> bool:
    """Whether a square column this many times the template's width may have been printed
    (``SEPARATOR_CELL_RANGE``)."""
    return SEPARATOR_CELL_RANGE[0] <= column <= SEPARATOR_CELL_RANGE[1]


def printed_separator(rows: list[tuple[int, RowCells]], template: Template) -> float | None:
    """Where the rule between the name and square cells was printed, template mm, or None
    where no row was seen whole.

    The table's outer corners alone (the name cells' left ends, the square cells' right
    ends) are fitted to the template's, as :func:`register` fits cells, and the rule's ends
    in the rows seen whole follow that fit: their median. A design puts the rule where its
    names fit; a printing house may move it ten millimetres (a wider square column, a
    narrower table), and cells mapped onto the template's would squeeze the squares out of
    shape and leave a residual that reads as a bad fit. (Each row's own four corners fix
    too little: 1 px on a row's short ends moved the rule 4 mm on a slanted photo.)

    Parameters
    ----------
    rows : (template row index, cells seen in the photo) for the seen rows.
    """
    table = template.table
    src, dst, ends = [], [], []
    for index, row in rows:
        r = template.options[index].row
        if row.name_quad is not None:
            src += [row.name_quad[0], row.name_quad[3]]
            dst += [(table.box.x, r.y), (table.box.x, r.y2)]
        if row.square_quad is not None:
            src += [row.square_quad[1], row.square_quad[2]]
            dst += [(table.box.x2, r.y), (table.box.x2, r.y2)]
        if row.name_quad is not None and row.square_quad is not None:
            ends += [row.name_quad[1], row.name_quad[2], row.square_quad[0], row.square_quad[3]]
    if not ends:
        return None
    h = _fit(np.float32(src), np.float32(dst), rows=len(rows))
    if h is None:
        return None
    return float(np.median(cv2.perspectiveTransform(np.float32(ends).reshape(-1, 1, 2), h)[:, 0, 0]))


def _fit(src: np.ndarray, dst: np.ndarray, *, rows: int) -> np.ndarray | None:
    """(3, 3) map of points ``src`` onto ``dst`` (K, 2), or None where they fix none.

    A homography from three rows on; one or two rows fix a homography's perspective terms
    badly, and extrapolated to the other rows it goes wild. An affine map (no perspective)
    extrapolates safely; a phone photo of a sheet is close to affine over the table.
    """
    if rows >= 3:
        h, _ = cv2.findHomography(src, dst, 0)
        return h
    # Least squares over every corner, as the homography is fitted: a robust fit (least
    # median of squares) fitted the square cells and the rule between the cells exactly and
    # left the names' far ends, a quarter of the points, 12 mm off when the print's columns
    # were not the design's, which read as a bad registration (1.3 mm by least squares:
    # make eval seed 2236067977, IMG_00487).
    ones = np.ones((len(src), 1), np.float64)
    design = np.hstack([src.astype(np.float64), ones])
    if np.linalg.matrix_rank(design) < 3:
        return None
    solution, *_ = np.linalg.lstsq(design, dst.astype(np.float64), rcond=None)
    return np.vstack([solution.T, [0.0, 0.0, 1.0]])


#: Affine residual (mm) up to which a fit of a form's only rows (one or two) may be judged
#: by the homography they fix instead (see :func:`register`): a slant's perspective leaves
#: a few millimetres. Beyond it the cells do not fit the form, and a homography would only
#: hide that: its perspective can move the rule between a row's cells anywhere (a square
#: column printed 38 mm wide, measured wrong, fitted 33 mm off affine and 2.3 mm so).
PERSPECTIVE_RESIDUAL_MM = 6.0

#: A square counts as in the photo when this much around the template's square is: printed
#: squares run up to 1 mm a side larger (20 mm for 18), and a mark that misses the square
#: lands in the next 2 mm. The rest of its cell may be cut off by the photo's edge (make
#: eval seed 3736675841, IMG_00741: a whole square, its tick and 2 mm of paper above it
#: in frame, the cell's top margin not, was sent to review as hidden).
VISIBLE_MARGIN_MM = 3.0


def _corners(rect: Rect) -> np.ndarray:
    return np.float32([[rect.x, rect.y], [rect.x2, rect.y], [rect.x2, rect.y2], [rect.x, rect.y2]])


def in_photo(region_mm: Rect, photo_to_mm: np.ndarray, image_shape: tuple[int, ...], *,
             margin_px: int = 0) -> bool:
    """Whether a template region's four corners fall in the photo, at least ``margin_px``
    pixels in from its edges."""
    height, width = image_shape[:2]
    px = cv2.perspectiveTransform(_corners(region_mm).reshape(-1, 1, 2), np.linalg.inv(photo_to_mm)).reshape(-1, 2)
    return bool(np.all((px >= margin_px) & (px <= np.array([width, height]) - 1 - margin_px)))


def register(observation: TableObservation, template: Template, *, first_row: int,
             image_shape: tuple[int, ...]) -> Registration | RegisterFailure:
    """Fit the observation's rows to the template, the first seen row being ``first_row``.

    Parameters
    ----------
    image_shape : (M, N, ...) shape of the photo, for the visibility test.
    """
    options = template.options
    rows = [(first_row + k, row) for k, row in enumerate(observation.rows) if row is not None]
    for index, _ in rows:
        if not 0 <= index < len(options):
            return RegisterFailure(f"row {index + 1} seen but template {template.id} has {len(options)} rows")
    table = template.table
    measured = printed_separator(rows, template)
    column = None if measured is None else (table.box.x2 - measured) / (table.box.x2 - table.separator_x)
    believed = column is not None and plausible_column(column) and abs(measured - table.separator_x) > SEPARATOR_NOISE_MM
    separator = measured if believed else table.separator_x
    src, dst = [], []
    cell_to_mm: list[np.ndarray | None] = [None] * len(options)
    for index, row in rows:
        option = options[index]
        if row.square_quad is not None:
            target = _corners(square_cell(template, option, separator_x=separator))
            src.append(row.square_quad)
            dst.append(target)
            cell_to_mm[index] = cv2.getPerspectiveTransform(row.square_quad.astype(np.float32), target)
        if row.name_quad is not None:
            src.append(row.name_quad)
            dst.append(_corners(name_cell(template, option, separator_x=separator)))
    if len(src) < 2:
        # One cell alone fixes a homography but cannot be checked against anything.
        if len(src) == 1:
            h = cv2.getPerspectiveTransform(np.float32(src[0]), np.float32(dst[0]))
            return _finish(template, h, cell_to_mm, residual_mm=RESIDUAL_SCALE_MM, image_shape=image_shape,
                           separator_x=separator, square_column=column)
        return RegisterFailure("no table cell to register on")
    src_pts = np.concatenate(src).astype(np.float32)
    dst_pts = np.concatenate(dst).astype(np.float32)
    h = _fit(src_pts, dst_pts, rows=len(rows))
    if h is None:
        return RegisterFailure("homography fit failed (degenerate cells)")
    residual = _residual(src_pts, dst_pts, h)
    if len(rows) < 3 and len(rows) == len(options) and residual <= PERSPECTIVE_RESIDUAL_MM:
        # A form's every row seen, too few of them for a homography to map beyond them (see
        # _fit): perspective over the table is no misfit. How well its cells fit is judged
        # by the homography they fix, each square mapped by its own cell (a sharp two-row
        # maslikhat ballot photographed at a slant fitted the affine map within 3-4 mm and
        # went to review as low_confidence_registration: make eval seed 1187032269,
        # IMG_00194, IMG_00695).
        perspective, _ = cv2.findHomography(src_pts, dst_pts, 0)
        if perspective is not None:
            residual = min(residual, _residual(src_pts, dst_pts, perspective))
    return _finish(template, h, cell_to_mm, residual_mm=residual, image_shape=image_shape, separator_x=separator,
                   square_column=column)


def _residual(src: np.ndarray, dst: np.ndarray, h: np.ndarray) -> float:
    """Root-mean-square distance (template mm) between ``dst`` and ``src`` (K, 2) mapped by ``h``."""
    projected = cv2.perspectiveTransform(src.reshape(-1, 1, 2), h).reshape(-1, 2)
    return float(np.sqrt(np.mean(np.sum((projected - dst) ** 2, axis=1))))


def _finish(template: Template, h: np.ndarray, cell_to_mm: list[np.ndarray | None], *, residual_mm: float,
            image_shape: tuple[int, ...], separator_x: float, square_column: float | None) -> Registration:
    visible = [in_photo(printed_square(template, option, separator_x=separator_x).grown(VISIBLE_MARGIN_MM,
                                                                                         VISIBLE_MARGIN_MM),
                        h, image_shape, margin_px=1)
               for option in template.options]
    seen = sum(1 for c in cell_to_mm if c is not None)
    quality = float(np.exp(-residual_mm / RESIDUAL_SCALE_MM)) * (0.6 + 0.4 * seen / len(template.options))
    return Registration(
        template=template,
        photo_to_mm=h,
        cell_to_mm=tuple(cell_to_mm),
        residual_mm=residual_mm,
        quality=quality,
        visible=tuple(visible),
        separator_x=separator_x,
        square_column=square_column,
    )


def _to_patch(region_mm: Rect, px_per_mm: float) -> np.ndarray:
    """Template mm → pixels of a patch of ``region_mm`` at ``px_per_mm``."""
    return np.array(
        [[px_per_mm, 0, -region_mm.x * px_per_mm], [0, px_per_mm, -region_mm.y * px_per_mm], [0, 0, 1]],
        dtype=np.float64,
    )


def _patch_size(region_mm: Rect, px_per_mm: float) -> tuple[int, int]:
    return max(1, round(region_mm.w * px_per_mm)), max(1, round(region_mm.h * px_per_mm))


def rectify(bgr: np.ndarray, photo_to_mm: np.ndarray, region_mm: Rect, *, px_per_mm: float) -> np.ndarray:
    """Warp a template region (mm) out of the photo at ``px_per_mm``.

    What lies beyond the photo's edge repeats the edge's pixels (see :func:`rectified_in_frame`).

    Returns
    -------
    patch : (round(h * px_per_mm), round(w * px_per_mm), 3) uint8 ndarray
    """
    return cv2.warpPerspective(bgr, _to_patch(region_mm, px_per_mm) @ photo_to_mm, _patch_size(region_mm, px_per_mm),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def rectified_in_frame(photo_shape: tuple[int, ...], photo_to_mm: np.ndarray, region_mm: Rect, *,
                       px_per_mm: float) -> np.ndarray:
    """Which pixels of :func:`rectify`'s patch of ``region_mm`` show the photo (see
    :func:`~ballot_vision.imaging.in_frame`).

    Returns
    -------
    inside : (round(h * px_per_mm), round(w * px_per_mm)) bool ndarray
    """
    return in_frame(photo_shape, _to_patch(region_mm, px_per_mm) @ photo_to_mm, _patch_size(region_mm, px_per_mm))


def first_row_candidates(observation: TableObservation, n_rows: int) -> list[int]:
    """Template row indices the first seen row may be, most likely first.

    All rows seen: 0. Rows hidden above or below: the outline's estimate first.
    """
    span = len(observation.rows)
    if span > n_rows:
        return []
    most_likely = min(observation.rows_above, n_rows - span)
    others = [i for i in range(n_rows - span + 1) if i != most_likely]
    return [most_likely] + others


__all__ = ["Registration", "RegisterFailure", "register", "rectify", "rectified_in_frame", "square_cell", "name_cell",
           "printed_square", "printed_separator", "plausible_column", "first_row_candidates", "RowCells"]
