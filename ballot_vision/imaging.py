"""Small pure image helpers shared by the stages (no state, inputs never modified)."""

from __future__ import annotations

import cv2
import numpy as np


def to_gray(bgr: np.ndarray) -> np.ndarray:
    """Luma of a BGR image.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray, or (M, N) already grey

    Returns
    -------
    gray : (M, N) uint8 ndarray
    """
    if bgr.ndim == 2:
        return bgr
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def paper_level(gray: np.ndarray, *, kernel_px: int) -> np.ndarray:
    """Estimate the local brightness of the paper under the lighting.

    A grey closing removes dark features narrower than ``kernel_px`` (printed lines, text,
    pen strokes) but keeps steps such as a hard shadow's edge, so dividing by it flattens
    shadows and gradients without erasing the strokes.

    Returns
    -------
    level : (M, N) float32 ndarray, ≥ 1
    """
    k = max(3, int(kernel_px) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    # No smoothing after the closing: blurring it would spread a shadow's edge into a
    # band that looks darker than its surroundings, i.e. a phantom stroke.
    closed = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, kernel)
    return np.maximum(closed.astype(np.float32), 1.0)


def relative_darkness(gray: np.ndarray, *, kernel_px: int) -> np.ndarray:
    """How much darker than the surrounding paper each pixel is: 0 (paper) to 1 (black).

    Returns
    -------
    darkness : (M, N) float32 ndarray in [0, 1]
    """
    level = paper_level(gray, kernel_px=kernel_px)
    return np.clip(1.0 - gray.astype(np.float32) / level, 0.0, 1.0)


def in_frame(photo_shape: tuple[int, ...], transform: np.ndarray, size: tuple[int, int], *,
             margin_px: int = 1) -> np.ndarray:
    """Which pixels of a patch warped out of a photo show the photo, at least ``margin_px``
    patch pixels inside its edge (beyond it, a warp with ``BORDER_REPLICATE`` repeats the
    edge's pixels).

    Parameters
    ----------
    photo_shape : the photo's shape, (M, N) or (M, N, 3)
    transform : (2, 3) affine or (3, 3) projective matrix, photo → patch pixels
    size : the patch's (width, height), px

    Returns
    -------
    inside : (height, width) bool ndarray
    """
    whole = np.ones(photo_shape[:2], np.uint8)
    # Warped like the photo itself (patch pixel → photo pixel): a photo's far corner may
    # lie beyond the horizon of the patch's plane, so its outline mapped forwards is no quad.
    warp = cv2.warpAffine if transform.shape[0] == 2 else cv2.warpPerspective
    mask = warp(whole, transform, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if margin_px > 0:
        mask = cv2.erode(mask, np.ones((2 * margin_px + 1, 2 * margin_px + 1), np.uint8))
    return mask.astype(bool)


def flatten_lighting(gray: np.ndarray, *, kernel_px: int) -> np.ndarray:
    """``gray`` divided by its local paper level: white paper, dark ink, no shadows.

    OCR reads a title crossed by a hard shadow's edge as two halves of different contrast
    and fails on both; flattened, the text is uniform again.

    Returns
    -------
    flat : (M, N) uint8 ndarray
    """
    level = paper_level(gray, kernel_px=kernel_px)
    return np.clip(gray.astype(np.float32) / level * 255.0, 0, 255).astype(np.uint8)


def chroma(bgr: np.ndarray) -> np.ndarray:
    """Colourfulness per pixel (distance from grey in Lab a*, b*), 0 for grey.

    Returns
    -------
    chroma : (M, N) float32 ndarray, roughly 0–128
    """
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    return np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)


def order_quad(points: np.ndarray, right_xy: np.ndarray, down_xy: np.ndarray) -> np.ndarray:
    """Order 4 corners as top-left, top-right, bottom-right, bottom-left in a given frame.

    Parameters
    ----------
    points : (4, 2) float ndarray, (x, y) image coordinates
    right_xy, down_xy : (2,) float ndarray
        Unit vectors, in image coordinates, of the frame's +x (right) and +y (down).

    Returns
    -------
    ordered : (4, 2) float32 ndarray
    """
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    # Normalise each axis so that long thin quads (a name cell) sort like squares.
    u = (pts - centre) @ right_xy
    v = (pts - centre) @ down_xy
    u = u / (np.abs(u).max() or 1.0)
    v = v / (np.abs(v).max() or 1.0)
    angle = np.arctan2(v, u)  # -pi..pi, 0 = right, pi/2 = down
    # Sort clockwise starting just after "left" (angle ±pi), so top-left (about -3pi/4)
    # comes first and no corner sits on the wrap-around.
    order = np.argsort((angle + np.pi) % (2 * np.pi))
    return pts[order]


def long_side_scale(shape: tuple[int, ...], long_side_px: int) -> float:
    """The factor (at most 1) that brings an image of ``shape`` to ``long_side_px`` on its long side."""
    return min(1.0, long_side_px / max(shape[:2]))


def resize_long_side(image: np.ndarray, long_side_px: int) -> tuple[np.ndarray, float]:
    """Shrink ``image`` so its long side is at most ``long_side_px``; returns it and the scale."""
    h, w = image.shape[:2]
    scale = long_side_scale(image.shape, long_side_px)
    if scale >= 1.0:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale
