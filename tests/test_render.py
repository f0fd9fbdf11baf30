"""Templates load, validate and render: squares where the layout says, dark borders, white insides."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from ballot_vision.cli import app
from ballot_vision.render import FONT_FILES, PrintStyle, RenderedSide, has_glyph, render_side, render_template, side_geometry
from ballot_vision.templates import DEFAULT_TEMPLATE_DIR, Rect, TemplateError, load_template, load_templates

TEMPLATES = load_templates()
PPM = 6.0  # px per mm: about 150 dpi


def _gray(side: RenderedSide) -> np.ndarray:
    return cv2.cvtColor(side.bgr, cv2.COLOR_BGR2GRAY).astype(float)


def _band_mean(gray: np.ndarray, r: Rect, inset_mm: float, ppm: float) -> float:
    """Mean grey along the outline of ``r`` inset by ``inset_mm`` (one-pixel ring)."""
    x0, y0 = int(round((r.x + inset_mm) * ppm)), int(round((r.y + inset_mm) * ppm))
    x1, y1 = int(round((r.x2 - inset_mm) * ppm)) - 1, int(round((r.y2 - inset_mm) * ppm)) - 1
    ring = np.concatenate([gray[y0, x0:x1], gray[y1, x0:x1], gray[y0:y1, x0], gray[y0:y1, x1]])
    return float(ring.mean())


def _interior(gray: np.ndarray, r: Rect, inset_mm: float, ppm: float) -> np.ndarray:
    return gray[int((r.y + inset_mm) * ppm) : int((r.y2 - inset_mm) * ppm), int((r.x + inset_mm) * ppm) : int((r.x2 - inset_mm) * ppm)]


def assert_squares_drawn(side: RenderedSide) -> None:
    gray = _gray(side)
    line = side.square_line_mm
    for option, sq in side.squares_mm.items():
        border = _band_mean(gray, sq, line / 2, side.px_per_mm)
        inside = _interior(gray, sq, line + 0.8, side.px_per_mm)
        assert border < 90, f"{option}: square border not dark where the layout says ({border:.0f})"
        assert inside.mean() > 200 and inside.min() > 150, f"{option}: square interior not white ({inside.mean():.0f}, min {inside.min():.0f})"
        outside = _band_mean(gray, Rect(sq.x - 1.2, sq.y - 1.2, sq.w + 2.4, sq.h + 2.4), 0, side.px_per_mm)
        assert outside > 170, f"{option}: ink just outside the square ({outside:.0f}): border drawn off its place"


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_renders_both_sides(template_id: str) -> None:
    template = TEMPLATES[template_id]
    sides = render_template(template, dpi=PPM * 25.4)
    assert set(sides) == {"front", "back"}
    for name, bgr in sides.items():
        assert bgr.dtype == np.uint8 and bgr.shape == (round(template.paper_h * PPM), round(template.paper_w * PPM), 3), name
        ink_percent = (bgr < 128).mean() * 100
        assert (0.1 if name == "back" else 1.0) < ink_percent < 30, f"{name}: implausible amount of ink ({ink_percent:.2f} %)"
    front = render_side(template, "front", px_per_mm=PPM)
    assert list(front.squares_mm) == list(template.option_ids)
    for option in template.options:  # the default style prints the design exactly
        assert front.squares_mm[option.id] == option.square
    assert_squares_drawn(front)


@pytest.mark.parametrize("seed", range(4))
def test_printed_geometry_is_where_the_pixels_are_under_random_styles(seed: int) -> None:
    template = TEMPLATES["kz2021-mazhilis"]
    rng = np.random.default_rng(seed)
    style = PrintStyle.random(rng, template)
    side = render_side(template, "front", px_per_mm=PPM, style=style)
    assert side.style == style and side.squares_mm == side_geometry(template, "front", style).squares_mm
    assert_squares_drawn(side)
    # Variation stays within what printing houses did.
    for sq in side.squares_mm.values():
        assert 14 <= sq.w <= 21 and sq.w == pytest.approx(sq.h)
    rows = list(side.rows_mm.values())
    assert all(24 <= r.h <= 34 for r in rows)
    assert side.table_mm is not None and all(side.table_mm.contains(r, tol=1e-6) for r in rows)


def test_random_style_varies_print_and_default_is_the_design() -> None:
    styles = [PrintStyle.random(np.random.default_rng(s)) for s in range(40)]
    assert len({s.font for s in styles}) >= 4
    assert max(abs(s.offset_mm[0]) for s in styles) > 1.5 and all(abs(v) <= 3 for s in styles for v in s.offset_mm)
    assert all(0.98 <= s.scale <= 1.02 for s in styles)
    assert all(s.guilloche_strength <= 0.35 for s in styles)
    assert PrintStyle.default() == PrintStyle()


def test_every_typeface_prints_kazakh_letters() -> None:
    """Liberation 1.x has no Kazakh letters; the renderer must fall back, never draw boxes."""
    template = TEMPLATES["kz2021-mazhilis"]
    for family in FONT_FILES:
        side = render_side(template, "front", px_per_mm=4, style=PrintStyle(font=family))
        assert side.bgr.shape[0] > 0
    assert has_glyph("DejaVu Sans", True, "Қ")


def test_back_has_signature_line_and_no_squares() -> None:
    back = render_side(TEMPLATES["kz2021-mazhilis"], "back", px_per_mm=PPM)
    assert back.squares_mm == {} and back.signature_line_mm is not None
    x0, y, x1, _ = back.signature_line_mm
    gray = _gray(back)
    row = gray[int(round(y * PPM - 0.5)) - 1 : int(round(y * PPM - 0.5)) + 2, int(x0 * PPM) + 2 : int(x1 * PPM) - 2]
    assert row.min(axis=0).mean() < 120, "signature line not printed where the geometry says"


# --------------------------------------------------------------------------------------
# Template files: squares inside the table, no overlaps; broken files are named


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_shipped_squares_lie_inside_the_table_and_do_not_overlap(template_id: str) -> None:
    table = TEMPLATES[template_id].table
    squares = [o.square for o in table.options]
    for o in table.options:
        assert table.box.contains(o.square) and o.row.contains(o.square), o.id
        assert o.square.x > table.separator_x, o.id
    for i, a in enumerate(squares):
        for b in squares[i + 1 :]:
            assert not a.overlaps(b)


def test_every_2021_maslikhat_row_set_is_a_shipped_form() -> None:
    """BALLOTS-2021.md: 2 to 5 parties in the lot order, Nur Otan and ADAL on every one; a
    row set without its form would be read on another's rows (a vote for Auyl counted for
    Ak Zhol)."""
    lot = ("npk", "nur_otan", "auyl", "ak_zhol", "adal")
    expected = {tuple(p for p in lot if p in {"nur_otan", "adal"} | set(extra))
                for extra in itertools.chain.from_iterable(
                    itertools.combinations(("npk", "auyl", "ak_zhol"), k) for k in range(4))}
    shipped = [t.option_ids for t in TEMPLATES.values() if t.contest == "2021-maslikhat"]
    assert sorted(shipped) == sorted(expected)


def test_a_row_set_stacks_its_rows_from_the_table_top() -> None:
    full, two = TEMPLATES["kz2021-maslikhat-5"], TEMPLATES["kz2021-maslikhat-2"]
    assert two.option_ids == ("nur_otan", "adal") and two.contest == full.contest
    assert [o.row.y for o in two.options] == [full.table.box.y, full.table.box.y + 30]
    assert two.table.box.h == 60 and two.table.separator_x == full.table.separator_x
    adal = full.options[-1]
    assert two.options[1].square.y - two.options[1].row.y == adal.square.y - adal.row.y
    assert two.back == full.back and two.title == full.title


@pytest.mark.parametrize(("row_sets", "words"), [
    ({"x": ["nur_otan", "auyl"]}, "auyl not in the table"),
    ({"x": ["adal", "nur_otan"]}, "keep the table's order"),
    ({"x": "adal"}, "list of option ids"),
    ({"kz2021-maslikhat-3": ["adal"]}, "already used"),
])
def test_broken_row_sets_are_named(tmp_path: Path, row_sets, words: str) -> None:
    _broken_copy(tmp_path, lambda d: d.update(row_sets=row_sets))
    with pytest.raises(TemplateError) as err:
        load_templates(tmp_path)
    assert "row_sets" in str(err.value) or "already used" in str(err.value)
    assert words in str(err.value), str(err.value)


def _broken_copy(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((DEFAULT_TEMPLATE_DIR / "kz2021-maslikhat-3.yaml").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (lambda d: d["sides"][0]["table"]["rows"][1].update(square_mm=[174, 120, 18, 18]), "sides[0].table.rows[1].square_mm", "outside its row"),
        (lambda d: d["sides"][0]["table"]["rows"][2].update(square_mm=[174, 150, 18, 18], box_mm=[12, 150, 186, 30]), "sides[0].table.rows[2]", "overlaps"),
        (lambda d: d["sides"][0]["table"]["rows"][0].update(box_mm=[12, 100, 186, 30]), "sides[0].table.rows[0].box_mm", "outside the table"),
        (lambda d: d["sides"][0]["table"]["rows"][0].update(square_mm=[174, 114, 18]), "sides[0].table.rows[0].square_mm", "[x, y, width, height]"),
        (lambda d: d["sides"][0]["table"]["rows"][0].pop("id"), "sides[0].table.rows[0].id", "missing"),
    ],
)
def test_broken_template_error_names_file_and_field(tmp_path: Path, edit, field: str, words: str) -> None:
    path = _broken_copy(tmp_path, edit)
    with pytest.raises(TemplateError) as err:
        load_template(path)
    message = str(err.value)
    assert str(path) in message and field in message and words in message, message


# --------------------------------------------------------------------------------------
# CLI


def test_cli_template_list_and_render(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["template", "list"])
    assert listed.exit_code == 0 and all(tid in listed.output for tid in TEMPLATES)
    out = tmp_path / "x.png"
    result = runner.invoke(app, ["template", "render", "kz2021-maslikhat-3", "--dpi", "60", "-o", str(out)])
    assert result.exit_code == 0, result.output
    image = cv2.imread(str(out))
    sheet_w = round(210 * 60 / 25.4)
    assert image is not None and image.shape[1] > 2 * sheet_w, "both sides side by side"


def test_cli_unknown_template_is_exit_2_listing_ids(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["template", "render", "kz1999-nope", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert "kz1999-nope" in result.output and "kz2021-mazhilis" in result.output
