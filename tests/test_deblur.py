"""Undoing blur: the PSFs, the hypotheses the squares' spreads allow, and the restoration."""

import cv2
import numpy as np
import pytest

from ballot_vision.deblur import (UNDO_SHARE, BlurHypothesis, blur_hypotheses, gaussian_kernel, line_kernel,
                                  wiener_deconvolve)


def _second_moments(kernel):
    """(var along x, var along y, covariance) of a PSF, px²."""
    k = kernel / kernel.sum()
    yy, xx = np.mgrid[0:k.shape[0], 0:k.shape[1]]
    mx, my = (k * xx).sum(), (k * yy).sum()
    return (k * (xx - mx) ** 2).sum(), (k * (yy - my) ** 2).sum(), (k * (xx - mx) * (yy - my)).sum()


@pytest.mark.parametrize("angle", [0, 30, 90, 135])
def test_line_kernel_spreads_as_a_uniform_line_of_its_length_and_angle(angle):
    length = 21.0
    vx, vy, cov = _second_moments(line_kernel(length, angle))
    a = np.deg2rad(angle)
    # A uniform line of length L: variance L²/12 along it (plus the anti-aliasing's pixel).
    assert vx == pytest.approx(length ** 2 / 12 * np.cos(a) ** 2, abs=2.0)
    assert vy == pytest.approx(length ** 2 / 12 * np.sin(a) ** 2, abs=2.0)
    # Counter-clockwise on the page: up-right is a negative x-y covariance in image rows.
    assert np.sign(round(cov, 1)) == -np.sign(round(np.sin(2 * a), 3))


def test_hypotheses_recover_a_shake_from_its_spreads_up_to_its_sign():
    """...undoing a little less than measured (see UNDO_SHARE)."""
    length_mm, angle = 3.0, 30.0
    a = np.deg2rad(angle)
    spread = (length_mm ** 2 / 12 * np.cos(a) ** 2, length_mm ** 2 / 12 * np.sin(a) ** 2)
    hyps = blur_hypotheses(spread)
    shakes = [h for h in hyps if h.kind == "motion"]
    assert {round(h.angle_deg) for h in shakes} == {30, 150}
    assert all(h.size_mm == pytest.approx(UNDO_SHARE * length_mm, rel=0.01) for h in shakes)
    assert hyps[0].kind == "motion"  # spreads this unequal are a shake before defocus


def test_hypotheses_for_round_blur_put_defocus_first_and_for_an_axis_shake_one_line():
    round_ = blur_hypotheses((0.3, 0.3))
    assert round_[0] == BlurHypothesis("defocus", pytest.approx(UNDO_SHARE * np.sqrt(0.3)))
    assert {h.kind for h in round_} == {"defocus", "motion"}
    along_x = blur_hypotheses((0.6, 0.0))
    assert len(along_x) == 1 and along_x[0].kind == "motion" and along_x[0].angle_deg == pytest.approx(0.0)
    assert blur_hypotheses((0.02, 0.03)) == []  # sharp enough to read as it is


def _likeness(img, sharp):
    """Correlation with the sharp print, away from the crop's edges."""
    inner = (slice(15, -15), slice(15, -15))
    return float(np.corrcoef(img[inner].ravel().astype(float), sharp[inner].ravel().astype(float))[0, 1])


def _bars(shape=(120, 240)):
    """Dark strokes of several widths and directions on light paper, like bold capitals."""
    img = np.full(shape, 235, np.uint8)
    for i, x in enumerate(range(20, 220, 24)):
        cv2.line(img, (x, 25), (x + (i % 3) * 8, 95), 30, 3 + i % 2)
        cv2.line(img, (x - 8, 60), (x + 8, 60), 30, 3)
    return img


@pytest.mark.parametrize("kernel", [line_kernel(15, 40), gaussian_kernel(3.0)], ids=["shake", "defocus"])
def test_wiener_undoes_a_known_blur(kernel):
    sharp = _bars()
    rng = np.random.default_rng(2)
    blurred = cv2.filter2D(sharp.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT)
    blurred = np.clip(blurred + rng.normal(0, 2, blurred.shape), 0, 255).astype(np.uint8)
    restored = wiener_deconvolve(blurred, kernel)
    assert restored.shape == blurred.shape and restored.dtype == np.uint8
    assert _likeness(restored, sharp) > 0.8
    assert _likeness(restored, sharp) > _likeness(blurred, sharp) + 0.05


def test_wiener_with_the_wrong_sign_of_shake_restores_less():
    """Why the caller tries both signs: the mirrored line leaves the print smeared."""
    sharp = _bars()
    kernel = line_kernel(15, 40)
    blurred = cv2.filter2D(sharp.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT).astype(np.uint8)
    right = _likeness(wiener_deconvolve(blurred, kernel), sharp)
    wrong = _likeness(wiener_deconvolve(blurred, line_kernel(15, 140)), sharp)
    assert right > wrong + 0.15
