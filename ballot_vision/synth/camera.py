"""A phone camera photographing a sheet on a table.

Geometry: a pinhole camera looks at the sheet's lifted surface (see :mod:`.paper`); the
sheet is rotated in its plane (``rotation_deg``, counter-clockwise as seen in the
upright photo), tilted away from the image plane (``tilt_deg``) and placed so that it
fills a chosen share of the frame, possibly running out of it. :class:`Projector` maps
sheet millimetres to photo pixels exactly, and back (by Newton's method on a coarse grid,
interpolated), so the photo is made by one ``cv2.remap`` and the truth comes from the
same forward map.

Photometry: background texture, the sheet with its fold shading, a finger, a hard
shadow, lighting gradient and vignetting, colour cast, defocus or motion blur, sensor
noise and phone sharpening, in that physical order. All images are (H, W, 3) uint8 BGR
unless noted; pixel ``(row, col)`` has its centre at ``(x, y) = (col, row)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ballot_vision.deblur import line_kernel
from ballot_vision.synth.paper import Deformation, crease_lines, height_mm, shading

# --------------------------------------------------------------------------------------
# Geometry


def _rotation(rotation_deg: float, tilt_deg: float, tilt_dir_deg: float) -> np.ndarray:
    """(3, 3) rotation: in-plane turn (counter-clockwise as seen, image y down), then tilt."""
    a = np.deg2rad(rotation_deg)
    roll = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]])
    axis = np.array([np.cos(np.deg2rad(tilt_dir_deg)), np.sin(np.deg2rad(tilt_dir_deg)), 0.0])
    t = np.deg2rad(tilt_deg)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    tilt = np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)
    return tilt @ roll


@dataclass(frozen=True)
class Projector:
    """Sheet millimetres <-> photo pixels for one shot (see the module docstring).

    Attributes
    ----------
    view_wh : (W, H) of the upright photo, px
    deformation : Deformation of the sheet
    rotation : (3, 3) sheet-to-camera rotation
    distance_mm, focal_px : pinhole camera
    scale, shift_xy : similarity applied after projection (places the sheet in the frame)
    """

    view_wh: tuple[int, int]
    deformation: Deformation
    rotation: np.ndarray
    distance_mm: float
    focal_px: float
    scale: float = 1.0
    shift_xy: tuple[float, float] = (0.0, 0.0)

    @property
    def paper_mm(self) -> tuple[float, float]:
        return self.deformation.paper_mm

    def _raw(self, x_mm: np.ndarray, y_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w, h = self.paper_mm
        z = height_mm(x_mm, y_mm, self.deformation)
        pts = np.stack([x_mm - w / 2, y_mm - h / 2, -z], axis=-1) @ self.rotation.T
        depth = pts[..., 2] + self.distance_mm
        return self.focal_px * pts[..., 0] / depth, self.focal_px * pts[..., 1] / depth

    def forward(self, x_mm: np.ndarray, y_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Photo pixel coordinates (x, y) of sheet points (arrays of any matching shape)."""
        u, v = self._raw(np.asarray(x_mm, float), np.asarray(y_mm, float))
        return self.scale * u + self.shift_xy[0], self.scale * v + self.shift_xy[1]

    def sheet_to_view(self, points_mm: np.ndarray) -> np.ndarray:
        """(N, 2) sheet points in mm -> (N, 2) photo points (x, y) in px."""
        p = np.asarray(points_mm, float)
        u, v = self.forward(p[:, 0], p[:, 1])
        return np.stack([u, v], 1)

    def outline_px(self, n_per_side: int = 32) -> np.ndarray:
        """(4 n, 2) photo points along the sheet's edge, clockwise from the top-left corner."""
        w, h = self.paper_mm
        t = np.linspace(0, 1, n_per_side, endpoint=False)
        edge = np.concatenate([
            np.stack([t * w, 0 * t], 1),
            np.stack([w + 0 * t, t * h], 1),
            np.stack([w - t * w, h + 0 * t], 1),
            np.stack([0 * t, h - t * h], 1),
        ])
        return self.sheet_to_view(edge)

    def local_px_per_mm(self) -> float:
        """The largest photo scale over the sheet, px per mm (to choose the sheet's raster)."""
        w, h = self.paper_mm
        xs, ys = np.meshgrid(np.linspace(0, w, 9), np.linspace(0, h, 9))
        u0, v0 = self.forward(xs, ys)
        u1, v1 = self.forward(xs + 1, ys)
        u2, v2 = self.forward(xs, ys + 1)
        return float(max(np.hypot(u1 - u0, v1 - v0).max(), np.hypot(u2 - u0, v2 - v0).max()))

    def inverse(self, u: np.ndarray, v: np.ndarray, *, iterations: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """Sheet mm of photo points (Newton's method from the flat sheet's homography)."""
        w, h = self.paper_mm
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
        flat = Projector(self.view_wh, Deformation(self.paper_mm), self.rotation, self.distance_mm, self.focal_px, self.scale, self.shift_xy)
        hom = cv2.getPerspectiveTransform(flat.sheet_to_view(corners).astype(np.float32), corners.astype(np.float32))
        q = np.stack([u.ravel(), v.ravel()], 1)
        p = cv2.perspectiveTransform(q[None].astype(np.float64), hom)[0]
        x, y = p[:, 0].copy(), p[:, 1].copy()
        if not self.deformation.is_flat:
            e = 0.1  # mm
            for _ in range(iterations):
                fu, fv = self.forward(x, y)
                ru, rv = fu - q[:, 0], fv - q[:, 1]
                ux, vx = self.forward(x + e, y)
                uy, vy = self.forward(x, y + e)
                a, b, c, d = (ux - fu) / e, (uy - fu) / e, (vx - fv) / e, (vy - fv) / e
                det = a * d - b * c
                det = np.where(np.abs(det) < 1e-9, 1e-9, det)
                x -= (d * ru - b * rv) / det
                y -= (-c * ru + a * rv) / det
        return x.reshape(u.shape), y.reshape(u.shape)


def make_projector(
    deformation: Deformation,
    *,
    view_wh: tuple[int, int],
    rotation_deg: float,
    tilt_deg: float,
    tilt_dir_deg: float,
    fill: float,
    position: tuple[float, float] = (0.5, 0.5),
    overshoot: tuple[str, float] | None = None,
) -> Projector:
    """Place the sheet in the frame.

    Parameters
    ----------
    fill : float
        Size of the sheet's bounding box in the photo: ``max(box_w / W, box_h / H)``.
    position : (fx, fy)
        Where the box sits in the free room of the frame, 0–1 on each axis.
    overshoot : (side, fraction), optional
        Push the box past the ``top``/``bottom``/``left``/``right`` edge of the frame by
        ``fraction`` of its own size (part of the sheet out of frame).
    """
    vw, vh = view_wh
    focal = 0.8 * max(vw, vh)  # a phone's main camera: about 65 degrees across the long side
    rot = _rotation(rotation_deg, tilt_deg, tilt_dir_deg)
    distance = focal * max(deformation.paper_mm) / (max(fill, 0.05) * max(vw, vh))
    proj = Projector(view_wh, deformation, rot, distance, focal)
    out = proj.outline_px()
    bw, bh = np.ptp(out[:, 0]), np.ptp(out[:, 1])
    s = fill / max(bw / vw, bh / vh)
    proj = Projector(view_wh, deformation, rot, distance, focal, s, (0.0, 0.0))
    out = proj.outline_px()
    x0, y0 = out.min(0)
    bw, bh = np.ptp(out[:, 0]), np.ptp(out[:, 1])
    tx = (vw - bw) * position[0] - x0
    ty = (vh - bh) * position[1] - y0
    if overshoot is not None:
        side, frac = overshoot
        if side == "top":
            ty = -frac * bh - y0
        elif side == "bottom":
            ty = vh - (1 - frac) * bh - y0
        elif side == "left":
            tx = -frac * bw - x0
        elif side == "right":
            tx = vw - (1 - frac) * bw - x0
        else:
            raise ValueError(f"overshoot side must be top/bottom/left/right, got {side!r}")
    return Projector(view_wh, deformation, rot, distance, focal, s, (float(tx), float(ty)))


def _coarse_positions(n_px: int, step: int) -> np.ndarray:
    """Sample positions such that cv2.resize by ``step`` interpolates them exactly (one sample of padding)."""
    n = -(-n_px // step) + 2
    return (np.arange(n) - 1 + 0.5) * step - 0.5


def _upsample(coarse: np.ndarray, view_wh: tuple[int, int], step: int) -> np.ndarray:
    """Bilinear upsampling of a field sampled at :func:`_coarse_positions` to (H, W)."""
    ny, nx = coarse.shape
    big = cv2.resize(coarse.astype(np.float32), (nx * step, ny * step), interpolation=cv2.INTER_LINEAR)
    return big[step : step + view_wh[1], step : step + view_wh[0]]


@dataclass(frozen=True)
class SheetMaps:
    """Per photo pixel: where on the sheet it looks (mm) and how lit that spot is.

    x_mm, y_mm, shade : (H, W) float32
    """

    x_mm: np.ndarray
    y_mm: np.ndarray
    shade: np.ndarray


def sheet_maps(proj: Projector, *, light_dir: tuple[float, float, float], step_px: int | None = None) -> SheetMaps:
    """Invert the projector on a coarse grid (every ``step_px``; default about 250 samples across) and interpolate to every pixel."""
    vw, vh = proj.view_wh
    step_px = step_px or max(4, max(vw, vh) // 250)
    u = _coarse_positions(vw, step_px)
    v = _coarse_positions(vh, step_px)
    uu, vv = np.meshgrid(u, v)
    x, y = proj.inverse(uu, vv)
    shade = shading(x, y, proj.deformation, light_dir=light_dir)
    return SheetMaps(_upsample(x, proj.view_wh, step_px), _upsample(y, proj.view_wh, step_px), _upsample(shade, proj.view_wh, step_px))


def _window(points_px: np.ndarray, view_wh: tuple[int, int], pad_px: float) -> tuple[slice, slice] | None:
    """Row and column slices of the frame covering ``points_px`` (N, 2) plus ``pad_px``; None if off-frame."""
    x0 = max(int(np.floor(points_px[:, 0].min() - pad_px)), 0)
    y0 = max(int(np.floor(points_px[:, 1].min() - pad_px)), 0)
    x1 = min(int(np.ceil(points_px[:, 0].max() + pad_px)) + 1, view_wh[0])
    y1 = min(int(np.ceil(points_px[:, 1].max() + pad_px)) + 1, view_wh[1])
    if x1 <= x0 or y1 <= y0:
        return None
    return slice(y0, y1), slice(x0, x1)


def place_sheet(background_bgr: np.ndarray, sheet_bgr: np.ndarray, sheet_ppm: float, proj: Projector, maps: SheetMaps, *, drop_shadow: float = 0.25) -> np.ndarray:
    """Photograph the sheet over the background: remap, fold shading, anti-aliased edge, soft drop shadow.

    Only the window around the sheet (and its shadow) is computed; the rest of the frame is
    the background. Returns the (H, W, 3) uint8 photo.
    """
    w_mm, h_mm = proj.paper_mm
    scale = max(proj.local_px_per_mm(), 1e-3)
    sigma = max(2.0, 0.6 * scale)
    out = background_bgr.copy()
    win = _window(proj.outline_px(), proj.view_wh, 4 * sigma + 4)
    if win is None:
        return out
    x_mm, y_mm = maps.x_mm[win], maps.y_mm[win]
    map_x = x_mm * np.float32(sheet_ppm) - np.float32(0.5)
    map_y = y_mm * np.float32(sheet_ppm) - np.float32(0.5)
    warped = cv2.remap(sheet_bgr, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Signed distance to the sheet's edge in photo pixels -> anti-aliased coverage.
    inside_mm = np.minimum(np.minimum(x_mm, w_mm - x_mm), np.minimum(y_mm, h_mm - y_mm))
    alpha = np.clip(inside_mm * np.float32(scale * 0.85) + np.float32(0.5), 0, 1)
    light = maps.shade[win] * crease_lines(x_mm, y_mm, proj.deformation, px_per_mm=scale)
    bg = out[win].astype(np.float32)
    if drop_shadow > 0:  # the sheet lifts a little off the table and shades it
        lift = np.roll(soft(alpha, sigma), (int(round(sigma * 0.6)), int(round(sigma * 0.4))), axis=(0, 1))
        bg *= (1 - drop_shadow * lift)[..., None]
    sheet = warped.astype(np.float32) * light[..., None]
    out[win] = np.clip(bg + (sheet - bg) * alpha[..., None] + 0.5, 0, 255).astype(np.uint8)
    return out


def quad_visible(quad_px: np.ndarray, view_wh: tuple[int, int], *, margin_px: float = 1.0) -> bool:
    """True when all four corners lie inside the frame (``margin_px`` from its edge)."""
    w, h = view_wh
    return bool(np.all((quad_px[:, 0] >= margin_px) & (quad_px[:, 0] <= w - 1 - margin_px) & (quad_px[:, 1] >= margin_px) & (quad_px[:, 1] <= h - 1 - margin_px)))


def quad_overlaps_mask(quad_px: np.ndarray, mask: np.ndarray) -> bool:
    """True when the filled quad shares any pixel with ``mask`` (H, W) bool."""
    x, y, w, h = cv2.boundingRect(np.round(quad_px).astype(np.int32))
    x0, y0 = max(x - 1, 0), max(y - 1, 0)
    x1, y1 = min(x + w + 1, mask.shape[1]), min(y + h + 1, mask.shape[0])
    if x1 <= x0 or y1 <= y0:
        return False
    local = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(local, [np.round(quad_px - [x0, y0]).astype(np.int32)], 1)
    return bool(np.any(local.astype(bool) & mask[y0:y1, x0:x1]))


# --------------------------------------------------------------------------------------
# Backgrounds (generated at a quarter of the resolution, then upsampled with fine grain)


def _lowres_grid(view_wh: tuple[int, int], factor: int = 4) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    w, h = max(8, view_wh[0] // factor), max(8, view_wh[1] // factor)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return xx / max(w, h), yy / max(w, h), (w, h)


def _smooth_field(shape_hw: tuple[int, int], rng: np.random.Generator, *, cells: int) -> np.ndarray:
    """(H, W) float32 low-frequency noise, roughly unit variance."""
    coarse = rng.normal(0, 1, (cells + 1, cells + 1)).astype(np.float32)
    return cv2.resize(coarse, (shape_hw[1], shape_hw[0]), interpolation=cv2.INTER_CUBIC)


def background(kind: str, view_wh: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A surface to photograph on: ``wood``, ``cloth``, ``table`` (plain top) or ``papers`` (a table under other sheets; the sheets are added by :func:`add_papers`).

    Returns (H, W, 3) uint8 BGR.
    """
    xx, yy, (lw, lh) = _lowres_grid(view_wh)
    if kind == "wood":
        # Planks of long grain: growth lines (a 1-D pattern across the grain, gently
        # warped along it), fine streaks, and a dark joint between planks.
        a = rng.uniform(0, np.pi)
        along = xx * np.cos(a) + yy * np.sin(a)
        across = -xx * np.sin(a) + yy * np.cos(a)
        plank = rng.uniform(0.15, 0.4)
        index = np.floor(across / plank)
        warp = 0.015 * np.sin(2 * np.pi * (along * rng.uniform(0.5, 2) + index * 1.7)) + 0.006 * _smooth_field((lh, lw), rng, cells=8)
        u = across + warp + index * 0.37
        lines = np.sin(2 * np.pi * u * rng.uniform(40, 110)) ** 2
        streak_grid = np.linspace(-2, 2, 4000)
        streaks = np.interp(u, streak_grid, rng.normal(0, 1, streak_grid.size))
        joint = np.exp(-(((across / plank) - np.round(across / plank)) * plank / 0.002) ** 2)
        t = 0.55 + 0.18 * lines + 0.1 * streaks + 0.12 * np.cos(index * 2.3) - 0.5 * joint
        light = np.array([[120, 170, 210], [90, 130, 175], [60, 90, 130], [150, 185, 215]][rng.integers(4)], float)
        dark = light * rng.uniform(0.5, 0.7)
        img = dark + (light - dark) * np.clip(t, 0, 1.2)[..., None]
    elif kind == "cloth":
        period = rng.uniform(0.004, 0.01)
        weave = np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
        base = np.array(rng.choice([[60, 50, 150], [140, 90, 40], [70, 130, 60], [170, 190, 200], [90, 90, 95], [40, 40, 120]]), float)
        img = base * (0.85 + 0.08 * weave + 0.1 * _smooth_field((lh, lw), rng, cells=5))[..., None]
        if rng.random() < 0.4:  # a check pattern (a tablecloth)
            p = rng.uniform(0.04, 0.12)
            check = ((np.floor(xx / p) + np.floor(yy / p)) % 2)[..., None]
            img = img * (1 - 0.25 * check) + 0.25 * check * np.array([230, 230, 230])
    elif kind in ("table", "papers"):
        base = np.array(rng.choice([[200, 200, 200], [150, 155, 160], [90, 100, 110], [210, 215, 220], [60, 60, 65], [160, 175, 185]]), float)
        img = base * (0.9 + 0.08 * _smooth_field((lh, lw), rng, cells=4))[..., None]
    else:
        raise ValueError(f"unknown background {kind!r}")
    img = cv2.resize(np.clip(img, 0, 255).astype(np.float32), view_wh, interpolation=cv2.INTER_LINEAR)
    grain = rng.standard_normal((view_wh[1], view_wh[0]), dtype=np.float32) * np.float32(rng.uniform(1.5, 4.0))
    return np.clip(img + grain[..., None], 0, 255).astype(np.uint8)


def add_papers(photo_bgr: np.ndarray, near_px: np.ndarray, rng: np.random.Generator, *, pages: list[np.ndarray], page_ppm: float, px_per_mm: float) -> np.ndarray:
    """Other printed sheets lying on the table near (and partly under) the sheet outlined by ``near_px`` (N, 2).

    ``pages`` are drawn at ``page_ppm``; they lie at the photo's scale ``px_per_mm``.
    """
    out = photo_bgr.copy()
    h, w = out.shape[:2]
    x0, y0 = near_px.min(0)
    x1, y1 = near_px.max(0)
    for page in pages:
        ph, pw = page.shape[:2]
        k = px_per_mm / page_ppm * rng.uniform(0.85, 1.1)
        a = rng.uniform(-40, 40)
        # Centred near the left or right side of the ballot, so that it lies partly under it.
        cx = rng.choice([x0, x1]) + rng.uniform(-0.3, 0.3) * (x1 - x0)
        cy = rng.uniform(y0, y1)
        m = cv2.getRotationMatrix2D((pw / 2, ph / 2), a, k)
        m[:, 2] += np.array([cx, cy]) - np.array([pw / 2, ph / 2])
        corners = np.array([[0, 0, 1], [pw, 0, 1], [pw, ph, 1], [0, ph, 1]], float) @ m.T
        win = _window(corners, (w, h), 2)
        if win is None:
            continue
        m[:, 2] -= [win[1].start, win[0].start]  # warp straight into the window
        size = (win[1].stop - win[1].start, win[0].stop - win[0].start)
        warped = cv2.warpAffine(page, m, size, flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        mask = cv2.warpAffine(np.full((ph, pw), 255, np.uint8), m, size, flags=cv2.INTER_LINEAR).astype(np.float32) / 255
        out[win] = np.clip(out[win] * (1 - mask[..., None]) + warped * mask[..., None], 0, 255).astype(np.uint8)
    return out


# --------------------------------------------------------------------------------------
# Occluders and light


def soft(mask: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur of a (H, W) float32 mask; large blurs run at a reduced resolution (same to the eye, far faster)."""
    k = max(1, int(sigma_px / 3))
    if k == 1:
        return cv2.GaussianBlur(mask, (0, 0), max(sigma_px, 0.3))
    h, w = mask.shape
    small = cv2.resize(mask, (-(-w // k), -(-h // k)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma_px / k)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


#: The finger is straight for this many widths from its tip, then widens into the hand.
_FINGER_LENGTH = 4.0
#: How much wider than the finger the hand is where it leaves the frame.
_HAND_WIDTH = 2.4


def _half_width(along: np.ndarray, width_px: float, length_px: float) -> np.ndarray:
    """Half the width of finger-and-hand at ``along`` px from the tip (widening linearly after the knuckle)."""
    grow = np.clip((along - _FINGER_LENGTH * width_px) / max(length_px - _FINGER_LENGTH * width_px, 1.0), 0, 1)
    return 0.5 * width_px * (1 + (_HAND_WIDTH - 1) * grow)


def finger_mask(tip_px: np.ndarray, base_px: np.ndarray, width_px: float, view_wh: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 0–1: a finger with a rounded ``tip_px``, widening into the hand towards ``base_px``."""
    w, h = view_wh
    mask = np.zeros((h, w), np.uint8)
    shift = 4
    tip, base = np.asarray(tip_px, float), np.asarray(base_px, float)
    length = max(float(np.linalg.norm(base - tip)), 1e-6)
    axis = (base - tip) / length
    normal = np.array([-axis[1], axis[0]])
    along = np.linspace(0, length, 24)
    half = _half_width(along, width_px, length)
    outline = np.concatenate([tip + np.outer(along, axis) + np.outer(half, normal), (tip + np.outer(along, axis) - np.outer(half, normal))[::-1]])
    cv2.fillPoly(mask, [np.round(outline * (1 << shift)).astype(np.int32)], 255, cv2.LINE_AA, shift)
    centre = tuple(int(round(c * (1 << shift))) for c in tip)
    cv2.circle(mask, centre, int(round(width_px / 2 * (1 << shift))), 255, -1, cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255


def draw_finger(photo_bgr: np.ndarray, tip_px: np.ndarray, base_px: np.ndarray, width_px: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Add a finger (skin tone, rounded, shaded across its width, out of focus) and its shadow.

    Returns the photo and the finger's hard mask (H, W) bool (for visibility tests).
    """
    h, w = photo_bgr.shape[:2]
    mask = finger_mask(tip_px, base_px, width_px, (w, h))
    # Shadow on the paper: the finger hovers above it.
    off = np.array([rng.uniform(-0.25, 0.25), rng.uniform(0.1, 0.35)]) * width_px
    shadow = soft(finger_mask(tip_px + off, base_px + off, width_px * 1.05, (w, h)), max(1.5, 0.25 * width_px))
    blurred = soft(mask, max(1.0, 0.03 * width_px))  # close to the lens: out of focus
    # Work only where the finger or its shadow are (a 12 MP photo is mostly untouched).
    x, y, bw, bh = cv2.boundingRect(((blurred > 1e-3) | (shadow > 1e-3)).astype(np.uint8))
    out = photo_bgr.copy()
    if bw == 0 or bh == 0:
        return out, mask > 0.02
    win = (slice(y, y + bh), slice(x, x + bw))
    patch = out[win].astype(np.float32) * (1 - 0.35 * shadow[win])[..., None]
    skin = np.array(rng.choice([[150, 175, 225], [120, 150, 205], [100, 130, 185], [80, 105, 150], [135, 165, 215]]), np.float32)
    # Rounded: darker towards the finger's sides (distance from its axis).
    d = np.asarray(base_px, float) - np.asarray(tip_px, float)
    n = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-6)
    yy, xx = np.mgrid[y : y + bh, x : x + bw].astype(np.float32)
    along = (xx - tip_px[0]) * n[1] - (yy - tip_px[1]) * n[0]  # px from the tip, towards the hand
    half = _half_width(along, width_px, float(np.linalg.norm(d)))
    across = np.abs((xx - tip_px[0]) * n[0] + (yy - tip_px[1]) * n[1]) / half
    tone = np.clip(1.05 - 0.35 * across**2, 0.55, 1.1)[..., None] * skin
    a = blurred[win][..., None]
    out[win] = np.clip(patch * (1 - a) + tone * a, 0, 255).astype(np.uint8)
    return out, mask > 0.02


def hard_shadow(photo_bgr: np.ndarray, rng: np.random.Generator, *, strength: float) -> np.ndarray:
    """A phone's or hand's shadow: a large rounded polygon entering from one side of the frame."""
    h, w = photo_bgr.shape[:2]
    side = rng.integers(4)
    depth = rng.uniform(0.2, 0.55)
    t = np.linspace(0, 1, 7)
    span0, span1 = sorted(rng.uniform(-0.2, 1.2, 2))
    span1 = max(span1, span0 + 0.35)
    along = span0 + (span1 - span0) * t
    reach = depth * (0.6 + 0.4 * np.sin(np.pi * t)) + rng.normal(0, 0.03, len(t))
    if side == 0:
        pts = np.stack([along * w, reach * h], 1)
        poly = np.vstack([[span1 * w, -10], pts[::-1], [span0 * w, -10]])
    elif side == 1:
        pts = np.stack([along * w, (1 - reach) * h], 1)
        poly = np.vstack([[span0 * w, h + 10], pts, [span1 * w, h + 10]])
    elif side == 2:
        pts = np.stack([reach * w, along * h], 1)
        poly = np.vstack([[-10, span0 * h], pts, [-10, span1 * h]])
    else:
        pts = np.stack([(1 - reach) * w, along * h], 1)
        poly = np.vstack([[w + 10, span0 * h], pts, [w + 10, span1 * h]])
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 255, cv2.LINE_AA)
    penumbra = rng.uniform(0.002, 0.012) * max(w, h)  # a hard shadow: a few pixels of penumbra
    shade = soft(mask.astype(np.float32) / 255, penumbra)
    tint = np.array([1.0, 0.97, 0.93], np.float32)  # shadows are lit by the (bluer) sky/room light
    factor = 1 - strength * shade[..., None] * (2 - tint)
    return np.clip(photo_bgr.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def lighting(photo_bgr: np.ndarray, rng: np.random.Generator, *, gradient: float, vignette: float, cast: str, exposure: float = 1.0) -> np.ndarray:
    """Uneven light (a linear gradient of ``gradient`` strength and vignetting) and a colour cast.

    ``cast`` is ``none``, ``warm`` (tungsten) or ``cold`` (shade, daylight LED).
    """
    h, w = photo_bgr.shape[:2]
    xx, yy, (lw, lh) = _lowres_grid((w, h), factor=8)
    a = rng.uniform(0, 2 * np.pi)
    ramp = (xx - xx.mean()) * np.cos(a) + (yy - yy.mean()) * np.sin(a)
    ramp = ramp / max(np.abs(ramp).max(), 1e-6)
    r2 = ((xx - xx.mean()) ** 2 + (yy - yy.mean()) ** 2) / max(float(((xx - xx.mean()) ** 2 + (yy - yy.mean()) ** 2).max()), 1e-6)
    field = exposure * (1 - gradient * (0.5 + 0.5 * ramp)) * (1 - vignette * r2)
    field = cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    gains = {
        "none": np.array([1.0, 1.0, 1.0]),
        # What the phone's white balance leaves uncorrected: a tint, not a filter.
        "warm": np.array([rng.uniform(0.82, 0.93), rng.uniform(0.95, 0.99), 1.0]),
        "cold": np.array([1.0, rng.uniform(0.97, 1.0), rng.uniform(0.86, 0.95)]),
    }[cast].astype(np.float32)  # BGR
    out = photo_bgr.astype(np.float32) * field[..., None] * gains
    return np.clip(out, 0, 255).astype(np.uint8)


def blur(photo_bgr: np.ndarray, *, kind: str, size_px: float, angle_deg: float = 0.0) -> np.ndarray:
    """Defocus (Gaussian of sigma ``size_px``) or motion blur (a line ``size_px`` long at ``angle_deg``)."""
    if kind == "none" or size_px <= 0:
        return photo_bgr
    if kind == "defocus":
        return cv2.GaussianBlur(photo_bgr, (0, 0), size_px)
    if kind == "motion":
        return cv2.filter2D(photo_bgr, -1, line_kernel(size_px, angle_deg), borderType=cv2.BORDER_REFLECT)
    raise ValueError(f"unknown blur {kind!r}")


def sensor_noise(photo_bgr: np.ndarray, rng: np.random.Generator, *, sigma: float, sharpen: float) -> np.ndarray:
    """Photon and read noise (``sigma`` in 0–255 units at mid-grey, brighter pixels noisier),
    a little chroma noise, then the phone's unsharp-mask sharpening of ``sharpen`` strength."""
    img = photo_bgr.astype(np.float32)
    if sigma > 0:
        h, w = img.shape[:2]
        gray = cv2.cvtColor(photo_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
        level = np.sqrt(np.clip(gray, 1, 255) / np.float32(128.0))
        luma = rng.standard_normal((h, w), dtype=np.float32) * level
        # Chroma noise is coarser than luma noise (demosaicing spreads it over pixels).
        small = rng.standard_normal(((h + 1) // 2, (w + 1) // 2, 3), dtype=np.float32) * np.float32(0.5)
        chroma = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        img += np.float32(sigma) * (luma[..., None] + chroma * level[..., None])
    if sharpen > 0:
        soft = cv2.GaussianBlur(img, (0, 0), 1.2)
        img += sharpen * (img - soft)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)
