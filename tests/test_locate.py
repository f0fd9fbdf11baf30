"""Locating the option table: what is left when the photo's edge cuts it."""

from __future__ import annotations

import cv2
import numpy as np

from ballot_vision.stages.locate import cells_cut_by_frame, ink_mask, locate_table


def _table(width_px: int) -> np.ndarray:
    """(600, width_px, 3): four rows of a ruled table (name cells 400 px wide, then squares)
    starting at x = 40; a narrow photo cuts the rows open at its right edge."""
    img = np.full((600, 700, 3), 245, np.uint8)
    for i in range(5):
        cv2.line(img, (40, 80 + i * 110), (640, 80 + i * 110), (30, 30, 30), 3)
    for x in (40, 480, 640):
        cv2.line(img, (x, 80), (x, 520), (30, 30, 30), 3)
    for i in range(4):
        cv2.rectangle(img, (525, 100 + i * 110), (595, 170 + i * 110), (30, 30, 30), 6)
    return img[:, :width_px].copy()


def test_rows_cut_open_by_the_edge_are_closed_along_it() -> None:
    gray = cv2.cvtColor(_table(300), cv2.COLOR_BGR2GRAY)
    cut = cells_cut_by_frame(ink_mask(gray))
    assert len(cut) == 4
    for quad in cut:
        assert quad[:, 0].max() >= 299 - 3  # each reaches the right edge
        height = quad[:, 1].max() - quad[:, 1].min()
        assert 95 <= height <= 110


def test_cells_inside_the_photo_are_not_reported_as_cut() -> None:
    gray = cv2.cvtColor(_table(700), cv2.COLOR_BGR2GRAY)
    assert cells_cut_by_frame(ink_mask(gray)) == ()


def test_a_table_without_its_squares_is_no_table_but_keeps_its_cut_rows() -> None:
    found = locate_table(_table(300))
    assert not found
    assert len(found.cells) >= 4
