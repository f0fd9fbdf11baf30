"""Locating the option table: what is left when the photo's edge cuts it."""

from __future__ import annotations

import cv2
import numpy as np

from ballot_vision.stages.locate import _Cell, _filled_squares, cells_cut_by_frame, ink_mask, locate_table


def _table(width_px: int, rule_px: int = 3) -> np.ndarray:
    """(600, width_px, 3): four rows of a ruled table (name cells 440 px wide between the
    rules' centres, then 160 px for squares) starting at x = 40; a narrow photo cuts the rows
    open at its right edge."""
    img = np.full((600, 700, 3), 245, np.uint8)
    for i in range(5):
        cv2.line(img, (40, 80 + i * 110), (640, 80 + i * 110), (30, 30, 30), rule_px)
    for x in (40, 480, 640):
        cv2.line(img, (x, 80), (x, 520), (30, 30, 30), rule_px)
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


def test_a_row_covered_by_a_finger_still_counts_below() -> None:
    """The grid's rules run on past a last row whose cells a finger breaks: one more row."""
    img = np.full((900, 700, 3), 245, np.uint8)
    img[:600] = _table(700)
    for x in (40, 480, 640):  # a fifth row, its square covered
        cv2.line(img, (x, 520), (x, 630), (30, 30, 30), 3)
    cv2.line(img, (40, 630), (640, 630), (30, 30, 30), 3)
    cv2.ellipse(img, (400, 575), (230, 40), 0, 0, 360, (90, 110, 150), -1)
    found = locate_table(img)
    assert found and len(found.rows) == 4
    assert found.rows_below == 1


def test_a_table_running_into_the_photo_edge_is_marked_cut_on_that_side() -> None:
    # The first row cut through by the photo's top edge: three closed rows below it.
    cut = locate_table(_table(700)[130:].copy())
    assert cut and cut.n_seen == 3
    assert (cut.cut_above, cut.cut_below) == (True, False)
    whole = locate_table(_table(700))
    assert whole and whole.n_seen == 4
    assert (whole.cut_above, whole.cut_below) == (False, False)


def test_name_cells_foreshortened_by_a_tilted_camera_are_still_rows() -> None:
    """A camera tilted towards the table's far end squeezes its rows: the name cells of a
    three-row table then measure about 1:8, which is still a cell. Missed, no row is
    paired, and the far end of the names, higher in perspective, was read as the rules
    running on above the first row (an extra row with a hidden square)."""
    img = np.full((500, 690, 3), 245, np.uint8)
    name_end, table_end = 540, 650
    for i in range(4):
        cv2.line(img, (40, 80 + i * 100), (table_end, 80 + i * 100), (30, 30, 30), 3)
    for x in (40, name_end, table_end):
        cv2.line(img, (x, 80), (x, 380), (30, 30, 30), 3)
    for i in range(3):
        cv2.rectangle(img, (565, 100 + i * 100), (625, 160 + i * 100), (30, 30, 30), 5)
    h, w = img.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    squeezed = np.float32([[0, 0], [w, 80], [w, h - 27], [0, h]])
    photo = cv2.warpPerspective(img, cv2.getPerspectiveTransform(corners, squeezed), (w, h),
                                borderValue=(245, 245, 245))
    found = locate_table(photo)
    assert found and found.n_seen == 3
    assert all(row.name_quad is not None for row in found.rows)
    assert (found.rows_above, found.rows_below) == (0, 0)


def _narrow_column_table(*, insides: bool = True) -> np.ndarray:
    """(600, 700, 3): four rows whose squares (74 px, 6-px border) fill their 80-px-wide cells,
    touching the rules on both sides: each square cell splits into slivers around the
    square's inside. Without ``insides``, a form's column of empty narrow cells."""
    img = np.full((600, 700, 3), 245, np.uint8)
    for i in range(5):
        cv2.line(img, (40, 80 + i * 110), (560, 80 + i * 110), (30, 30, 30), 3)
    for x in (40, 480, 560):
        cv2.line(img, (x, 80), (x, 520), (30, 30, 30), 3)
    for i in range(4):
        if insides:
            cv2.rectangle(img, (483, 98 + i * 110), (557, 172 + i * 110), (30, 30, 30), 6)
        else:
            cv2.line(img, (480, 135 + i * 110), (560, 135 + i * 110), (30, 30, 30), 3)
    return img


def test_squares_merged_with_their_cells_rules_still_make_rows() -> None:
    """No square cell is a hole of its own (make eval seed 4093317526, IMG_00057): the rows
    come from the name cells, their square cells from how far the grid reaches beside them."""
    for turns in (0, 2):
        photo = np.ascontiguousarray(np.rot90(_narrow_column_table(), turns))
        found = locate_table(photo)
        assert found and found.n_seen == 4
        assert abs(found.quarter_turns - turns) % 4 == 0
        for i, row in enumerate(found.rows):
            square = row.square_quad
            if turns == 2:  # back into the drawing's coordinates
                square = np.float32([[699, 599]]) - square
            # The cell between the rules' centres is x 480-560, y 80-190 (+110 a row); the
            # quad follows the rules' inner edges.
            x = np.sort(square[:, 0])
            y = np.sort(square[:, 1]) - 110 * i
            assert abs(x[:2].mean() - 481) <= 4 and abs(x[2:].mean() - 559) <= 4
            assert abs(y[:2].mean() - 81) <= 4 and abs(y[2:].mean() - 189) <= 4


def test_a_stack_of_fields_beside_empty_cells_is_no_table() -> None:
    """A form's wide fields beside a column of cells with no square in them: no ballot rows."""
    assert not locate_table(_narrow_column_table(insides=False))


def test_a_sliver_beside_a_squares_inside_is_no_row() -> None:
    """A square touching its cell's side rules leaves slivers above and below it; with the
    square's inside for a name cell, a sliver made a one-row table of a ballot whose rows
    were all there (make eval seed 4093317526, IMG_00407: read as a back)."""
    found = locate_table(_narrow_column_table())
    assert found and all(row.name_quad is not None and 400 < np.ptp(row.name_quad[:, 0]) for row in found.rows)


def _hairline_table(*, border: bool, turn: int = 0, filled: tuple[int, ...] = (),
                    names_x: int = 120) -> np.ndarray:
    """(700, 760, 3): a four-row table whose inner rules vanished (a press's hairlines on a
    small photo): its heavy squares (70 px, rows 110 px apart, 40 px from the right border),
    the ``filled`` rows' squares scribbled over, lines of name print on their left from
    ``names_x`` px, and the table's border where ``border``; turned by ``turn`` quarter turns."""
    img = np.full((700, 760, 3), 245, np.uint8)
    if border:
        cv2.rectangle(img, (40, 80), (700, 520), (30, 30, 30), 4)
    for i in range(4):
        top = 100 + i * 110
        cv2.rectangle(img, (590, top), (660, top + 70), (30, 30, 30), 6)
        for k in range(6 if i in filled else 0):  # a scribble's strokes, leaving no inside
            cv2.line(img, (594, top + 6 + 12 * k), (656, top + 10 + 12 * k), (60, 40, 40), 9)
        for j, length in enumerate((300, 380)):  # the Kazakh and Russian names
            left = names_x + (0 if names_x == 120 else j * 20)
            cv2.line(img, (left, top + 25 + 22 * j), (min(left + length, names_x + 300), top + 25 + 22 * j),
                     (40, 40, 40), 9)
    return np.ascontiguousarray(np.rot90(img, turn))


def test_squares_in_a_border_without_rules_between_them_make_rows() -> None:
    for turn in (0, 2):
        found = locate_table(_hairline_table(border=True, turn=turn))
        assert found and found.n_seen == 4 and len(found.rows) == 4, turn
        assert found.quarter_turns == turn, found.rotation_deg
        assert 100 <= found.pitch_px <= 120
        # Each row's square cell holds its square, and reaches the border on the right.
        for row in found.rows:
            assert row.name_quad is None
            quad = row.square_quad
            side = np.linalg.norm(quad[1] - quad[0])
            assert 130 <= side <= 150  # 2 x the 35 + 40 px from the square's centre to the border


def test_free_standing_squares_beside_names_make_rows() -> None:
    """No border either: the names' print tells which side is left."""
    found = locate_table(_hairline_table(border=False, turn=1))
    assert found and found.n_seen == 4
    assert found.quarter_turns == 1


def test_squares_filled_by_marks_still_hold_their_rows() -> None:
    """A scribble leaves a square no inside: the two left two rows apart, and the column's
    pitch was lost (a sharp hairline-ruled vote taken for a back: second press, make eval
    seed 605918237, IMG_00324)."""
    found = locate_table(_hairline_table(border=False, filled=(1, 2)))
    assert found and found.n_seen == 4 and 100 <= found.pitch_px <= 120


def test_a_solid_disc_is_no_filled_square() -> None:
    """A round emblem reduces to a quad as large as a square, but overfills it."""
    ink = np.zeros((400, 200), np.uint8)
    for top in (40, 100, 160, 220):  # a column of squares, 60 px apart
        cv2.rectangle(ink, (80, top), (120, top + 40), 255, 4 if top in (40, 220) else -1)
    cv2.circle(ink, (100, 320), 29, 255, -1)  # a disc a row below, in line
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    hierarchy = hierarchy[0]
    holes = [i for i in range(len(contours)) if hierarchy[i, 3] >= 0]
    column = [(_Cell(quad=np.float32(cv2.boxPoints(cv2.minAreaRect(contours[i]))), area=1.0,
                     centre=contours[i].reshape(-1, 2).mean(axis=0), parent=int(hierarchy[i, 3]), index=i,
                     has_square=True), 41.0) for i in holes]
    found = _filled_squares(contours, hierarchy, -1, 41.0, column)
    assert sorted(tuple(np.round(c.centre)) for c, _ in found) == [(100, 120), (100, 180)]


def test_names_set_far_from_their_squares_still_tell_the_names_side() -> None:
    """A press's left-aligned names end well before the squares: the ink beside the column
    is further out than a design-wide name cell's end."""
    found = locate_table(_hairline_table(border=False, names_x=40))
    assert found and found.n_seen == 4 and found.quarter_turns == 0


def test_a_wooden_table_beyond_the_sheet_does_not_pass_for_the_names() -> None:
    """Names ending short of the squares leave the band beside them blank on the sheet,
    while a table's grain just past the sheet's edge on the other side is dark against its
    own level: the ballot was read upside down (second press, make eval seed 3316624790,
    IMG_00264). Only ink on paper about as bright as the squares' counts."""
    img = _hairline_table(border=False, names_x=40)
    rng = np.random.default_rng(3)
    wood = np.full((img.shape[0], 260, 3), (70, 110, 150), np.uint8)  # BGR: a brown table
    for y in rng.integers(0, img.shape[0], 60):  # its grain, darker streaks along it
        cv2.line(wood, (0, int(y)), (259, int(y) + int(rng.integers(-6, 7))), (40, 70, 100), int(rng.integers(1, 4)))
    photo = np.ascontiguousarray(np.hstack([img[:, :700], wood]))
    found = locate_table(photo)
    assert found and found.n_seen == 4 and found.quarter_turns == 0


def test_a_column_of_squares_without_names_beside_it_is_no_table() -> None:
    img = np.full((700, 760, 3), 245, np.uint8)
    for i in range(4):
        cv2.rectangle(img, (340, 100 + i * 110), (410, 170 + i * 110), (30, 30, 30), 6)
    assert not locate_table(img)


def test_one_small_row_beside_a_column_of_squares_is_not_the_table() -> None:
    """A small print's box of two cells (a boxed date line) above a table of hairlines
    paired as a one-row table, and the squares were never looked at."""
    img = _hairline_table(border=False)
    cv2.rectangle(img, (200, 20), (440, 50), (30, 30, 30), 3)
    cv2.line(img, (400, 20), (400, 50), (30, 30, 30), 3)
    cv2.rectangle(img, (412, 28), (430, 43), (30, 30, 30), 3)
    found = locate_table(img)
    assert found and found.n_seen == 4 and 100 <= found.pitch_px <= 120


def test_a_rule_beside_free_standing_squares_bounds_their_cells() -> None:
    """A press's narrow margins put the rule between names and squares inside a cell of the
    design's width, where scoring took it for a square's side: every square scored as
    marked (second press, make eval seed 605918237, IMG_00352). Where the rule shows, the
    cell ends there."""
    img = _hairline_table(border=False)
    found = locate_table(img)
    assert found and all(120 <= np.linalg.norm(r.square_quad[1] - r.square_quad[0]) <= 130 for r in found.rows)
    cv2.line(img, (575, 80), (575, 520), (30, 30, 30), 3)
    found = locate_table(img)
    assert found and found.n_seen == 4
    for row in found.rows:
        assert 90 <= np.linalg.norm(row.square_quad[1] - row.square_quad[0]) <= 100
