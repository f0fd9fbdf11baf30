"""Photo-level blur: sharp print measures narrow, defocus and a shaking hand wide, nothing is NaN."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from ballot_vision.config import load_config
from ballot_vision.stages.quality import edge_width_px, sheet_blur_mm

LIMIT = load_config().review.max_edge_width_not_ballot
MM_LIMIT = load_config().review.max_sheet_blur_mm_not_ballot
#: _page's sheet, its long side taken as an A4's 297 mm (2.6 px/mm).
SHEET = np.float32([[300, 120], [980, 120], [980, 900], [300, 900]])


def _page(seed: int = 0, noise: float = 3.0) -> np.ndarray:
    """(960, 1280, 3): a sheet with rows of "print" on a darker table, sensor noise added."""
    rng = np.random.default_rng(seed)
    img = np.full((960, 1280), 90, np.uint8)
    cv2.rectangle(img, (300, 120), (980, 900), 235, -1)
    for y in range(200, 860, 28):
        for x in range(340, 940, 22):
            if rng.random() < 0.8:
                cv2.rectangle(img, (x, y), (x + 12, y + 12), 40, 2)
    img = img.astype(np.float32) + rng.normal(0, noise, img.shape)
    return cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def test_a_sharp_photo_measures_under_the_limit_whatever_its_noise() -> None:
    for noise in (0.0, 4.0, 8.0):
        assert edge_width_px(_page(noise=noise)) < LIMIT


@pytest.mark.parametrize("sigma_px", [2.5, 4.0])
def test_defocus_widens_the_edges_past_the_limit(sigma_px) -> None:
    blurred = cv2.GaussianBlur(_page(), (0, 0), sigma_px)
    assert edge_width_px(blurred) > LIMIT


@pytest.mark.parametrize("vertical", [False, True])
def test_motion_blur_in_one_direction_is_caught(vertical) -> None:
    """Edges along the motion stay sharp; the width is taken across it."""
    kernel = np.full((1, 15), 1 / 15, np.float32)
    shaken = cv2.filter2D(_page(), -1, kernel.T if vertical else kernel)
    assert edge_width_px(shaken) > LIMIT


def test_width_is_measured_at_a_fixed_working_size() -> None:
    """A 2x larger photo of the same scene is not "blurrier" for having twice the pixels."""
    page = _page(noise=0.0)
    larger = cv2.resize(page, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    assert abs(edge_width_px(larger) - edge_width_px(page)) < 0.6


def test_a_photo_without_contrasted_edges_has_no_width() -> None:
    flat = np.full((720, 1280, 3), 180, np.uint8)
    assert math.isnan(edge_width_px(flat))


def test_a_sheet_filling_the_photo_is_sharp_at_its_own_scale() -> None:
    assert sheet_blur_mm(_page(noise=2.0), SHEET, long_side_mm=297.0) < MM_LIMIT


def test_a_far_off_sheet_is_too_coarse_though_the_photo_looks_sharp() -> None:
    """At a third of the size (under 1 px a millimetre) a ballot's rules would not be found."""
    small = cv2.resize(_page(noise=2.0), None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    photo = np.full((960, 1280, 3), 90, np.uint8)
    h, w = small.shape[:2]
    y, x = (960 - h) // 2, (1280 - w) // 2
    photo[y:y + h, x:x + w] = small
    assert edge_width_px(photo) < LIMIT
    assert sheet_blur_mm(photo, SHEET * 0.35 + [x, y], long_side_mm=297.0) > MM_LIMIT


def test_a_sheet_without_contrasted_edges_has_no_width() -> None:
    flat = np.full((720, 1280, 3), 180, np.uint8)
    assert math.isnan(sheet_blur_mm(flat, SHEET, long_side_mm=297.0))
