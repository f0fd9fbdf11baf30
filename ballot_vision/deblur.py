"""Undoing a photo's blur on a small crop, so that text smeared by a shaking hand or a missed
focus can still be read.

A photo's blur is, over a few centimetres of paper, one point-spread function (PSF): a line
for a hand's shake, a disc or Gaussian for defocus. The printed squares' heavy borders show
how far it spreads along each axis (:func:`ballot_vision.stages.score.border_blur_variance`);
:func:`blur_hypotheses` turns those two spreads into the few PSFs that explain them, and
:func:`wiener_deconvolve` undoes one. The squares cannot tell a shake along one diagonal from
one along the other, or a shake along a diagonal from defocus, so the caller tries each
hypothesis and keeps what reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class BlurHypothesis:
    """One PSF that explains the measured spreads, in mm of paper."""

    kind: str  # "motion" (a line ``size_mm`` long at ``angle_deg``) or "defocus" (Gaussian, sigma ``size_mm``)
    size_mm: float
    angle_deg: float = 0.0  # counter-clockwise from the paper's x axis (motion only)

    @property
    def label(self) -> str:
        """``motion:<mm>:<deg>`` or ``defocus:<mm>``, for the results' extras."""
        if self.kind == "motion":
            return f"motion:{self.size_mm:.2f}:{self.angle_deg:.0f}"
        return f"defocus:{self.size_mm:.2f}"

    def kernel(self, px_per_mm: float) -> np.ndarray:
        """The PSF sampled at ``px_per_mm``: (K, K) float32 ndarray summing to 1."""
        if self.kind == "motion":
            return line_kernel(self.size_mm * px_per_mm, self.angle_deg)
        return gaussian_kernel(self.size_mm * px_per_mm)


def line_kernel(length_px: float, angle_deg: float) -> np.ndarray:
    """A straight motion-blur PSF ``length_px`` long at ``angle_deg`` (counter-clockwise from +x).

    Returns
    -------
    kernel : (K, K) float32 ndarray, K odd, summing to 1 (anti-aliased, sub-pixel ends)
    """
    n = int(np.ceil(length_px)) | 1
    kernel = np.zeros((n, n), np.uint8)
    c = (n - 1) / 2
    d = np.array([np.cos(np.deg2rad(angle_deg)), -np.sin(np.deg2rad(angle_deg))]) * length_px / 2
    shift = 4  # cv2.line takes fixed-point coordinates with this many fractional bits
    p0 = tuple(int(round(v * (1 << shift))) for v in (c - d[0], c - d[1]))
    p1 = tuple(int(round(v * (1 << shift))) for v in (c + d[0], c + d[1]))
    cv2.line(kernel, p0, p1, 255, 1, cv2.LINE_AA, shift)
    out = kernel.astype(np.float32)
    return out / max(float(out.sum()), 1e-6)


def gaussian_kernel(sigma_px: float) -> np.ndarray:
    """A defocus PSF: a Gaussian of ``sigma_px``, (K, K) float32 summing to 1, K about 6 sigma."""
    n = max(3, int(np.ceil(6 * sigma_px)) | 1)
    g = cv2.getGaussianKernel(n, sigma_px).astype(np.float32)
    return g @ g.T


def wiener_deconvolve(gray: np.ndarray, kernel: np.ndarray, *, noise_to_signal: float = 0.04) -> np.ndarray:
    """Undo a blur of known PSF (Wiener filter), for reading text.

    Parameters
    ----------
    gray : (M, N) uint8 ndarray
        Dark print on light paper.
    kernel : (K, K) float ndarray summing to 1
        The PSF at the crop's own scale.
    noise_to_signal : float
        The filter's regularisation: larger values ring less and sharpen less. Sensor noise
        and JPEG blocks are amplified where the PSF's spectrum is small.

    Returns
    -------
    restored : (M, N) uint8 ndarray
    """
    pad = kernel.shape[0]
    # Reflected margins keep the crop's edges from wrapping round into each other (the
    # discrete Fourier transform is periodic) and ringing across the text; sizes with only
    # small prime factors keep the transform fast.
    h = cv2.getOptimalDFTSize(gray.shape[0] + 2 * pad)
    w = cv2.getOptimalDFTSize(gray.shape[1] + 2 * pad)
    img = cv2.copyMakeBorder(gray, pad, h - gray.shape[0] - pad, pad, w - gray.shape[1] - pad,
                             cv2.BORDER_REFLECT).astype(np.float32) / 255.0
    psf = np.zeros((h, w), np.float32)
    k = kernel.shape[0]
    psf[:k, :k] = kernel
    psf = np.roll(psf, (-(k // 2), -(k // 2)), axis=(0, 1))
    otf = np.fft.rfft2(psf)
    spectrum = np.fft.rfft2(img)
    restored = np.fft.irfft2(spectrum * np.conj(otf) / (np.abs(otf) ** 2 + noise_to_signal), s=(h, w))
    out = restored[pad:pad + gray.shape[0], pad:pad + gray.shape[1]]
    return np.clip(out * 255.0, 0, 255).astype(np.uint8)


#: Per-axis blur variance (mm²) below which a crop is left as it is: Tesseract reads
#: through a spread of about a stroke's width (0.3 mm sigma).
MIN_BLUR_VARIANCE_MM2 = 0.09
#: Spreads this unequal (larger over smaller variance) are a shake within about 10° of an
#: axis, where its two possible signs make nearly the same line.
AXIS_RATIO = 30.0
#: Spreads closer than this are as likely defocus as a diagonal shake.
ROUND_RATIO = 1.6


#: Hypotheses undo this share of the blur measured: a PSF longer than the true one rings
#: into ghost strokes that Tesseract reads as letters, a shorter one leaves a little blur it
#: reads through (make eval blurred titles read best at 0.75 of the measured size, which
#: itself runs about 10 % over the blur applied).
UNDO_SHARE = 0.8


def blur_hypotheses(variance_mm2: tuple[float, float]) -> list[BlurHypothesis]:
    """The PSFs that would spread a thin printed line by ``variance_mm2`` along (x, y).

    A shake ``L`` long at angle ``a`` spreads a line across x by ``L cos a`` (a uniform
    spread of variance ``L² cos² a / 12``) and across y by ``L sin a``; a defocus of sigma
    ``s`` spreads both by ``s²``. Measured per axis, the shake's sign (up-right or
    down-right) is lost, and a diagonal shake looks like defocus: each is returned, the
    likelier first. Empty when the blur is too small to need undoing.

    Parameters
    ----------
    variance_mm2 : (vx, vy), the blur's variance across a vertical and a horizontal line (mm²)
    """
    vx, vy = (max(0.0, float(v)) for v in variance_mm2)
    if max(vx, vy) < MIN_BLUR_VARIANCE_MM2:
        return []
    length = UNDO_SHARE * float(np.sqrt(12.0 * (vx + vy)))
    angle = float(np.degrees(np.arctan2(np.sqrt(vy), np.sqrt(vx))))
    ratio = max(vx, vy) / max(min(vx, vy), 1e-9)
    defocus = BlurHypothesis("defocus", UNDO_SHARE * float(np.sqrt((vx + vy) / 2)))
    if ratio >= AXIS_RATIO:
        # Along (near) an axis the two signs make nearly the same line.
        return [BlurHypothesis("motion", length, angle)]
    shakes = [BlurHypothesis("motion", length, angle), BlurHypothesis("motion", length, 180.0 - angle)]
    return [defocus, *shakes] if ratio < ROUND_RATIO else [*shakes, defocus]
