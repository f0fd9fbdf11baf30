"""The sheet is not flat: folds (creases) and curl, as a height field over the sheet.

Voters fold ballots in half or in thirds to carry them to the box; unfolded, the
sheet keeps a tent along each crease. Paper also curls and waves. Both are modelled as
a height ``z(x, y)`` in mm (towards the camera) over sheet coordinates in mm; the camera
(:mod:`.camera`) projects the lifted surface, which gives the geometric kink of a crease
and the smooth non-linear warp of curl, and the surface's slope gives its shading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Crease:
    """A straight fold line across the whole sheet.

    Attributes
    ----------
    axis : str
        ``"h"`` for a horizontal crease (at y = ``position_mm``), ``"v"`` for vertical.
    position_mm : float
    angle_deg : float
        Slope of the paper on both sides of the crease; positive is a ridge (the crease
        nearer the camera), negative a valley.
    reach_mm : float
        Distance from the crease over which the paper slopes back down to the table.
    line_strength : float
        Darkness of the crease line itself (broken fibres, a thin shadow), 0–1.
    """

    axis: str
    position_mm: float
    angle_deg: float
    reach_mm: float
    line_strength: float = 0.1


@dataclass(frozen=True)
class Deformation:
    """How one sheet lies: creases, curl of its edges, and a gentle wave.

    Attributes
    ----------
    paper_mm : (width, height)
    creases : tuple of Crease
    curl_mm : float
        Lift of the sheet's edges along ``curl_axis`` relative to its middle (0 = flat).
    curl_axis : str
        ``"x"`` (left and right edges lift) or ``"y"`` (top and bottom edges lift).
    curl_power : float
        Shape of the curl: 2 is a cylinder-like bend, larger values keep the middle flat.
    wave_mm, wave_period_mm, wave_phase : float
        A low, long wave over the whole sheet (paper that was in a pocket).
    """

    paper_mm: tuple[float, float]
    creases: tuple[Crease, ...] = ()
    curl_mm: float = 0.0
    curl_axis: str = "x"
    curl_power: float = 2.0
    wave_mm: float = 0.0
    wave_period_mm: tuple[float, float] = (200.0, 250.0)
    wave_phase: tuple[float, float] = (0.0, 0.0)

    @property
    def is_flat(self) -> bool:
        return not self.creases and self.curl_mm == 0 and self.wave_mm == 0


def height_mm(x_mm: np.ndarray, y_mm: np.ndarray, deformation: Deformation) -> np.ndarray:
    """Height of the sheet above the table at sheet points (any matching shapes), mm.

    Points outside the sheet get the height of the nearest edge point, so that the
    function is continuous everywhere (the camera model evaluates it off the sheet too).
    """
    w, h = deformation.paper_mm
    x = np.clip(x_mm, 0, w)
    y = np.clip(y_mm, 0, h)
    z = np.zeros(np.broadcast(x, y).shape, np.float64)
    for c in deformation.creases:
        # Slope tan(angle) at the crease, easing to zero at reach_mm: the paper bends back
        # onto the table smoothly (no second kink, no step in the shading).
        s = np.minimum(np.abs((y if c.axis == "h" else x) - c.position_mm) / c.reach_mm, 1.0)
        z += np.tan(np.deg2rad(c.angle_deg)) * c.reach_mm * (1.0 - s) ** 2 / 2
    if deformation.curl_mm:
        u = (x - w / 2) / (w / 2) if deformation.curl_axis == "x" else (y - h / 2) / (h / 2)
        z += deformation.curl_mm * np.abs(u) ** deformation.curl_power
    if deformation.wave_mm:
        px, py = deformation.wave_period_mm
        fx, fy = deformation.wave_phase
        z += deformation.wave_mm * np.sin(2 * np.pi * x / px + fx) * np.sin(2 * np.pi * y / py + fy)
    return z


def shading(x_mm: np.ndarray, y_mm: np.ndarray, deformation: Deformation, *, light_dir: tuple[float, float, float]) -> np.ndarray:
    """Relative brightness of the surface (1 = as bright as flat paper), Lambertian.

    Parameters
    ----------
    x_mm, y_mm : arrays of sheet coordinates (same shape)
    light_dir : (lx, ly, lz)
        Direction towards the light in sheet axes (z towards the camera).
    """
    if deformation.is_flat:
        return np.ones(np.shape(x_mm), np.float32)
    e = 0.25  # mm: finite-difference step, small against every feature of the height field
    dzdx = (height_mm(x_mm + e, y_mm, deformation) - height_mm(x_mm - e, y_mm, deformation)) / (2 * e)
    dzdy = (height_mm(x_mm, y_mm + e, deformation) - height_mm(x_mm, y_mm - e, deformation)) / (2 * e)
    lx, ly, lz = np.asarray(light_dir, float) / np.linalg.norm(light_dir)
    n_dot_l = (-dzdx * lx - dzdy * ly + lz) / np.sqrt(dzdx**2 + dzdy**2 + 1)
    # Diffuse light plus ambient light from the room, normalised so flat paper is 1.
    ambient = 0.45
    return ((ambient + (1 - ambient) * np.maximum(n_dot_l, 0)) / (ambient + (1 - ambient) * lz)).astype(np.float32)


def crease_lines(x_mm: np.ndarray, y_mm: np.ndarray, deformation: Deformation, *, px_per_mm: float) -> np.ndarray:
    """Darkening factor (<= 1) of the crease lines themselves, about 0.3–0.6 mm wide.

    ``px_per_mm`` is the local scale of the photo: a line thinner than a pixel is drawn a
    pixel wide and proportionally fainter.
    """
    out = np.ones(np.shape(x_mm), np.float32)
    for c in deformation.creases:
        d = np.abs((y_mm if c.axis == "h" else x_mm) - c.position_mm)
        width = max(0.45, 1.0 / px_per_mm)
        gain = min(1.0, 0.45 / width)
        out *= (1.0 - c.line_strength * gain * np.exp(-((d / width) ** 2))).astype(np.float32)
    return out


def random_deformation(paper_mm: tuple[float, float], rng: np.random.Generator, *, fold: str, curl: float) -> Deformation:
    """A sheet folded as ``fold`` (``none``, ``half``, ``thirds``, ``quarters``) with ``curl`` (0–1 strength).

    Returns
    -------
    Deformation
        Creases near the nominal fold lines (people do not fold exactly), each a ridge or
        a valley of 3–14 degrees.
    """
    w, h = paper_mm
    creases: list[Crease] = []
    positions: list[tuple[str, float]] = []
    if fold == "half":
        positions = [("h", h / 2 + rng.normal(0, 4))]
    elif fold == "thirds":
        positions = [("h", h / 3 + rng.normal(0, 4)), ("h", 2 * h / 3 + rng.normal(0, 4))]
    elif fold == "quarters":
        positions = [("h", h / 2 + rng.normal(0, 4)), ("v", w / 2 + rng.normal(0, 4))]
    elif fold != "none":
        raise ValueError(f"unknown fold {fold!r}")
    sign = rng.choice([-1.0, 1.0])
    for axis, pos in positions:
        if fold == "thirds":
            sign = -sign if rng.random() < 0.6 else sign  # a letter fold or a Z fold
        extent = h if axis == "h" else w
        creases.append(
            Crease(
                axis=axis,
                position_mm=float(pos),
                angle_deg=float(sign * rng.uniform(3, 14)),
                reach_mm=float(rng.uniform(0.2, 0.45) * extent),
                line_strength=float(rng.uniform(0.04, 0.15)),
            )
        )
    curl_mm = float(curl * rng.uniform(4, 14)) if curl > 0 else 0.0
    return Deformation(
        paper_mm=paper_mm,
        creases=tuple(creases),
        curl_mm=curl_mm,
        curl_axis=str(rng.choice(["x", "y"])),
        curl_power=float(rng.uniform(2, 4)),
        wave_mm=float(rng.uniform(0, 1.5) if curl > 0 or fold != "none" else 0.0),
        wave_period_mm=(float(rng.uniform(120, 300)), float(rng.uniform(150, 350))),
        wave_phase=(float(rng.uniform(0, 6.3)), float(rng.uniform(0, 6.3))),
    )
