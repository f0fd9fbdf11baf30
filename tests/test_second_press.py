"""The second press: a print designed apart from the house renderer and the reader.

Marks are drawn where :func:`press_geometry` says the squares are, so the print must put
them exactly there; and a run must be able to ask for it.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ballot_vision.synth.generate import generate_one
from ballot_vision.synth.second_press import press_geometry, press_side, random_press_style
from ballot_vision.templates import Rect, load_templates

TEMPLATES = {k: t for k, t in load_templates().items() if k.startswith("kz2021")}


def _edge_offsets_mm(gray: np.ndarray, square: Rect, px_per_mm: float, paper: float, ink: float) -> list[float]:
    """Where each side of ``square``'s border really starts, mm from where it was said to
    (positive: inside), measured from outside inwards at a third, half and two thirds along."""
    offsets = []
    steps = np.linspace(0.0, 3.0, 601)  # from 1.5 mm outside to 1.5 mm inside the outer edge
    for frac in (0.3, 0.5, 0.7):
        starts = {
            (square.x - 1.5, square.y + frac * square.h): (1, 0),
            (square.x2 + 1.5, square.y + frac * square.h): (-1, 0),
            (square.x + frac * square.w, square.y - 1.5): (0, 1),
            (square.x + frac * square.w, square.y2 + 1.5): (0, -1),
        }
        for (x0, y0), (dx, dy) in starts.items():
            xs = ((x0 + dx * steps) * px_per_mm - 0.5).astype(np.float32)[None]
            ys = ((y0 + dy * steps) * px_per_mm - 0.5).astype(np.float32)[None]
            values = cv2.remap(gray, xs, ys, cv2.INTER_LINEAR).ravel()
            dark = (paper - values) / (paper - ink)
            offsets.append(float(steps[int(np.argmax(dark >= 0.5))] - 1.5))
    return offsets


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_squares_are_printed_where_the_geometry_says(template_id: str) -> None:
    template = TEMPLATES[template_id]
    style = random_press_style(np.random.default_rng(sum(map(ord, template_id))))
    px_per_mm = 6.0
    sheet = press_side(template, "front", px_per_mm=px_per_mm, style=style)
    assert sheet.shape == (round(template.paper_h * px_per_mm), round(template.paper_w * px_per_mm), 3)
    geometry = press_geometry(template, "front", style)
    assert list(geometry.squares_mm) == list(template.option_ids)
    gray = sheet.min(axis=2).astype(np.float32)
    paper, ink = float(min(style.paper_bgr)), float(min(style.ink_bgr))
    for square in geometry.squares_mm.values():
        offsets = _edge_offsets_mm(gray, square, px_per_mm, paper, ink)
        assert max(abs(o) for o in offsets) < 0.25, (template_id, square, offsets)


def test_the_same_style_prints_the_same_sheet_and_another_style_another() -> None:
    template = TEMPLATES["kz2021-mazhilis"]
    style = random_press_style(np.random.default_rng(5))
    first = press_side(template, "back", px_per_mm=4.0, style=style)
    assert np.array_equal(first, press_side(template, "back", px_per_mm=4.0, style=style))
    other = press_side(template, "back", px_per_mm=4.0, style=random_press_style(np.random.default_rng(6)))
    assert not np.array_equal(first, other)
    back = press_geometry(template, "back", style)
    assert back.signature_line_mm is not None and back.signature_box_mm is not None


def test_a_run_can_have_its_sheets_printed_by_the_second_press() -> None:
    _, _, house = generate_one(0, seed=605918237, kind="front")
    _, _, second = generate_one(0, seed=605918237, kind="front", press="second")
    assert house["press"] == "house" and second["press"] == "second"
    assert "press_second" in second["conditions"].split(";") and "press_second" not in house["conditions"]
    # The camera and the voter are the same; only the print differs.
    for column in ("template", "party", "mark", "rotation_deg", "blur", "delivery"):
        assert house[column] == second[column]
    assert house["squares_px"] != second["squares_px"]
