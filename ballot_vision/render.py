"""Draw a blank ballot side from its template, as one printing house might have printed it.

The template gives the *design* geometry. Real ballots were printed by several houses,
so a :class:`PrintStyle` perturbs that design (offset, scale, table position, row
height, square size, typeface, paper shade, rule weights, guilloche background). The
renderer returns the pixels together with the *actual* printed geometry after the
style, so that the synthetic-photo generator knows exactly where every square is.

Coordinates: millimetres on the sheet, x to the right, y down, origin at the sheet's
top-left corner. Pixel coordinates follow OpenCV: pixel ``(row, col)`` has its centre at
``(x_px, y_px) = (col, row)``, so ``x_px = x_mm * px_per_mm - 0.5``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ballot_vision.templates import Emblem, Rect, SideLayout, Template

FONT_DIR = Path("/usr/share/fonts/truetype")

#: Typeface family -> (regular file, bold file), relative to :data:`FONT_DIR`.
FONT_FILES: dict[str, tuple[str, str]] = {
    "DejaVu Sans": ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf"),
    "DejaVu Serif": ("dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
    "Liberation Sans": ("liberation/LiberationSans-Regular.ttf", "liberation/LiberationSans-Bold.ttf"),
    "Liberation Serif": ("liberation/LiberationSerif-Regular.ttf", "liberation/LiberationSerif-Bold.ttf"),
    "FreeSans": ("freefont/FreeSans.ttf", "freefont/FreeSansBold.ttf"),
    "FreeSerif": ("freefont/FreeSerif.ttf", "freefont/FreeSerifBold.ttf"),
}

#: Smallest distance (mm) kept between a table row's bottom and the sheet's bottom edge.
_BOTTOM_MARGIN_MM = 6.0
#: Clear space (mm) kept between a square and its cell's rules when sizes are varied.
_SQUARE_CLEARANCE_MM = 2.0
#: Party names in a row: Kazakh cap height, Russian cap height, left padding (mm).
_NAME_KAZ_MM, _NAME_RUS_MM, _NAME_PAD_MM = 3.0, 2.6, 4.0
#: Signature label cap height (mm) on the back.
_SIGNATURE_LABEL_MM = 2.3

RGB = tuple[int, int, int]


class RenderError(ValueError):
    """A side or font cannot be rendered; the message says which."""


@dataclass(frozen=True)
class PrintStyle:
    """How one printing house printed one sheet: every way the print departs from the design.

    Attributes
    ----------
    offset_mm : (dx, dy)
        Shift of all printed content relative to the paper, mm (real range about ±3).
    scale : float
        Scale of all printed content about the sheet's centre (real range 0.98–1.02).
    table_dy_mm : float
        Extra vertical shift of the option table, mm (positive is down).
    row_height_mm : float or None
        Height of every table row, mm; None keeps the template's rows (real range 25–33).
    square_mm : float or None
        Side of every mark square, mm, kept centred in its cell; None keeps the
        template's squares (real range 15–20).
    square_cell_mm : float or None
        Width of the column of square cells, mm: the rule between names and squares moved;
        None keeps the template's (see :meth:`with_random_columns`).
    table_inset_mm : (left, right)
        The table's left and right edges moved inwards by these, mm (negative: outwards).
    font : str
        Typeface family, a key of :data:`FONT_FILES`.
    paper_rgb, ink_rgb : (r, g, b)
        Paper shade (near white) and print ink (near black), 0–255.
    table_line_mm, square_line_mm : float or None
        Weight of the table rules (0.3–0.6) and of the squares' borders (0.8–1.3), mm;
        None keeps the template's weights.
    guilloche_rgb : (r, g, b)
        Colour of the security background's lines at full strength.
    guilloche_strength : float
        Opacity of the background's lines, 0–1; kept low (<= 0.35) so it stays a pale
        background, never ink.
    guilloche_spacing_mm, guilloche_amplitude_mm, guilloche_period_mm, guilloche_line_mm : float
        Spacing of the wavy lines, height and wavelength of their waves, line width.
    guilloche_phase : float
        Phase of the waves, radians (varies the pattern between sheets).
    guilloche_in_squares : float
        How much of the background shows inside the mark squares, 0 (white) to 1.
    emblem_rgb : (r, g, b)
        Colour of the emblem placeholder.
    """

    offset_mm: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0
    table_dy_mm: float = 0.0
    row_height_mm: float | None = None
    square_mm: float | None = None
    square_cell_mm: float | None = None
    table_inset_mm: tuple[float, float] = (0.0, 0.0)
    font: str = "DejaVu Sans"
    paper_rgb: RGB = (250, 249, 245)
    ink_rgb: RGB = (28, 28, 32)
    table_line_mm: float | None = None
    square_line_mm: float | None = None
    guilloche_rgb: RGB = (150, 185, 215)
    guilloche_strength: float = 0.22
    guilloche_spacing_mm: float = 1.6
    guilloche_amplitude_mm: float = 2.2
    guilloche_period_mm: float = 14.0
    guilloche_line_mm: float = 0.12
    guilloche_phase: float = 0.0
    guilloche_in_squares: float = 0.0
    emblem_rgb: RGB = (95, 135, 185)

    def __post_init__(self) -> None:
        if self.font not in FONT_FILES:
            raise RenderError(f"font: unknown family {self.font!r}; known: {', '.join(FONT_FILES)}")
        if not 0 <= self.guilloche_strength <= 0.35:
            raise RenderError(f"guilloche_strength: must be within 0–0.35 (a pale background), got {self.guilloche_strength}")
        if not 0 <= self.guilloche_in_squares <= 1:
            raise RenderError(f"guilloche_in_squares: must be within 0–1, got {self.guilloche_in_squares}")
        if not 0.8 <= self.scale <= 1.2:
            raise RenderError(f"scale: must be within 0.8–1.2, got {self.scale}")
        for name in ("row_height_mm", "square_mm", "square_cell_mm", "table_line_mm", "square_line_mm"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise RenderError(f"{name}: must be > 0 or None, got {value}")

    def with_random_columns(self, rng: np.random.Generator, template: Template) -> PrintStyle:
        """This style with the table's columns as another printing house may have set them.

        Most houses kept the design's columns; the others made the column of squares
        0.75–1.35 times as wide (about 22–40 mm for the 2021 design's 30: room for a 15–20
        mm square) and set the table's sides up to 2 mm out or 4 mm in. Drawn from its own
        ``rng``, so that a style drawn before these existed is otherwise drawn as it was.
        """
        if rng.random() >= 0.5 or template.front.table is None:
            return self
        table = template.front.table
        cell = (table.box.x2 - table.separator_x) * float(rng.uniform(0.75, 1.35))
        inset = (float(rng.uniform(-2.0, 4.0)), float(rng.uniform(-2.0, 4.0)))
        return replace(self, square_cell_mm=cell, table_inset_mm=inset)

    @property
    def is_serif(self) -> bool:
        return "Serif" in self.font

    @classmethod
    def default(cls) -> PrintStyle:
        """The template exactly as designed, on white paper in DejaVu Sans."""
        return cls()

    @classmethod
    def random(cls, rng: np.random.Generator, template: Template | None = None) -> PrintStyle:
        """A plausible print of one sheet.

        Parameters
        ----------
        rng : numpy Generator
            The only source of randomness (same state, same style).
        template : Template, optional
            When given, row height and square size vary relative to the template's own
            (so a 22 mm-row A5 form is not given 30 mm rows); otherwise they are drawn
            from the 2021 ranges (rows 25–33 mm, squares 15–20 mm).
        """
        row_h, sq = None, None
        if rng.random() < 0.85:  # most houses did not keep the design exactly
            if template is not None:
                row_h = template.options[0].row.h * rng.uniform(25 / 30, 33 / 30)
                sq = template.options[0].square.w * rng.uniform(15 / 18, 20 / 18)
            else:
                row_h = rng.uniform(25.0, 33.0)
                sq = rng.uniform(15.0, 20.0)
        warm = rng.uniform(0, 1)
        grey = rng.uniform(0, 7)
        paper = (
            int(round(252 - grey - 1 * (1 - warm))),
            int(round(250 - grey - 1.5 * warm)),
            int(round(247 - grey - 8 * warm)),
        )
        ink_level = rng.uniform(15, 50)
        ink = tuple(int(round(ink_level + d)) for d in rng.uniform(-4, 6, 3))
        palettes = [(140, 180, 215), (150, 200, 170), (220, 165, 185), (175, 170, 215), (200, 195, 150)]
        base = np.array(palettes[rng.integers(len(palettes))], dtype=float)
        gcol = tuple(int(v) for v in np.clip(base + rng.uniform(-15, 15, 3), 0, 255))
        return cls(
            offset_mm=(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3))),
            scale=float(rng.uniform(0.98, 1.02)),
            table_dy_mm=float(rng.uniform(-4, 4)),
            row_height_mm=None if row_h is None else float(row_h),
            square_mm=None if sq is None else float(sq),
            font=list(FONT_FILES)[rng.integers(len(FONT_FILES))],
            paper_rgb=paper,  # type: ignore[arg-type]
            ink_rgb=ink,  # type: ignore[arg-type]
            table_line_mm=float(rng.uniform(0.3, 0.6)),
            square_line_mm=float(rng.uniform(0.8, 1.3)),
            guilloche_rgb=gcol,  # type: ignore[arg-type]
            guilloche_strength=float(rng.uniform(0.08, 0.3)),
            guilloche_spacing_mm=float(rng.uniform(1.1, 2.6)),
            guilloche_amplitude_mm=float(rng.uniform(0.8, 4.0)),
            guilloche_period_mm=float(rng.uniform(7.0, 22.0)),
            guilloche_line_mm=float(rng.uniform(0.08, 0.18)),
            guilloche_phase=float(rng.uniform(0, 2 * np.pi)),
            guilloche_in_squares=0.0 if rng.random() < 0.6 else float(rng.uniform(0.1, 0.35)),
            emblem_rgb=tuple(int(v) for v in np.clip(np.array((95, 135, 185)) + rng.uniform(-30, 30, 3), 0, 255)),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class RenderedSide:
    """One rendered side and where everything was actually printed on it.

    Attributes
    ----------
    bgr : (H, W, 3) uint8 ndarray
        The whole sheet (image edges are the paper's edges).
    px_per_mm : float
        Resolution; ``x_px = x_mm * px_per_mm - 0.5`` (OpenCV pixel-centre convention).
    paper_mm : (width, height)
    side : str
        ``front`` or ``back``.
    squares_mm, rows_mm : dict option id -> Rect
        Printed mark squares (outer edge of the border) and table rows, mm on the sheet,
        in table order.
    table_mm : Rect or None
        Outer edge of the printed table.
    square_line_mm : float
        Printed weight of the squares' borders, mm (the border band lies inside ``squares_mm``).
    signature_box_mm : Rect or None
    signature_line_mm : (x0, y0, x1, y1) or None
        The printed line the commission member signs on.
    stamp_mm : Emblem or None
        Where a precinct stamp may be placed (centre and diameter, mm).
    style : PrintStyle
    """

    bgr: np.ndarray
    px_per_mm: float
    paper_mm: tuple[float, float]
    side: str
    squares_mm: dict[str, Rect] = field(default_factory=dict)
    rows_mm: dict[str, Rect] = field(default_factory=dict)
    table_mm: Rect | None = None
    square_line_mm: float = 1.0
    signature_box_mm: Rect | None = None
    signature_line_mm: tuple[float, float, float, float] | None = None
    stamp_mm: Emblem | None = None
    style: PrintStyle = field(default_factory=PrintStyle)

    def mm_to_px(self, xy_mm: np.ndarray) -> np.ndarray:
        """(N, 2) points in mm -> (N, 2) pixel coordinates (x, y) in :attr:`bgr`."""
        return np.asarray(xy_mm, dtype=np.float64) * self.px_per_mm - 0.5


# --------------------------------------------------------------------------------------
# Geometry: design -> printed


@dataclass(frozen=True)
class _Affine:
    """Scale about the sheet centre, then shift: how the print sits on the paper."""

    scale: float
    cx: float
    cy: float
    dx: float
    dy: float

    def x(self, x: float) -> float:
        return self.cx + self.scale * (x - self.cx) + self.dx

    def y(self, y: float) -> float:
        return self.cy + self.scale * (y - self.cy) + self.dy

    def rect(self, r: Rect) -> Rect:
        return Rect(self.x(r.x), self.y(r.y), r.w * self.scale, r.h * self.scale)


def _layout_rows(layout: SideLayout, paper_h_mm: float, style: PrintStyle) -> tuple[Rect, dict[str, Rect], dict[str, Rect], float]:
    """Design-space table, rows, squares and separator x after the style's table changes
    (before the affine).

    Rows are re-stacked from the (shifted) table top with the style's row height,
    shrunk if needed so the table still ends above the sheet's bottom margin; the table's
    sides and its separator move as the style says; each square keeps its offset from its
    cell's centre (zero for centred squares).
    """
    table = layout.table
    assert table is not None
    top = table.box.y + style.table_dy_mm
    heights = [style.row_height_mm or o.row.h for o in table.options]
    room = paper_h_mm - _BOTTOM_MARGIN_MM - top
    if sum(heights) > room:
        heights = [h * room / sum(heights) for h in heights]
    x0, x1 = table.box.x + style.table_inset_mm[0], table.box.x2 - style.table_inset_mm[1]
    cell_x0, cell_x1 = x1 - (style.square_cell_mm or table.box.x2 - table.separator_x), x1
    rows: dict[str, Rect] = {}
    squares: dict[str, Rect] = {}
    y = top
    for option, h in zip(table.options, heights):
        row = Rect(x0, y, x1 - x0, h)
        old_cx, old_cy = (table.separator_x + table.box.x2) / 2, option.row.y + option.row.h / 2
        off_x, off_y = option.square.center[0] - old_cx, option.square.center[1] - old_cy
        side_w = style.square_mm or option.square.w
        side_h = style.square_mm or option.square.h
        side_w = min(side_w, cell_x1 - cell_x0 - 2 * _SQUARE_CLEARANCE_MM)
        side_h = min(side_h, h - 2 * _SQUARE_CLEARANCE_MM)
        cx = (cell_x0 + cell_x1) / 2 + off_x
        cy = y + h / 2 + off_y * h / option.row.h
        rows[option.id] = row
        squares[option.id] = Rect(cx - side_w / 2, cy - side_h / 2, side_w, side_h)
        y += h
    box = Rect(x0, top, x1 - x0, y - top)
    return box, rows, squares, cell_x0


# --------------------------------------------------------------------------------------
# Drawing primitives: coverage masks (0–1 float32) composited multiplicatively


def _poly_coverage(shape_hw: tuple[int, int], polys_px: list[np.ndarray], *, holes_px: list[np.ndarray] = ()) -> np.ndarray:
    """Anti-aliased coverage (H, W) float32 0–1 of filled polygons minus holes (x, y pixel coords)."""
    shift = 4  # sub-pixel precision: coordinates in 1/16 px
    mask = np.zeros(shape_hw, np.uint8)
    for p in polys_px:
        cv2.fillPoly(mask, [np.round(p * (1 << shift)).astype(np.int32)], 255, cv2.LINE_AA, shift)
    for p in holes_px:
        cv2.fillPoly(mask, [np.round(p * (1 << shift)).astype(np.int32)], 0, cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255.0


def _rect_poly_px(r: Rect, ppm: float) -> np.ndarray:
    """(4, 2) corners of a mm rectangle in pixel coordinates, clockwise from top-left."""
    x0, y0, x1, y1 = r.x * ppm - 0.5, r.y * ppm - 0.5, r.x2 * ppm - 0.5, r.y2 * ppm - 0.5
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _apply_ink(canvas_rgb: np.ndarray, coverage: np.ndarray, ink_rgb: RGB) -> None:
    """Darken a planar canvas in place where ink covers it (multiplicative, as ink on paper).

    Parameters
    ----------
    canvas_rgb : (3, H, W) float32 ndarray, 0–1
    coverage : (H, W) float32 ndarray, 0–1
    ink_rgb : colour of the ink at full coverage, 0–255
    """
    # Only the bounding box of the ink is touched: most layers (rules, squares, emblem) are small.
    x, y, w, h = cv2.boundingRect((coverage > 0).astype(np.uint8))
    if w == 0 or h == 0:
        return
    cov = coverage[y : y + h, x : x + w]
    for c, value in enumerate(ink_rgb):
        factor = cov * np.float32(1.0 - value / 255.0)
        np.subtract(np.float32(1.0), factor, out=factor)
        canvas_rgb[c, y : y + h, x : x + w] *= factor


def _guilloche_coverage(shape_hw: tuple[int, int], ppm: float, style: PrintStyle) -> np.ndarray:
    """Coverage (H, W) float32 of two interwoven families of fine wavy lines.

    Each family is the set of curves ``y = k * spacing ± A sin(2 pi x / P + phase)``; a
    pixel's coverage falls off as a Gaussian of its distance (mm) to the nearest curve.
    The two families have opposite wave signs, which gives the braided look of a
    security background.
    """
    h, w = shape_hw
    x_mm = (np.arange(w, dtype=np.float32) + 0.5) / ppm
    y_mm = (np.arange(h, dtype=np.float32) + 0.5) / ppm
    wave = style.guilloche_amplitude_mm * np.sin(2 * np.pi * x_mm / style.guilloche_period_mm + style.guilloche_phase)
    wave2 = 0.35 * style.guilloche_amplitude_mm * np.sin(2 * np.pi * x_mm / (style.guilloche_period_mm * 0.41))
    spacing = style.guilloche_spacing_mm
    # A line narrower than a pixel is printed as a fainter pixel-wide line.
    width = max(style.guilloche_line_mm, 0.6 / ppm)
    gain = min(1.0, style.guilloche_line_mm / width)
    out = np.zeros(shape_hw, np.float32)
    for sign in (1.0, -1.0):
        v = (y_mm[:, None] + sign * (wave + wave2)[None, :]) / spacing
        d_mm = np.abs(v - np.round(v)) * spacing
        out = np.maximum(out, np.exp(-((d_mm / width) ** 2)))
    return out * gain


def _emblem_coverage(shape_hw: tuple[int, int], ppm: float, center_mm: tuple[float, float], diameter_mm: float) -> np.ndarray:
    """A placeholder emblem: a ring, a sun disc and rays between them (coverage 0–1)."""
    cx, cy = center_mm[0] * ppm - 0.5, center_mm[1] * ppm - 0.5
    r_out = diameter_mm / 2 * ppm
    ring_w = max(0.8 * ppm, 1.0)
    circle = lambda r: np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)  # noqa: E731
    t = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    polys = [circle(r_out)]
    holes = [circle(r_out - ring_w)]
    cov = _poly_coverage(shape_hw, polys, holes_px=holes)
    rays = []
    n_rays = 32
    r_sun, r_ray0, r_ray1 = 0.28 * r_out, 0.36 * r_out, 0.78 * r_out
    for k in range(n_rays):
        a = 2 * np.pi * k / n_rays
        half = np.pi / n_rays * 0.45
        rays.append(np.array([
            [cx + r_ray0 * np.cos(a - half), cy + r_ray0 * np.sin(a - half)],
            [cx + r_ray1 * np.cos(a), cy + r_ray1 * np.sin(a)],
            [cx + r_ray0 * np.cos(a + half), cy + r_ray0 * np.sin(a + half)],
        ]))
    rays.append(circle(r_sun))
    # Rays and sun are pale (a printed halftone), the ring full strength.
    return np.maximum(cov, 0.45 * _poly_coverage(shape_hw, rays))


@lru_cache(maxsize=64)
def get_font(family: str, bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    """The regular or bold face of ``family`` (a key of :data:`FONT_FILES`) at ``size_px`` em size."""
    regular, bold_file = FONT_FILES[family]
    path = FONT_DIR / (bold_file if bold else regular)
    if not path.is_file():
        raise RenderError(f"font file {path} not found; install fonts-dejavu-core fonts-liberation fonts-freefont-ttf")
    return ImageFont.truetype(str(path), size_px)


@lru_cache(maxsize=32)
def _cap_ratio(family: str, bold: bool) -> float:
    """Cap height of the typeface as a share of its em size (to size type by cap height)."""
    font = get_font(family, bold, 200)
    top, bottom = font.getbbox("НЕ", anchor="ls")[1::2]
    return (bottom - top) / 200.0


#: Where a typeface has no glyph (Liberation 1.x lacks the Kazakh letters Ә Ғ Қ Ң Ө Ұ Ү Һ),
#: the glyph comes from a typeface of the same design, as a typesetting system would do.
FALLBACK_FAMILY: dict[str, str] = {"Liberation Sans": "FreeSans", "Liberation Serif": "FreeSerif"}


@lru_cache(maxsize=4096)
def has_glyph(family: str, bold: bool, char: str) -> bool:
    """True when the typeface draws ``char`` with its own glyph (not the 'missing' box)."""
    font = get_font(family, bold, 32)
    missing = np.asarray(font.getmask("\U0010FFFD"))
    drawn = np.asarray(font.getmask(char))
    return char.isspace() or drawn.shape != missing.shape or not np.array_equal(drawn, missing)


def _runs(text: str, family: str, bold: bool) -> list[tuple[str, str]]:
    """Split ``text`` into (run, family) pieces, using the fallback typeface for missing glyphs."""
    fallback = FALLBACK_FAMILY.get(family, "DejaVu Sans")
    runs: list[tuple[str, str]] = []
    for ch in text:
        fam = family if has_glyph(family, bold, ch) else fallback
        if runs and runs[-1][1] == fam:
            runs[-1] = (runs[-1][0] + ch, fam)
        else:
            runs.append((ch, fam))
    return runs


class _TextLayer:
    """Anti-aliased text drawn into one coverage mask, sized and placed in mm."""

    def __init__(self, shape_hw: tuple[int, int], ppm: float, family: str):
        self.image = Image.new("L", (shape_hw[1], shape_hw[0]), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.ppm = ppm
        self.family = family

    def font(self, cap_mm: float, bold: bool, family: str | None = None) -> ImageFont.FreeTypeFont:
        family = family or self.family
        size_px = max(4, int(round(cap_mm * self.ppm / _cap_ratio(family, bold))))
        return get_font(family, bold, size_px)

    def width_mm(self, text: str, cap_mm: float, bold: bool) -> float:
        return sum(self.font(cap_mm, bold, fam).getlength(run) for run, fam in _runs(text, self.family, bold)) / self.ppm

    def line(self, text: str, *, x_mm: float, baseline_mm: float, cap_mm: float, bold: bool, align: str, max_w_mm: float) -> None:
        """Draw one line; shrink it to ``max_w_mm`` if it would not fit (as a typesetter would)."""
        width = self.width_mm(text, cap_mm, bold)
        if width > max_w_mm:
            cap_mm *= max_w_mm / width
            width = self.width_mm(text, cap_mm, bold)
        x_px = (x_mm - {"left": 0.0, "center": width / 2, "right": width}[align]) * self.ppm
        for run, fam in _runs(text, self.family, bold):
            font = self.font(cap_mm, bold, fam)
            self.draw.text((x_px, baseline_mm * self.ppm), run, fill=255, font=font, anchor="ls")
            x_px += font.getlength(run)

    def wrap(self, text: str, cap_mm: float, bold: bool, max_w_mm: float) -> list[str]:
        """Greedy word wrap to ``max_w_mm``."""
        lines: list[str] = []
        for word in text.split():
            if lines and self.width_mm(f"{lines[-1]} {word}", cap_mm, bold) <= max_w_mm:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines

    def coverage(self) -> np.ndarray:
        return np.asarray(self.image, dtype=np.float32) / 255.0


def _draw_block(text: _TextLayer, box: Rect, lines: tuple[str, ...] | list[str], cap_mm: float, bold: bool, align: str) -> None:
    """Lines spread evenly down ``box`` (printed mm), each on a baseline a half cap below its slot's middle."""
    pitch = box.h / len(lines)
    x = {"left": box.x, "center": box.x + box.w / 2, "right": box.x2}[align]
    for i, line in enumerate(lines):
        baseline = box.y + pitch * (i + 0.5) + cap_mm / 2
        text.line(line, x_mm=x, baseline_mm=baseline, cap_mm=cap_mm, bold=bold, align=align, max_w_mm=box.w)


# --------------------------------------------------------------------------------------
# Public API


def side_layout(template: Template, side_name: str) -> SideLayout:
    """The side called ``side_name``, or a :class:`RenderError` listing the sides there are."""
    for side in template.sides:
        if side.name == side_name:
            return side
    raise RenderError(f"template {template.id!r} has no side {side_name!r}; sides: {', '.join(s.name for s in template.sides)}")


@dataclass(frozen=True)
class SideGeometry:
    """Where everything is printed on one side after the style (mm on the sheet); see :class:`RenderedSide`."""

    paper_mm: tuple[float, float]
    side: str
    squares_mm: dict[str, Rect]
    rows_mm: dict[str, Rect]
    table_mm: Rect | None
    separator_x_mm: float | None
    table_line_mm: float
    square_line_mm: float
    signature_box_mm: Rect | None
    signature_line_mm: tuple[float, float, float, float] | None
    stamp_mm: Emblem | None


def side_geometry(template: Template, side_name: str, style: PrintStyle | None = None) -> SideGeometry:
    """The printed geometry of one side (no pixels): cheap, and exactly what :func:`render_side` draws."""
    style = style or PrintStyle.default()
    layout = side_layout(template, side_name)
    affine = _Affine(style.scale, template.paper_w / 2, template.paper_h / 2, *style.offset_mm)
    s = style.scale
    squares: dict[str, Rect] = {}
    rows: dict[str, Rect] = {}
    table_box = separator_x = None
    table_line = square_line = 0.0
    if layout.table is not None:
        design_box, design_rows, design_squares, design_separator = _layout_rows(layout, template.paper_h, style)
        table_box = affine.rect(design_box)
        rows = {k: affine.rect(r) for k, r in design_rows.items()}
        squares = {k: affine.rect(r) for k, r in design_squares.items()}
        separator_x = affine.x(design_separator)
        table_line = (style.table_line_mm or layout.table.line_mm) * s
        square_line = (style.square_line_mm or layout.table.square_line_mm) * s
    signature_box = signature_line = None
    if layout.signature is not None:
        signature_box = affine.rect(layout.signature.box)
        line_y = affine.y(layout.signature.line_y)
        x0 = signature_box.x + 0.3 * signature_box.w
        signature_line = (x0, line_y, signature_box.x2, line_y)
    stamp = None
    if layout.stamp is not None:
        stamp = Emblem((affine.x(layout.stamp.center[0]), affine.y(layout.stamp.center[1])), layout.stamp.diameter * s)
    return SideGeometry(
        paper_mm=(template.paper_w, template.paper_h),
        side=side_name,
        squares_mm=squares,
        rows_mm=rows,
        table_mm=table_box,
        separator_x_mm=separator_x,
        table_line_mm=table_line,
        square_line_mm=square_line,
        signature_box_mm=signature_box,
        signature_line_mm=signature_line,
        stamp_mm=stamp,
    )


def render_side(template: Template, side_name: str, *, px_per_mm: float, style: PrintStyle | None = None) -> RenderedSide:
    """Draw one blank side of ``template`` as printed with ``style``.

    Parameters
    ----------
    template : Template
    side_name : str
        ``front`` (the side with the table) or ``back``.
    px_per_mm : float
        Resolution; 150 dpi is about 5.9 px/mm, 300 dpi about 11.8.
    style : PrintStyle, optional
        Print variation; :meth:`PrintStyle.default` when omitted.

    Returns
    -------
    RenderedSide
        ``bgr`` of shape (round(paper_h * px_per_mm), round(paper_w * px_per_mm), 3) and
        the printed geometry in mm.
    """
    if px_per_mm <= 0:
        raise RenderError(f"px_per_mm must be > 0, got {px_per_mm}")
    style = style or PrintStyle.default()
    layout = side_layout(template, side_name)
    geo = side_geometry(template, side_name, style)
    ppm = float(px_per_mm)
    shape = (int(round(template.paper_h * ppm)), int(round(template.paper_w * ppm)))
    affine = _Affine(style.scale, template.paper_w / 2, template.paper_h / 2, *style.offset_mm)
    s = style.scale

    canvas = np.empty((3,) + shape, np.float32)  # planar RGB: per-channel updates stay contiguous
    canvas[:] = np.asarray(style.paper_rgb, np.float32)[:, None, None] / 255.0

    # Security background first, kept out of (or faint inside) the squares' interiors.
    guilloche = _guilloche_coverage(shape, ppm, style)
    if geo.squares_mm:
        interiors = [_rect_poly_px(_inset(r, geo.square_line_mm), ppm) for r in geo.squares_mm.values()]
        inside = _poly_coverage(shape, interiors)
        guilloche *= 1.0 - inside * (1.0 - style.guilloche_in_squares)
    _apply_ink(canvas, guilloche * style.guilloche_strength, style.guilloche_rgb)

    if layout.emblem is not None:
        center = (affine.x(layout.emblem.center[0]), affine.y(layout.emblem.center[1]))
        _apply_ink(canvas, _emblem_coverage(shape, ppm, center, layout.emblem.diameter * s), style.emblem_rgb)

    text = _TextLayer(shape, ppm, style.font)
    for block in layout.texts:
        _draw_block(text, affine.rect(block.box), block.lines, block.size_mm * s, block.bold, block.align)

    rules: list[np.ndarray] = []
    if layout.table is not None and geo.table_mm is not None and geo.separator_x_mm is not None:
        rule, box = geo.table_line_mm, geo.table_mm
        rules += _frame_polys(box, rule, ppm)
        rules.append(_rect_poly_px(Rect(geo.separator_x_mm - rule / 2, box.y, rule, box.h), ppm))
        for option in layout.table.options[1:]:
            y = geo.rows_mm[option.id].y
            rules.append(_rect_poly_px(Rect(box.x, y - rule / 2, box.w, rule), ppm))
        for option in layout.table.options:
            _draw_names(text, option.kaz, option.rus, geo.rows_mm[option.id], geo.separator_x_mm, s)
        borders = [_rect_poly_px(r, ppm) for r in geo.squares_mm.values()]
        holes = [_rect_poly_px(_inset(r, geo.square_line_mm), ppm) for r in geo.squares_mm.values()]
        _apply_ink(canvas, _poly_coverage(shape, borders, holes_px=holes), style.ink_rgb)

    if layout.signature is not None and geo.signature_box_mm is not None and geo.signature_line_mm is not None:
        box = geo.signature_box_mm
        x0, line_y, x1, _ = geo.signature_line_mm
        label_h = min(line_y - box.y - 3 * s, len(layout.signature.label) * 5.0 * s)
        label_box = Rect(box.x, box.y, box.w, max(label_h, 4.0))
        _draw_block(text, label_box, layout.signature.label, _SIGNATURE_LABEL_MM * s, False, "center")
        rules.append(_rect_poly_px(Rect(x0, line_y - 0.15 * s, x1 - x0, 0.3 * s), ppm))

    if rules:
        _apply_ink(canvas, _poly_coverage(shape, rules), style.ink_rgb)
    _apply_ink(canvas, text.coverage(), style.ink_rgb)

    bgr = cv2.merge([np.clip(canvas[c] * 255.0 + 0.5, 0, 255).astype(np.uint8) for c in (2, 1, 0)])
    return RenderedSide(
        bgr=bgr,
        px_per_mm=ppm,
        paper_mm=geo.paper_mm,
        side=side_name,
        squares_mm=geo.squares_mm,
        rows_mm=geo.rows_mm,
        table_mm=geo.table_mm,
        square_line_mm=geo.square_line_mm,
        signature_box_mm=geo.signature_box_mm,
        signature_line_mm=geo.signature_line_mm,
        stamp_mm=geo.stamp_mm,
        style=style,
    )


def _inset(r: Rect, d: float) -> Rect:
    return Rect(r.x + d, r.y + d, max(r.w - 2 * d, 1e-3), max(r.h - 2 * d, 1e-3))


def _frame_polys(box: Rect, weight_mm: float, ppm: float) -> list[np.ndarray]:
    """The four rules of a box's outline, centred on its edges."""
    h = weight_mm / 2
    return [
        _rect_poly_px(Rect(box.x - h, box.y - h, box.w + weight_mm, weight_mm), ppm),
        _rect_poly_px(Rect(box.x - h, box.y2 - h, box.w + weight_mm, weight_mm), ppm),
        _rect_poly_px(Rect(box.x - h, box.y - h, weight_mm, box.h + weight_mm), ppm),
        _rect_poly_px(Rect(box.x2 - h, box.y - h, weight_mm, box.h + weight_mm), ppm),
    ]


def _draw_names(text: _TextLayer, kaz: str, rus: str, row: Rect, sep_x: float, scale: float) -> None:
    """Kazakh name in bold, the Russian one under it, left-aligned and centred vertically in the name cell."""
    pad = _NAME_PAD_MM * scale
    max_w = sep_x - row.x - 2 * pad
    kaz_cap, rus_cap = _NAME_KAZ_MM * scale, _NAME_RUS_MM * scale
    for _ in range(4):  # smaller type until the wrapped names fit the row's height
        kaz_lines = text.wrap(kaz, kaz_cap, True, max_w) if kaz else []
        rus_lines = text.wrap(rus, rus_cap, False, max_w) if rus else []
        pitch_kaz, pitch_rus = kaz_cap * 1.9, rus_cap * 1.9
        total = len(kaz_lines) * pitch_kaz + len(rus_lines) * pitch_rus
        if total <= 0.9 * row.h:
            break
        shrink = max(0.6, 0.9 * row.h / total)
        kaz_cap, rus_cap = kaz_cap * shrink, rus_cap * shrink
    y = row.y + (row.h - total) / 2
    for line in kaz_lines:
        text.line(line, x_mm=row.x + pad, baseline_mm=y + pitch_kaz / 2 + kaz_cap / 2, cap_mm=kaz_cap, bold=True, align="left", max_w_mm=max_w)
        y += pitch_kaz
    for line in rus_lines:
        text.line(line, x_mm=row.x + pad, baseline_mm=y + pitch_rus / 2 + rus_cap / 2, cap_mm=rus_cap, bold=False, align="left", max_w_mm=max_w)
        y += pitch_rus


def render_template(template: Template, *, dpi: float, style: PrintStyle | None = None) -> dict[str, np.ndarray]:
    """Every side of ``template`` at ``dpi``: side name -> (H, W, 3) uint8 BGR."""
    ppm = dpi / 25.4
    return {side.name: render_side(template, side.name, px_per_mm=ppm, style=style).bgr for side in template.sides}


def side_by_side(images_bgr: list[np.ndarray], *, gutter_px: int = 24, gutter_bgr: tuple[int, int, int] = (96, 96, 96)) -> np.ndarray:
    """Images placed left to right on a grey ground, top-aligned: (max H, sum W + gutters, 3) uint8."""
    h = max(im.shape[0] for im in images_bgr)
    w = sum(im.shape[1] for im in images_bgr) + gutter_px * (len(images_bgr) + 1)
    out = np.empty((h + 2 * gutter_px, w, 3), np.uint8)
    out[:] = gutter_bgr
    x = gutter_px
    for im in images_bgr:
        out[gutter_px : gutter_px + im.shape[0], x : x + im.shape[1]] = im
        x += im.shape[1] + gutter_px
    return out
