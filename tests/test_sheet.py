"""Finding a plain sheet of paper, and telling a back's blank page from a page of text."""

from __future__ import annotations

import cv2
import numpy as np

from ballot_vision.stages.sheet import find_sheet


def _photo(page: np.ndarray, *, angle_deg: float = 8.0) -> np.ndarray:
    """``page`` (grey, portrait) rotated onto a dark brown table, blurred like a shaky photo."""
    h, w = page.shape
    canvas = np.zeros((1000, 800, 3), np.uint8)
    canvas[:] = (40, 60, 90)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    m[:, 2] += (400 - w / 2, 500 - h / 2)
    warped = cv2.warpAffine(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), m, (800, 1000), borderValue=(0, 0, 0))
    inside = cv2.warpAffine(np.full((h, w), 255, np.uint8), m, (800, 1000)) > 0
    canvas[inside] = warped[inside]
    return cv2.GaussianBlur(canvas, (0, 0), 4)


def _page() -> np.ndarray:
    return np.full((594, 420), 235, np.uint8)  # A4 at 2 px/mm


def test_a_blank_page_with_a_line_at_its_foot_is_a_possible_back() -> None:
    page = _page()
    cv2.line(page, (140, 530), (380, 530), 30, 2)
    cv2.rectangle(page, (60, 500), (300, 508), 60, -1)  # the label, smudged
    sheet = find_sheet(_photo(page))
    assert sheet is not None and sheet.blank_middle
    assert 0.2 < sheet.area_share < 0.4


def test_a_page_of_text_is_not() -> None:
    page = _page()
    for y in range(60, 560, 18):
        cv2.rectangle(page, (40, y), (380, y + 7), 50, -1)
    sheet = find_sheet(_photo(page))
    assert sheet is not None and not sheet.blank_middle


def test_no_sheet_on_an_empty_table_or_a_bright_wall() -> None:
    table = np.zeros((1000, 800, 3), np.uint8)
    table[:] = (40, 60, 90)
    assert find_sheet(table) is None
    assert find_sheet(np.full((1000, 800, 3), 230, np.uint8)) is None


def _perspective_photo(page: np.ndarray, corners: list[tuple[float, float]], *, size: tuple[int, int] = (1000, 800)) -> np.ndarray:
    """``page`` (grey) warped onto a dark table so that its corners land on ``corners``
    (clockwise from top-left; they may lie outside the photo), lightly blurred."""
    h, w = page.shape
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), np.float32(corners))
    canvas = np.zeros((*size, 3), np.uint8)
    canvas[:] = (40, 60, 90)
    warped = cv2.warpPerspective(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), m, size[::-1])
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, size[::-1]) > 0
    canvas[inside] = warped[inside]
    return cv2.GaussianBlur(canvas, (0, 0), 2)


def test_a_page_seen_at_a_slant_is_a_quadrilateral_sheet() -> None:
    # Far edge foreshortened: a trapezoid fills its bounding rectangle too poorly for a
    # rectangle fit (0.83), but four corners fit it.
    page = _page()
    cv2.line(page, (140, 530), (380, 530), 30, 2)
    cv2.rectangle(page, (60, 500), (300, 508), 60, -1)
    true_corners = np.float32([(250, 200), (550, 200), (630, 800), (170, 800)])
    sheet = find_sheet(_perspective_photo(page, true_corners.tolist()))
    assert sheet is not None and not sheet.cut_by_frame and sheet.blank_middle and sheet.may_be_back
    assert sheet.corners is not None
    for corner in true_corners:
        assert np.linalg.norm(sheet.corners - corner, axis=1).min() < 12


def test_a_blank_sheet_cut_by_the_frame_may_be_a_back() -> None:
    # Only the blank half of a back is in frame: no outline to measure, nothing printed.
    photo = _perspective_photo(_page(), [(420, 300), (1000, 300), (1000, 1120), (420, 1120)])
    sheet = find_sheet(photo)
    assert sheet is not None and sheet.touches_frame and sheet.may_be_back


def test_a_blank_sheet_whose_printed_end_is_out_of_frame_may_be_a_back() -> None:
    # What is left in frame is itself of sheet proportions (four corners fit it), blank in
    # its middle and with nothing at its ends: the label and line lie below the photo.
    page = _page()
    cv2.line(page, (140, 530), (380, 530), 30, 2)
    cv2.rectangle(page, (60, 500), (300, 508), 60, -1)
    photo = _perspective_photo(page, [(150, 300), (570, 300), (570, 1488), (150, 1488)])
    sheet = find_sheet(photo)
    assert sheet is not None and sheet.corners is not None and sheet.touches_frame
    assert not sheet.blank_middle and sheet.may_be_back


def test_a_page_of_text_cut_by_the_frame_is_not() -> None:
    page = _page()
    for y in range(60, 560, 18):
        cv2.rectangle(page, (40, y), (380, y + 7), 50, -1)
    photo = _perspective_photo(page, [(420, 300), (1000, 300), (1000, 1120), (420, 1120)])
    sheet = find_sheet(photo)
    assert sheet is None or not sheet.may_be_back


def _back_page() -> np.ndarray:
    page = _page()
    cv2.line(page, (140, 530), (380, 530), 30, 2)
    cv2.rectangle(page, (60, 500), (300, 508), 60, -1)
    return page


def test_a_back_split_by_a_hard_shadow_is_one_sheet() -> None:
    # Its lower third in a shadow half as bright: at Otsu's cut and above, only the lit
    # part is paper, and it is too wide for a sheet.
    photo = _photo(_back_page(), angle_deg=0.0).astype(np.float32)
    photo[600:] *= 0.5
    sheet = find_sheet(photo.astype(np.uint8))
    assert sheet is not None and sheet.may_be_back
    assert 0.2 < sheet.area_share < 0.4


def test_a_finger_on_a_backs_edge_does_not_spoil_its_outline() -> None:
    photo = _photo(_back_page())
    # A pale finger from the photo's left edge onto the sheet's side.
    cv2.line(photo, (0, 620), (230, 600), (190, 200, 215), 28)
    sheet = find_sheet(photo)
    assert sheet is not None and sheet.blank_middle and sheet.may_be_back


def test_a_blank_sheet_cut_by_the_frame_and_crossed_by_a_shadow_may_be_a_back() -> None:
    # The printed end of a back lies below the photo and a hard shadow darkens the part
    # the frame cuts: at Otsu's cut only the lit part is paper, shaped like no sheet, and
    # the darker cut joins the two at the frame's edge (make eval seed 1325983378, IMG_00934).
    photo = _perspective_photo(_page(), [(150, 400), (570, 400), (570, 1588), (150, 1588)]).astype(np.float32)
    shadow = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(shadow, [np.int32([(0, 700), (360, 600), (800, 760), (800, 1000), (0, 1000)])], 1)
    photo[shadow > 0] *= 0.55
    sheet = find_sheet(photo.astype(np.uint8))
    assert sheet is not None and sheet.touches_frame and sheet.may_be_back
