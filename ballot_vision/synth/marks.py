"""What voters and commission members write on a ballot: marks, stray dots, signatures, stamps.

Every function returns strokes (see :mod:`.ink`) in millimetres on the sheet; shapes are
first laid out in a unit square ``u, v in [0, 1]`` (``(0, 0)`` top-left) and then placed
on the mark square with a size, rotation and offset, so that one function serves every
square size and every hand.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ballot_vision.render import get_font
from ballot_vision.synth.ink import Stroke, bowed, hand_stroke, smooth_noise
from ballot_vision.templates import Rect

#: Mark shapes a voter may draw (``dash`` is a short line 3–6 mm long).
MARK_SHAPES = ("tick", "cross", "plus", "fill", "circle", "scribble", "dash")


def _unit_paths(shape: str, rng: np.random.Generator, *, stroke_mm: float, side_mm: float) -> list[np.ndarray]:
    """Paths of one mark in unit-square coordinates (before size, rotation and placement)."""
    j = lambda s=0.06: rng.normal(0, s, 2)  # noqa: E731  (hand imprecision of a control point)
    if shape == "tick":
        start = np.array([0.08, 0.5]) + j()
        corner = np.array([0.38, 0.88]) + j()
        end = np.array([0.95, 0.06]) + j(0.08)
        short = bowed(start, corner, bow=rng.uniform(-0.12, 0.12), n=12)
        long = bowed(corner, end, bow=rng.uniform(-0.15, 0.1), n=24)
        return [np.concatenate([short, long[1:]])]
    if shape == "cross":
        return [
            bowed(np.array([0.1, 0.1]) + j(), np.array([0.9, 0.9]) + j(), bow=rng.uniform(-0.1, 0.1)),
            bowed(np.array([0.9, 0.1]) + j(), np.array([0.1, 0.9]) + j(), bow=rng.uniform(-0.1, 0.1)),
        ]
    if shape == "plus":
        return [
            bowed(np.array([0.5, 0.08]) + j(), np.array([0.5, 0.92]) + j(), bow=rng.uniform(-0.08, 0.08)),
            bowed(np.array([0.08, 0.5]) + j(), np.array([0.92, 0.5]) + j(), bow=rng.uniform(-0.08, 0.08)),
        ]
    if shape == "fill":
        # Zigzag hatching with lines about a stroke apart, so most of the square ends up
        # covered (a voter "colouring in" the square).
        spacing = stroke_mm * rng.uniform(0.8, 1.4) / side_mm
        m = max(4, int(0.84 / spacing * 2))
        x = np.where(np.arange(m) % 2 == 0, 0.08, 0.92) + rng.normal(0, 0.03, m)
        y = np.linspace(0.08, 0.92, m) + rng.normal(0, 0.01, m)
        return [np.stack([x, y], 1)]
    if shape == "circle":
        t0 = rng.uniform(0, 2 * np.pi)
        t = t0 + np.linspace(0, 2 * np.pi * rng.uniform(0.92, 1.12), 60)
        r = rng.uniform(0.36, 0.46) * (1 + 0.06 * smooth_noise(60, rng, correlation=20))
        squash = rng.uniform(0.8, 1.0)
        return [np.stack([0.5 + r * np.cos(t), 0.5 + squash * r * np.sin(t)], 1)]
    if shape == "scribble":
        n = 160
        t = np.linspace(0, 1, n)
        loops = rng.uniform(3, 6)
        x = 0.5 + 0.36 * np.sin(2 * np.pi * loops * t + rng.uniform(0, 6)) * (0.6 + 0.4 * smooth_noise(n, rng, correlation=40))
        y = 0.5 + 0.3 * np.sin(2 * np.pi * (loops * rng.uniform(1.3, 1.9)) * t + rng.uniform(0, 6))
        return [np.stack([x, y], 1)]
    if shape == "dash":
        length = rng.uniform(3.0, 6.0) / side_mm  # 3–6 mm whatever the square's size
        a = rng.uniform(-0.35, 0.35)
        c = np.array([0.5, 0.5]) + j(0.05)
        d = np.array([np.cos(a), np.sin(a)]) * length / 2
        return [bowed(c - d, c + d, bow=rng.uniform(-0.05, 0.05), n=8)]
    raise ValueError(f"unknown mark shape {shape!r}; known: {', '.join(MARK_SHAPES)}")


def place(paths_unit: list[np.ndarray], square: Rect, *, size: float, angle_deg: float, offset_mm: tuple[float, float]) -> list[np.ndarray]:
    """Unit-square paths -> sheet mm: scaled to ``size`` × the square's side, rotated, shifted."""
    c = np.array(square.center) + np.asarray(offset_mm)
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    side = np.array([square.w, square.h]) * size
    return [c + ((p - 0.5) * side) @ rot.T for p in paths_unit]


def mark_strokes(
    shape: str,
    square: Rect,
    rng: np.random.Generator,
    *,
    stroke_mm: float,
    pencil: bool = False,
    over_border: bool = False,
) -> list[Stroke]:
    """A voter's mark in ``square`` (mm on the sheet).

    Parameters
    ----------
    shape : one of :data:`MARK_SHAPES`
    square : Rect
        The printed square (outer edge of its border).
    stroke_mm : float
        Pen width, 0.4–1.2 mm.
    over_border : bool
        Draw the mark larger than the square and/or off-centre so that it crosses the
        border, its middle still inside the square (the voter's intent stays clear).
    """
    if over_border:
        size = rng.uniform(1.05, 1.35)
        offset = tuple(rng.uniform(-0.18, 0.18, 2) * square.w)
    else:
        size = rng.uniform(0.5, 0.85) if shape != "fill" else rng.uniform(0.72, 0.88)
        offset = tuple(rng.normal(0, 0.05, 2) * square.w)
    angle = rng.normal(0, 8)
    paths = place(_unit_paths(shape, rng, stroke_mm=stroke_mm, side_mm=square.w * size), square, size=size, angle_deg=angle, offset_mm=offset)
    return [hand_stroke(p, rng, width_mm=stroke_mm, pencil=pencil, jitter_mm=0.08 + 0.06 * stroke_mm) for p in paths]


def crossing_out_strokes(square: Rect, rng: np.random.Generator, *, stroke_mm: float) -> list[Stroke]:
    """A correction: dense zigzag over a mark the voter changed their mind about."""
    n = int(rng.integers(5, 9))
    ys = np.linspace(0.15, 0.85, n)
    path = np.stack([np.where(np.arange(n) % 2 == 0, 0.1, 0.9) + rng.normal(0, 0.04, n), ys + rng.normal(0, 0.03, n)], 1)
    placed = place([path], square, size=rng.uniform(0.8, 1.1), angle_deg=rng.uniform(-35, 35), offset_mm=(0.0, 0.0))
    return [hand_stroke(p, rng, width_mm=stroke_mm * 1.1) for p in placed]


def stray_dots(avoid_mm: list[Rect], sheet_mm: Rect, rng: np.random.Generator, *, n: int, stroke_mm: float, margin_mm: float = 2.5) -> list[Stroke]:
    """``n`` small pen dots (resting the pen, a slip) anywhere except within ``margin_mm`` of ``avoid_mm``."""
    strokes: list[Stroke] = []
    for _ in range(200):
        if len(strokes) >= n:
            break
        x = rng.uniform(sheet_mm.x + 5, sheet_mm.x2 - 5)
        y = rng.uniform(sheet_mm.y + 5, sheet_mm.y2 - 5)
        if any(r.x - margin_mm < x < r.x2 + margin_mm and r.y - margin_mm < y < r.y2 + margin_mm for r in avoid_mm):
            continue
        d = rng.uniform(0.2, 0.8)
        a = rng.uniform(0, np.pi)
        p = np.array([[x, y], [x + d * np.cos(a), y + d * np.sin(a)]])
        strokes.append(hand_stroke(p, rng, width_mm=stroke_mm * rng.uniform(1.0, 1.6), jitter_mm=0.02, taper=False))
    return strokes


def near_square_dot(square: Rect, rng: np.random.Generator, *, stroke_mm: float) -> list[Stroke]:
    """One stray dot in the square's cell but clearly outside the square (3–6 mm from its border)."""
    side = rng.integers(4)
    gap = rng.uniform(3.0, 6.0)
    along = rng.uniform(0.2, 0.8)
    x, y = {
        0: (square.x - gap, square.y + along * square.h),
        1: (square.x2 + gap, square.y + along * square.h),
        2: (square.x + along * square.w, square.y - gap),
        3: (square.x + along * square.w, square.y2 + gap),
    }[int(side)]
    p = np.array([[x, y], [x + 0.3, y + 0.2]])
    return [hand_stroke(p, rng, width_mm=stroke_mm * 1.3, jitter_mm=0.02, taper=False)]


def signature_strokes(line_mm: tuple[float, float, float, float], rng: np.random.Generator, *, stroke_mm: float) -> list[Stroke]:
    """A handwritten signature sitting on the signature line (a flourish of loops, 25–55 mm wide)."""
    x0, y_line, x1, _ = line_mm
    width = rng.uniform(25, min(55, x1 - x0 - 4))
    height = rng.uniform(6, 13)
    left = rng.uniform(x0 + 2, max(x0 + 3, x1 - width - 2))
    base = y_line - rng.uniform(-1.5, 3.0)
    n = 260
    t = np.linspace(0, 1, n)
    loops = rng.uniform(4, 8)
    phase = 2 * np.pi * loops * t + rng.uniform(0, 6)
    # Letters as loops: the pen advances unevenly with a back-and-forth wobble, each loop
    # its own height, the whole slanted like handwriting.
    advance = np.cumsum(np.clip(1 + 0.6 * smooth_noise(n, rng, correlation=20), 0.2, None))
    x = left + width * advance / advance[-1] + rng.uniform(1.5, 4.0) * np.sin(phase)
    heights = rng.uniform(0.25, 1.0, int(loops) + 2)
    heights[0] = rng.uniform(1.1, 1.5)  # a taller capital at the start
    env = np.interp(loops * t, np.arange(len(heights)), heights)
    y = base - height * env * (0.5 + 0.5 * np.cos(phase + 0.8 * smooth_noise(n, rng, correlation=30)))
    x = x + rng.uniform(0.1, 0.4) * (base - y)
    strokes = [hand_stroke(np.stack([x, y], 1), rng, width_mm=stroke_mm, jitter_mm=0.12)]
    if rng.random() < 0.6:  # an underline flourish
        u0 = np.array([left + width * rng.uniform(0.3, 0.6), base + rng.uniform(0.5, 2)])
        u1 = np.array([left + width * rng.uniform(0.95, 1.15), base + rng.uniform(-1, 1.5)])
        strokes.append(hand_stroke(bowed(u0, u1, bow=rng.uniform(-0.1, 0.1)), rng, width_mm=stroke_mm))
    return strokes


def stamp_coverage(center_mm: tuple[float, float], diameter_mm: float, precinct: int, rng: np.random.Generator, *, px_per_mm: float) -> tuple[np.ndarray, tuple[int, int]]:
    """A round precinct stamp: two rings, the commission's name around, its number in the middle.

    Returns the coverage patch (h, w) float32 0–1 and its ``(row, col)`` origin on the sheet.
    Stamp ink is uneven (pressed harder on one side, grainy), so coverage varies.
    """
    ppm = px_per_mm
    size = int(np.ceil(diameter_mm * ppm)) + 4
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    c = size / 2
    r_out = diameter_mm / 2 * ppm
    ring = max(1, int(round(0.5 * ppm)))
    draw.ellipse([c - r_out, c - r_out, c + r_out, c + r_out], outline=255, width=ring)
    r_in = r_out - 5.5 * ppm
    draw.ellipse([c - r_in, c - r_in, c + r_in, c + r_in], outline=255, width=max(1, ring // 2))
    text = "УЧАСКЕЛІК САЙЛАУ КОМИССИЯСЫ * УЧАСТКОВАЯ ИЗБИРАТЕЛЬНАЯ КОМИССИЯ * "
    font = get_font("DejaVu Sans", True, max(6, int(round(2.6 * ppm))))
    r_text = (r_out + r_in) / 2
    for k, ch in enumerate(text):
        a = 2 * np.pi * k / len(text) - np.pi / 2
        glyph = Image.new("L", (font.size * 2, font.size * 2), 0)
        ImageDraw.Draw(glyph).text((font.size, font.size), ch, fill=255, font=font, anchor="mm")
        glyph = glyph.rotate(-np.rad2deg(a) - 90, resample=Image.BILINEAR)
        gx, gy = c + r_text * np.cos(a) - font.size, c + r_text * np.sin(a) - font.size
        img.paste(255, (int(gx), int(gy)), glyph)
    big = get_font("DejaVu Sans", True, max(8, int(round(5 * ppm))))
    draw.text((c, c), f"№ {precinct}", fill=255, font=big, anchor="mm")
    cov = np.asarray(img, np.float32) / 255.0
    # Uneven pressure: a linear ramp across the stamp, and grain.
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    a = rng.uniform(0, 2 * np.pi)
    ramp = np.clip(0.8 + rng.uniform(0.2, 0.6) * (xx * np.cos(a) + yy * np.sin(a)), 0.25, 1.0)
    grain = np.clip(rng.normal(0.85, 0.2, cov.shape), 0.3, 1.0).astype(np.float32)
    cov = cov * ramp * grain * rng.uniform(0.55, 0.9)
    r0 = int(round(center_mm[1] * ppm - 0.5 - c))
    c0 = int(round(center_mm[0] * ppm - 0.5 - c))
    if r0 < 0 or c0 < 0:  # keep the patch origin on the sheet
        cov = cov[max(0, -r0) :, max(0, -c0) :]
        r0, c0 = max(r0, 0), max(c0, 0)
    return cov, (r0, c0)
