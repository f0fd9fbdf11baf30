"""Registration of a located table to its template, on cells whose geometry is known."""

from __future__ import annotations

import numpy as np
import pytest

from ballot_vision.stages.locate import RowCells, TableObservation
from ballot_vision.stages.register import register
from ballot_vision.templates import load_templates

MAZHILIS = load_templates()["kz2021-mazhilis"]


def printed_table(*, x0: float, x1: float, separator: float, top: float, row_h: float, rows: int,
                  px_per_mm: float = 4.0, angle_deg: float = 8.0) -> TableObservation:
    """The cells of a table printed with these columns (sheet mm), photographed rotated."""
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * px_per_mm

    def quad(left: float, right: float, y: float) -> np.ndarray:
        corners = np.array([[left, y], [right, y], [right, y + row_h], [left, y + row_h]])
        return (corners @ rot.T + 300.0).astype(np.float32)

    cells = tuple(RowCells(quad(x0, separator, top + k * row_h), quad(separator, x1, top + k * row_h))
                  for k in range(rows))
    return TableObservation(rows=cells, right_xy=rot[:, 0] / px_per_mm, down_xy=rot[:, 1] / px_per_mm,
                            rotation_deg=angle_deg, pitch_px=row_h * px_per_mm)


def test_a_print_as_designed_keeps_the_templates_columns() -> None:
    reg = register(printed_table(x0=12, x1=198, separator=168, top=108, row_h=30, rows=5), MAZHILIS,
                   first_row=0, image_shape=(2000, 2000))
    assert reg.separator_x == 168 and reg.square_column == pytest.approx(1.0, abs=1e-3)
    assert reg.residual_mm < 0.01


def test_a_square_column_moved_by_the_printer_is_measured_not_fitted_away() -> None:
    """Table 15–198 mm, rule at 158 (a 40 mm column), rows 28 mm: the cells fit without a
    residual, and the square is expected centred in the wider cell."""
    reg = register(printed_table(x0=15, x1=198, separator=158, top=112, row_h=28, rows=5), MAZHILIS,
                   first_row=0, image_shape=(2000, 2000))
    expected = 12 + (158 - 15) / (198 - 15) * 186
    assert reg.separator_x == pytest.approx(expected, abs=0.05)
    assert reg.residual_mm < 0.01 and reg.quality > 0.9
    assert reg.square(0).center[0] == pytest.approx((expected + 198) / 2, abs=0.05)
    assert reg.square_cell(0).x == pytest.approx(expected, abs=0.05)
    assert reg.name_cell(0).x2 == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize("separator", [166.5, 190.0])
def test_a_rule_near_the_design_or_implausibly_placed_keeps_the_templates(separator: float) -> None:
    """Within measuring noise of the design (a pixel contour's corners), or leaving a column
    too narrow for any square (a misread cell): the template's rule, the measure reported."""
    reg = register(printed_table(x0=12, x1=198, separator=separator, top=108, row_h=30, rows=5), MAZHILIS,
                   first_row=0, image_shape=(2000, 2000))
    assert reg.separator_x == 168
    assert reg.square_column == pytest.approx((198 - separator) / 30, abs=1e-3)
