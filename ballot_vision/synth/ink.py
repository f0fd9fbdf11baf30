"""Handwriting ink on paper: pens, hand-drawn strokes, and how they darken the sheet.

A stroke is a polyline in millimetres on the sheet with a width and an ink density at
every point. It is rasterised analytically (distance to the polyline, anti-aliased to
the pixel) and blended multiplicatively, so ink darkens the paper and the print under
it instead of pasting a colour over them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Pen:
    """A writing instrument.

    Attributes
    ----------
    name : str
        ``blue``, ``black``, ``violet`` (ballpoints) or ``pencil``.
    rgb : (r, g, b)
        Colour the ink gives on white paper at full coverage, 0–255.
    pencil : bool
        Graphite: grainy, faint, grey, unsaturated.
    """

    name: str
    rgb: tuple[int, int, int]
    pencil: bool = False


PENS: dict[str, Pen] = {
    "blue": Pen("blue", (35, 55, 150)),
    "black": Pen("black", (38, 38, 44)),
    "violet": Pen("violet", (80, 45, 135)),
    "pencil": Pen("pencil", (105, 105, 112), pencil=True),
}


def vary_pen(pen: Pen, rng: np.random.Generator) -> Pen:
    """The same kind of pen from another maker: colour shifted a little (graphite stays grey)."""
    if pen.pencil:
        rgb = np.asarray(pen.rgb, float) + rng.uniform(-18, 18) + np.array([0.0, 0.0, rng.uniform(0, 6)])
    else:
        rgb = np.asarray(pen.rgb, float) + rng.uniform(-14, 14, 3)
    return Pen(pen.name, tuple(int(round(v)) for v in np.clip(rgb, 0, 255)), pen.pencil)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Stroke:
    """One pen-down movement.

    Attributes
    ----------
    points_mm : (N, 2) float ndarray
        x, y on the sheet in mm, in drawing order (N >= 2).
    width_mm : (N,) float ndarray
        Line width at each point.
    density : (N,) float ndarray
        Ink laid down at each point, 0–1 (ballpoint pressure, skips).
    """

    points_mm: np.ndarray
    width_mm: np.ndarray
    density: np.ndarray


# --------------------------------------------------------------------------------------
# Hand-drawn geometry


def smooth_noise(n: int, rng: np.random.Generator, *, correlation: int) -> np.ndarray:
    """(n,) zero-mean, unit-ish noise correlated over about ``correlation`` samples."""
    knots = max(2, n // max(correlation, 1) + 2)
    values = rng.normal(0, 1, knots)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), values)


def resample(points_mm: np.ndarray, *, step_mm: float) -> np.ndarray:
    """(M, 2) points evenly spaced ``step_mm`` apart along the polyline ``points_mm`` (N, 2)."""
    seg = np.linalg.norm(np.diff(points_mm, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] <= 0:
        return points_mm[[0, -1]].astype(float)
    m = max(2, int(np.ceil(arc[-1] / step_mm)) + 1)
    s = np.linspace(0, arc[-1], m)
    return np.stack([np.interp(s, arc, points_mm[:, 0]), np.interp(s, arc, points_mm[:, 1])], 1)


def bowed(p0: np.ndarray, p1: np.ndarray, *, bow: float, n: int = 24) -> np.ndarray:
    """(n, 2) points of a quadratic curve from p0 to p1 bulging sideways by ``bow`` × length."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    normal = np.array([-d[1], d[0]])
    ctrl = (p0 + p1) / 2 + bow * normal
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t**2 * p1


def hand_stroke(
    path_mm: np.ndarray,
    rng: np.random.Generator,
    *,
    width_mm: float,
    jitter_mm: float = 0.15,
    pencil: bool = False,
    taper: bool = True,
) -> Stroke:
    """Make a geometric path look hand-drawn.

    The path is resampled every 0.2 mm, displaced sideways by slowly varying noise
    (a hand does not follow a ruler), given a slightly uneven width and ink density
    (ballpoint pressure) and optionally thinner ends (pen landing and lifting).
    """
    pts = resample(np.asarray(path_mm, float), step_mm=0.2)
    n = len(pts)
    tangent = np.gradient(pts, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    wobble = jitter_mm * (smooth_noise(n, rng, correlation=25) + 0.3 * smooth_noise(n, rng, correlation=6))
    pts = pts + normal * wobble[:, None]
    width = width_mm * np.clip(1.0 + 0.12 * smooth_noise(n, rng, correlation=30), 0.75, 1.25)
    if pencil:
        density = np.clip(rng.uniform(0.45, 0.75) + 0.12 * smooth_noise(n, rng, correlation=15), 0.25, 0.9)
    else:
        density = np.clip(rng.uniform(0.88, 1.0) + 0.08 * smooth_noise(n, rng, correlation=20), 0.6, 1.0)
        # A ballpoint sometimes skips for a fraction of a millimetre.
        for _ in range(rng.poisson(n * 0.2 / 100)):
            i = rng.integers(n)
            density[max(0, i - 2) : i + 3] *= rng.uniform(0.35, 0.7)
    if taper and n > 6:
        k = min(n // 3, 8)
        ramp = np.linspace(0.55, 1.0, k)
        width[:k] *= ramp
        width[-k:] *= ramp[::-1]
    return Stroke(points_mm=pts, width_mm=width, density=density)


# --------------------------------------------------------------------------------------
# Rasterisation and blending


def stroke_coverage(strokes: list[Stroke], *, shape_hw: tuple[int, int], px_per_mm: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Anti-aliased ink coverage of strokes, cropped to their bounding box.

    Parameters
    ----------
    strokes : list of Stroke
    shape_hw : (H, W) of the sheet image
    px_per_mm : float
        Sheet resolution; a point at x mm lies at pixel column ``x * px_per_mm - 0.5``.

    Returns
    -------
    coverage : (h, w) float32 ndarray, 0–1
    origin_rc : (row, col) of ``coverage[0, 0]`` in the sheet image
    """
    if not strokes:
        return np.zeros((0, 0), np.float32), (0, 0)
    allp = np.concatenate([s.points_mm for s in strokes])
    pad = max(float(max(s.width_mm.max() for s in strokes)), 0.5) + 2 / px_per_mm
    x0 = int(np.floor((allp[:, 0].min() - pad) * px_per_mm))
    y0 = int(np.floor((allp[:, 1].min() - pad) * px_per_mm))
    x1 = int(np.ceil((allp[:, 0].max() + pad) * px_per_mm))
    y1 = int(np.ceil((allp[:, 1].max() + pad) * px_per_mm))
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, shape_hw[1]), min(y1, shape_hw[0])
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0), np.float32), (0, 0)
    cov = np.zeros((y1 - y0, x1 - x0), np.float32)
    for s in strokes:
        _stroke_into(cov, s, px_per_mm, origin_xy=(x0, y0))
    return cov, (y0, x0)


def _stroke_into(cov: np.ndarray, stroke: Stroke, ppm: float, *, origin_xy: tuple[int, int]) -> None:
    """Max-composite one stroke into ``cov``, segment by segment in small windows."""
    p = stroke.points_mm * ppm - 0.5 - np.asarray(origin_xy, float)  # patch pixel coords
    w = stroke.width_mm * ppm
    dens = stroke.density
    h_px, w_px = cov.shape
    # Short runs of segments share one window, which keeps the Python loop short.
    run = 6
    for i in range(0, len(p) - 1, run):
        a = p[i : i + run]
        b = p[i + 1 : i + run + 1]
        m = min(len(a), len(b))
        a, b = a[:m], b[:m]
        wa, wb = w[i : i + m], w[i + 1 : i + m + 1]
        da, db = dens[i : i + m], dens[i + 1 : i + m + 1]
        r = float(max(wa.max(), wb.max())) / 2 + 1.5
        c0 = max(int(np.floor(min(a[:, 0].min(), b[:, 0].min()) - r)), 0)
        c1 = min(int(np.ceil(max(a[:, 0].max(), b[:, 0].max()) + r)) + 1, w_px)
        r0 = max(int(np.floor(min(a[:, 1].min(), b[:, 1].min()) - r)), 0)
        r1 = min(int(np.ceil(max(a[:, 1].max(), b[:, 1].max()) + r)) + 1, h_px)
        if c1 <= c0 or r1 <= r0:
            continue
        xs = np.arange(c0, c1, dtype=np.float32)[None, :, None]
        ys = np.arange(r0, r1, dtype=np.float32)[:, None, None]
        ab = (b - a).astype(np.float32)
        len2 = np.maximum((ab**2).sum(1), 1e-6)
        t = ((xs - a[:, 0]) * ab[:, 0] + (ys - a[:, 1]) * ab[:, 1]) / len2
        t = np.clip(t, 0, 1)
        dx = xs - (a[:, 0] + t * ab[:, 0])
        dy = ys - (a[:, 1] + t * ab[:, 1])
        dist = np.sqrt(dx * dx + dy * dy)
        half = (wa + t * (wb - wa)) / 2
        # Anti-aliasing: coverage ramps over one pixel around the stroke's edge; a stroke
        # thinner than a pixel is drawn one pixel wide and proportionally fainter.
        faint = np.minimum(1.0, 2 * half)
        half = np.maximum(half, 0.5)
        c = np.clip(half - dist + 0.5, 0, 1) * faint * (da + t * (db - da))
        np.maximum(cov[r0:r1, c0:c1], c.max(axis=2), out=cov[r0:r1, c0:c1])


def graphite_grain(shape_hw: tuple[int, int], rng: np.random.Generator, *, px_per_mm: float) -> np.ndarray:
    """(H, W) float32 0.2–1: graphite catches only on the paper's fibres, leaving specks of paper."""
    fine = rng.random(shape_hw).astype(np.float32)
    sigma = max(0.35, 0.05 * px_per_mm)
    fine = cv2.GaussianBlur(fine, (0, 0), sigma)
    fine = (fine - fine.mean()) / max(float(fine.std()), 1e-6)
    return np.clip(0.7 + 0.3 * fine, 0.2, 1.0)


def apply_ink(sheet_bgr: np.ndarray, strokes: list[Stroke], pen: Pen, *, px_per_mm: float, rng: np.random.Generator, opacity: float = 1.0) -> np.ndarray:
    """A copy of ``sheet_bgr`` (H, W, 3) uint8 with ``strokes`` drawn in ``pen``'s ink.

    The blend is multiplicative (paper × transmittance of the ink layer); ``opacity``
    scales the whole layer (a faded stamp, a light hand).
    """
    out = sheet_bgr.copy()
    cov, (r0, c0) = stroke_coverage(strokes, shape_hw=sheet_bgr.shape[:2], px_per_mm=px_per_mm)
    if cov.size == 0:
        return out
    if pen.pencil:
        cov = cov * graphite_grain(cov.shape, rng, px_per_mm=px_per_mm)
    blend_coverage(out, cov * opacity, pen.rgb, origin_rc=(r0, c0))
    return out


def blend_coverage(image_bgr: np.ndarray, coverage: np.ndarray, ink_rgb: tuple[int, int, int], *, origin_rc: tuple[int, int] = (0, 0)) -> None:
    """Darken ``image_bgr`` in place under a coverage patch placed at ``origin_rc`` (multiplicative)."""
    r0, c0 = origin_rc
    h, w = coverage.shape
    h = min(h, image_bgr.shape[0] - r0)
    w = min(w, image_bgr.shape[1] - c0)
    if h <= 0 or w <= 0:
        return
    cov = coverage[:h, :w, None].astype(np.float32)
    transmit = np.asarray(ink_rgb[::-1], np.float32) / 255.0  # BGR order
    patch = image_bgr[r0 : r0 + h, c0 : c0 + w].astype(np.float32)
    patch *= 1.0 - cov * (1.0 - transmit)
    image_bgr[r0 : r0 + h, c0 : c0 + w] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)
