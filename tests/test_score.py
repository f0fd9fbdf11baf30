"""Square scoring on hand-made rectified cells: printed borders never count, strokes do."""

import cv2
import numpy as np
import pytest

from ballot_vision.config import load_config
from ballot_vision.stages.score import PX_PER_MM, ballot_square_size, find_frame, score_cell

PPM = PX_PER_MM
CONFIG = load_config()


def cell(square_mm=18.0, offset_mm=(0.0, 0.0), border_mm=1.0, paper=(235, 240, 242)):
    """A 30 × 30 mm square cell with a heavy-bordered square, as the register stage rectifies it."""
    img = np.full((int(30 * PPM), int(30 * PPM), 3), paper, np.uint8)
    x0 = (30 - square_mm) / 2 + offset_mm[0]
    y0 = (30 - square_mm) / 2 + offset_mm[1]
    p0 = (int(x0 * PPM), int(y0 * PPM))
    p1 = (int((x0 + square_mm) * PPM), int((y0 + square_mm) * PPM))
    cv2.rectangle(img, p0, p1, (25, 25, 25), int(round(border_mm * PPM)))
    return img


NOMINAL = tuple(int(v * PPM) for v in (6, 6, 24, 24))
BLUE = (170, 70, 30)


def mm(x, y):
    return (int((15 + x) * PPM), int((15 + y) * PPM))


def score(img):
    return score_cell(img, option="x", nominal_square_px=NOMINAL).score


@pytest.mark.parametrize("square_mm,offset", [(18, (0, 0)), (15, (1.5, -1)), (20, (-1, 1.5))])
def test_blank_square_scores_zero_whatever_its_printed_size(square_mm, offset):
    s = score(cell(square_mm, offset))
    assert s.score < 0.03 and s.outside < 0.05


def test_frame_is_found_where_it_is_printed():
    img = cell(15, (1.5, -1))
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    found = find_frame(1 - gray / 240, px_per_mm=PPM)
    left, top = found.box[:2]
    assert abs(left / PPM - (7.5 + 1.5)) < 1.0 and abs(top / PPM - (7.5 - 1)) < 1.0
    outer = (found.box[2] - found.box[0], found.box[3] - found.box[1])
    assert all(abs(p - o) / PPM < 0.5 for p, o in zip(found.printed_px, outer))  # sharp: the outer size


@pytest.mark.parametrize("blur_mm", [1.5, 3.0])
def test_printed_size_of_a_square_does_not_grow_with_motion_blur(blur_mm):
    """Blur across a border moves its outer edge out, not its centre line."""
    img = cell(15, (0, 0))
    sharp = find_frame(1 - cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32) / 240, px_per_mm=PPM)
    length = int(round(blur_mm * PPM)) | 1
    kernel = np.zeros((length, length), np.float32)
    kernel[:, length // 2] = 1.0 / length  # vertical shake: top and bottom borders spread
    blurred = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    gray = cv2.cvtColor(blurred, cv2.COLOR_BGR2GRAY).astype(np.float32)
    found = find_frame(1 - gray / 240, px_per_mm=PPM) or find_frame(1 - gray / 240, px_per_mm=PPM, darkness=0.15)
    assert found is not None
    outer_h = found.box[3] - found.box[1]
    assert outer_h > sharp.box[3] - sharp.box[1]  # the outer edges did spread
    for blurred_side, sharp_side in zip(found.printed_px, sharp.printed_px):
        assert abs(blurred_side - sharp_side) / PPM < 0.5, (found.printed_px, sharp.printed_px)



@pytest.mark.parametrize("rule_y_mm", [3.0, 27.0])
def test_table_rule_brought_into_the_cell_is_not_taken_for_the_squares_border(rule_y_mm):
    """Misregistration by a millimetre or two brings the row's rule into the cell: the frame
    must still be the square's own (a frame reaching to the rule scored its inside as a mark)."""
    img = cell(18, (0, 3.0 if rule_y_mm < 15 else -3.0))
    y = int(rule_y_mm * PPM)
    cv2.line(img, (0, y), (img.shape[1] - 1, y), (30, 30, 30), int(0.5 * PPM))
    s = score_cell(img, option="x", nominal_square_px=NOMINAL)
    top, bottom = s.frame_px[1], s.frame_px[3]
    assert abs((bottom - top) / PPM - 19) < 1.0, s.frame_px  # 18 mm between the lines + the border
    assert s.score.score < CONFIG.marks.marginal


def test_rule_at_one_margin_with_the_square_cut_by_the_other_is_not_a_side():
    """A row misregistered by 4 mm: the square's top side lies in the cell's margin and the
    next rule near the bottom one, where neither can be checked against the paper beyond.
    The frame from the top side to the rule holds the square's bottom side, which scored a
    blank square as marked. Of the frames that pass, the squarest is the square's."""
    img = cell(22, (0, 2.0 - 4.0))  # top side's outer edge 1.5 mm from the cell's edge
    y = int(27.8 * PPM)
    cv2.line(img, (0, y), (img.shape[1] - 1, y), (30, 30, 30), int(0.6 * PPM))
    s = score_cell(cv2.GaussianBlur(img, (0, 0), 1.0), option="x", nominal_square_px=NOMINAL)
    bottom = s.frame_px[3]
    assert abs(bottom / PPM - (15 + 11 - 2.0 + 0.5)) < 1.0, s.frame_px
    assert s.score.score < CONFIG.marks.marginal


def test_shadow_over_a_corner_of_the_cell_is_not_a_border():
    """A soft shadow darkens paper by a third across one corner: outermost runs there are
    not lines of the square, which is still found and scores blank."""
    img = cell(18, (1.5, 1.5)).astype(np.float32)
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]].astype(np.float32) / PPM
    shade = 1 - 0.4 * np.clip((12 - (xx + yy) / 2) / 8, 0, 1)  # dark at the top-left corner
    img = (img * shade[..., None]).astype(np.uint8)
    s = score_cell(img, option="x", nominal_square_px=NOMINAL)
    assert s.frame_px is not None
    assert abs((s.frame_px[2] - s.frame_px[0]) / PPM - 19) < 1.0, s.frame_px
    assert s.score.score < CONFIG.marks.marginal

def test_thin_tick_scores_as_a_mark():
    img = cell()
    cv2.line(img, mm(-5, 0), mm(-1, 5), BLUE, 3, cv2.LINE_AA)
    cv2.line(img, mm(-1, 5), mm(6, -6), BLUE, 3, cv2.LINE_AA)
    assert score(img).score >= CONFIG.marks.definite


def test_pen_dot_is_not_a_mark_but_a_short_dash_is():
    dot = cell()
    cv2.circle(dot, mm(2, 2), 4, BLUE, -1, cv2.LINE_AA)
    assert score(dot).score < CONFIG.marks.marginal
    dash = cell()
    cv2.line(dash, mm(-3, 0), mm(3, 0), BLUE, 4, cv2.LINE_AA)
    assert score(dash).score >= CONFIG.marks.definite


def test_filled_square_scores_one():
    img = cell()
    cv2.rectangle(img, mm(-8, -8), mm(8, 8), (60, 40, 40), -1)
    assert score(img).score == pytest.approx(1.0)


def test_mark_beside_the_square_scores_outside_not_inside():
    img = cell()
    cv2.line(img, mm(-13, -12), mm(-10, -9), BLUE, 3, cv2.LINE_AA)
    cv2.line(img, mm(-10, -9), mm(-10.5, -13), BLUE, 3, cv2.LINE_AA)
    s = score(img)
    assert s.score < CONFIG.marks.marginal and s.outside > 0.2


@pytest.mark.parametrize("slant_px", [0, 3])
def test_a_rule_across_the_cell_inside_its_margin_is_no_mark_beside_the_square(slant_px):
    """A press's double border puts its inner rule a millimetre or two inside the design's
    cell, slightly slanted and broken by the print's grain: it is no mark that missed the
    square (second press, make eval seed 605918237, IMG_00250); a short stroke there is."""
    img = cell(17)
    y = int(3.0 * PPM)
    for x in range(0, img.shape[1] - 12, 12):  # 10-px pieces with 2-px gaps, drifting down
        drift = slant_px * x // img.shape[1]
        cv2.line(img, (x, y + drift), (x + 9, y + drift), (30, 30, 30), 2)
    s = score(img)
    assert s.score < CONFIG.marks.marginal and s.outside < 0.05
    cv2.line(img, mm(-13, -8), mm(-9, -8), BLUE, 3, cv2.LINE_AA)
    assert score(img).outside > 0.1


def test_shadow_edge_across_the_square_is_not_ink():
    img = cell().astype(np.float32)
    img[:, 90:] *= 0.55  # hard shadow covering the right half
    assert score(img.astype(np.uint8)).score < CONFIG.marks.marginal


def test_grey_faint_mark_is_flagged_as_pencil_and_black_pen_is_not():
    pencil = cell()
    cv2.line(pencil, mm(-5, -5), mm(5, 5), (150, 150, 150), 3, cv2.LINE_AA)
    cv2.line(pencil, mm(-5, 5), mm(5, -5), (150, 150, 150), 3, cv2.LINE_AA)
    s = score(pencil)
    assert s.score >= CONFIG.marks.definite and s.pencil >= CONFIG.marks.pencil
    pen = cell()
    cv2.line(pen, mm(-5, -5), mm(5, 5), (20, 20, 20), 3, cv2.LINE_AA)
    cv2.line(pen, mm(-5, 5), mm(5, -5), (20, 20, 20), 3, cv2.LINE_AA)
    assert score(pen).pencil < CONFIG.marks.pencil


def test_a_soft_pencil_half_as_dark_as_the_print_is_flagged():
    """A soft lead's core reaches about half the printed border's darkness (make eval:
    0.34-0.54 of it; black pen 0.57 and darker)."""
    img = cell(paper=(240, 240, 240))
    cv2.line(img, mm(-5, -5), mm(5, 5), (127, 127, 127), 4, cv2.LINE_AA)
    cv2.line(img, mm(-5, 5), mm(5, -5), (127, 127, 127), 4, cv2.LINE_AA)
    s = score(img)
    assert s.score >= CONFIG.marks.definite and s.pencil >= CONFIG.marks.pencil


def test_finger_over_the_square_makes_it_not_visible():
    img = cell()
    cv2.ellipse(img, mm(0, 12), (70, 60), 0, 0, 360, (120, 150, 205), -1)  # skin tone (BGR)
    assert not score(img).visible


def test_warm_light_is_not_a_finger():
    img = cell(paper=(150, 205, 235))  # yellowish paper under warm light
    assert score(img).visible


def test_border_blur_grows_with_blur_and_ignores_sensor_noise():
    """The edge width of the printed borders measures blur; noise (which fools the Laplacian) does not."""
    from ballot_vision.stages.score import border_blur_mm

    rng = np.random.default_rng(5)
    img = cell(16, (0, 0))
    noisy = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    soft = cv2.GaussianBlur(img, (0, 0), 1.0 * PPM)  # defocus, sigma 1 mm
    soft_noisy = np.clip(soft + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)

    def measure(bgr):
        return border_blur_mm([score_cell(bgr, option="a", nominal_square_px=(0, 0, 1, 1))])

    sharp_mm, noisy_mm, soft_mm, soft_noisy_mm = map(measure, (img, noisy, soft, soft_noisy))
    assert sharp_mm < 0.6 and noisy_mm < 0.6
    assert soft_mm > 1.2 and soft_noisy_mm > 1.2



def test_shadow_running_into_a_side_of_the_square_is_not_taken_for_that_side():
    """A shadow whose edge meets the square's top border merges with it into one thick dark
    band; the border is the band's inner end, not its outer one (the inside would then hold
    the border and score as a mark)."""
    img = cell(18, (0, 1.0)).astype(np.float32)
    yy = np.mgrid[0:img.shape[0], 0:img.shape[1]][0].astype(np.float32) / PPM
    top_mm = 15 - 9 + 1.0  # the square's top border
    shade = np.where(yy < top_mm, 0.55, 1.0)
    img = (img * cv2.GaussianBlur(shade, (0, 0), 0.5 * PPM)[..., None]).astype(np.uint8)
    s = score_cell(img, option="x", nominal_square_px=NOMINAL)
    assert s.frame_px is not None
    assert abs(s.frame_px[1] / PPM - (top_mm - 0.5)) < 1.0, s.frame_px
    assert s.score.score < CONFIG.marks.marginal


def test_grain_below_the_border_level_makes_no_frame():
    """On a grainy photo a faint darkness level is crossed by the paper's noise everywhere."""
    rng = np.random.default_rng(3)
    img = cell(18).astype(np.float32) + rng.normal(0, 25, (int(30 * PPM), int(30 * PPM), 1))
    img = cv2.GaussianBlur(np.clip(img, 0, 255).astype(np.uint8), (0, 0), 1.0)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    from ballot_vision.imaging import relative_darkness
    dark = relative_darkness(gray.astype(np.uint8), kernel_px=int(24 * PPM))
    assert find_frame(dark, px_per_mm=PPM, darkness=0.02) is None
    found = find_frame(dark, px_per_mm=PPM)
    assert found is not None and abs((found.box[2] - found.box[0]) / PPM - 19) < 1.0


def test_light_falling_off_towards_the_cells_edge_is_not_ink():
    """Light fading across a blank square (lamp to one side): the far side at 40 %.

    Judged on the cell alone, the paper closing keeps the bright side's level at the dark
    edge, the paper beside the square reads as ink, and the square's side merged with it
    into a "side" at the cell's margin: the real side then lay inside the frame and a
    blank square scored as marked. With the paper around the cell in view it does not.
    """
    context = int(round(12 * PPM))
    size = int(30 * PPM) + 2 * context
    img = np.full((size, size, 3), (235, 240, 242), np.uint8)
    img[context:-context, context:-context] = cell(19.5)
    x = np.arange(size, dtype=np.float32)
    fade = np.clip(1.0 - 0.6 * (x - context) / (30 * PPM), 0.25, 1.0)
    img = (img.astype(np.float32) * fade[None, :, None]).astype(np.uint8)
    s = score_cell(img, option="x", nominal_square_px=NOMINAL, context_px=context)
    assert s.bgr.shape[:2] == (int(30 * PPM), int(30 * PPM))
    assert s.score.visible and s.score.score < 0.03
    outer = (15 - 10.25, 15 - 10.25, 15 + 10.25, 15 + 10.25)  # 19.5 mm between the 1-mm lines' centres
    assert all(abs(found / PPM - printed) < 0.5 for found, printed in zip(s.frame_px, outer))


def test_a_stroke_running_to_a_side_at_the_cells_margin_is_not_a_crease():
    """A crease crosses the square and runs on past it on both ends; past a side found at
    the cell's margin lies the rest of that side, not paper, so a stroke that reaches it
    (joined by Hough to a rule at the other end) is not shown to run on: it stays ink."""
    from ballot_vision.stages.score import _erase_creases

    size = int(30 * PPM)
    ink = np.zeros((size, size), bool)
    ink[int(0.8 * PPM):int(1.3 * PPM), :] = True  # the row's rule, above the square
    ink[int(5 * PPM):, int(14.5 * PPM):int(15.2 * PPM)] = True  # a stroke down to the cell's edge
    frame = (int(5 * PPM), int(4 * PPM), int(25 * PPM), size - round(1.8 * PPM))  # bottom at the margin
    kept = _erase_creases(ink, ink, frame=frame, px_per_mm=PPM)
    stroke = ink.copy()
    stroke[:int(2 * PPM), :] = False
    assert (kept & stroke).sum() == stroke.sum()



@pytest.mark.parametrize("grey", [225, 210])
def test_a_cross_too_light_to_be_ink_is_measured_as_faint_lines(grey):
    """A light pencil cross (paper 240, strokes 210–225) stays below the stroke threshold,
    so the square scores blank; its lines are still measured, for the decision to doubt
    the blank (reason faint_mark)."""
    rng = np.random.default_rng(1)
    img = cell(18)
    for a, b in ((mm(-5, -5), mm(5, 5)), (mm(-5, 5), mm(5, -5))):
        cv2.line(img, a, b, (grey, grey, grey), 3, cv2.LINE_AA)
    img = np.clip(cv2.GaussianBlur(img, (0, 0), 1.0) + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    s = score_cell(img, option="x", nominal_square_px=NOMINAL).score
    assert s.score < CONFIG.marks.marginal
    assert s.faint >= CONFIG.marks.faint


@pytest.mark.parametrize("noise", [3.0, 10.0])
def test_sensor_noise_in_a_blank_square_is_no_faint_line(noise):
    rng = np.random.default_rng(2)
    img = np.clip(cell(18).astype(np.float32) + rng.normal(0, noise, (int(30 * PPM), int(30 * PPM), 1)), 0, 255)
    s = score_cell(cv2.GaussianBlur(img.astype(np.uint8), (0, 0), 0.8), option="x", nominal_square_px=NOMINAL).score
    assert s.faint < CONFIG.marks.faint


def _line_under_the_square(gap_mm: float) -> np.ndarray:
    """An 18-mm square with a line as wide as it ``gap_mm`` below (a rule bent by a curl
    under it, or the edge of a fold): the outermost lines frame a taller "square"."""
    img = cell(18)
    y = int((24 + gap_mm) * PPM)
    cv2.line(img, (int(6 * PPM), y), (int(24 * PPM), y), (25, 25, 25), int(PPM))
    return img


def test_a_line_under_the_square_is_taken_for_its_side_unless_the_size_is_known():
    def darkness(img):
        return 1 - cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32) / 240

    size = find_frame(darkness(cell(18)), px_per_mm=PPM).printed_px  # as the other squares measure
    img = _line_under_the_square(2.5)
    free = find_frame(darkness(img), px_per_mm=PPM)
    assert free.printed_px[1] > 1.1 * size[1]  # the trap this guards against
    assert score(img).score > 0.5  # ...the square's own side read as a mark
    known = find_frame(darkness(img), px_per_mm=PPM, printed_px=size)
    assert known.printed_px == size and known.box[3] < free.box[3]
    assert score_cell(img, option="x", nominal_square_px=NOMINAL, printed_px=size).score.score < 0.03


@pytest.mark.parametrize("sizes,expected", [
    ([(18, 22)] * 4 + [(18, 20)], (18, 22)),  # one square found at another size
    ([(18, 22)] * 2 + [None] * 3, None),  # too few found to know
    ([(18, 22), (18, 22), (20, 25), (15, 18)], None),  # no majority alike
])
def test_a_ballots_square_size_is_what_most_of_its_squares_share(sizes, expected):
    assert ballot_square_size(sizes) == expected


@pytest.mark.parametrize("angle", [0, 35, 90])
def test_border_blur_variance_measures_a_shake_per_axis_beyond_the_border_weight(angle):
    """A shake 3 mm long (three times the border's weight) spreads the vertical sides by
    its run along x and the horizontal ones by its run along y; noise does not count."""
    from ballot_vision.deblur import line_kernel
    from ballot_vision.stages.score import border_blur_variance

    length_mm = 3.0
    rng = np.random.default_rng(4)
    kernel = line_kernel(length_mm * PPM, angle)
    img = cv2.filter2D(cell(18, (0, 0)).astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT)
    img = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    vx, vy = border_blur_variance([score_cell(img, option="a", nominal_square_px=NOMINAL)])
    a = np.deg2rad(angle)
    assert vx == pytest.approx(length_mm ** 2 / 12 * np.cos(a) ** 2, abs=0.12)
    assert vy == pytest.approx(length_mm ** 2 / 12 * np.sin(a) ** 2, abs=0.12)
    sharp = border_blur_variance([score_cell(cell(18, (0, 0)), option="a", nominal_square_px=NOMINAL)])
    assert max(sharp) < 0.05


def test_a_rule_the_cell_margin_clips_to_a_sliver_is_not_the_squares_top():
    """A print with rows shorter than the template's (25.6 mm against 30) is stretched to
    the template's rows: the blurred row rule above the square comes to lie just inside the
    cell's margin, which clips it to a sliver along the cell's top. Taken for the square's
    top side, it put the square's own top border inside the square, read as a mark (make
    eval seed 2193195749, IMG_00317: a vote read as an overvote). The fixture is that
    cell as the register stage rectified it, with its 12 mm of paper around."""
    from pathlib import Path

    img = cv2.imread(str(Path(__file__).parent / "fixtures" / "cell-rule-clipped-by-margin.png"))
    s = score_cell(img, option="adal", nominal_square_px=(36, 36, 144, 144), context_px=72)
    assert s.frame_px is not None
    assert s.frame_px[1] / PPM > 3.0, s.frame_px  # the square's top, not the rule at 1.3 mm
    assert s.score.score < CONFIG.marks.marginal


def test_a_noisy_blank_squares_inner_edge_is_not_fitted_inside_its_border():
    """Sensor noise as dark as the halo threshold: the fitted left inner edge came 4 px
    into the 10-px border, and the rest of the border inside the "interior" read as a
    2.8 mm stroke, counted as a vote on a blank ballot (make eval seed 3221853415, hard,
    IMG_00099). The fixture is that cell as the register stage rectified it, with its
    12 mm of paper around."""
    from pathlib import Path

    img = cv2.imread(str(Path(__file__).parent / "fixtures" / "cell-noisy-border-edge-fit-inside-line.png"))
    s = score_cell(img, option="ak_zhol", nominal_square_px=(36, 36, 144, 144), context_px=72)
    assert s.frame_px is not None
    left_border_px = s.frame_px[0] + 0.7 * 10
    assert s.interior_px[0] >= left_border_px, (s.frame_px, s.interior_px)
    assert s.score.score < CONFIG.marks.marginal


CONTEXT_MM = 12.0


def cell_in_paper(paper=(235, 240, 242)):
    """:func:`cell` with 12 mm of paper around it, as the register stage rectifies it."""
    c = int(CONTEXT_MM * PPM)
    img = np.full((int(30 * PPM) + 2 * c, int(30 * PPM) + 2 * c, 3), paper, np.uint8)
    img[c:-c, c:-c] = cell(paper=paper)
    return img, c


def score_in_paper(img, context_px):
    return score_cell(img, option="x", nominal_square_px=NOMINAL, context_px=context_px).score


def test_a_filled_mark_spilling_over_the_cells_edge_is_a_mark_not_a_finger():
    """A broad shape reaching the cell's edge may be a finger; one that ends a few
    millimetres beyond the cell, around the square, is the voter's fill."""
    img, c = cell_in_paper()
    x0, y0 = c + int(3 * PPM), c - int(4 * PPM)  # over the square, and 4 mm out over the top
    # Dense strokes 0.5 mm wide, 1 mm apart, darkening what is under them (the border shows).
    ink = np.full(img.shape, 255, np.uint8)
    for y in range(y0, c + int(25 * PPM), int(PPM)):
        cv2.line(ink, (x0, y), (x0 + int(22 * PPM), y - int(2 * PPM)), (150, 60, 100), 3, cv2.LINE_AA)
    img = (img.astype(np.float32) * ink / 255).astype(np.uint8)
    s = score_in_paper(img, c)
    assert s.visible and s.score == pytest.approx(1.0)


def test_a_square_hatched_over_its_border_is_a_mark_not_hidden():
    """Dense blue hatching over the Nur Otan square ran over its border and on to the
    column's rule, so no border was found, and the square was read as hidden (make eval
    seed 4210495658, IMG_00090). The hatching ends within millimetres of the square, where
    a finger runs on. The fixture is that cell as the register stage rectified it."""
    from pathlib import Path

    img = cv2.imread(str(Path(__file__).parent / "fixtures" / "cell-filled-over-its-border.png"))
    s = score_cell(img, option="nur_otan", nominal_square_px=(23, 36, 131, 144), context_px=72).score
    assert s.visible and s.score >= CONFIG.marks.definite


def test_a_square_not_printed_at_all_stays_unseen():
    """No border and no fill: the row may not be there, or the square torn off."""
    c = int(CONTEXT_MM * PPM)
    img = np.full((int(30 * PPM) + 2 * c, int(30 * PPM) + 2 * c, 3), (235, 240, 242), np.uint8)
    assert not score_in_paper(img, c).visible


def test_a_finger_running_out_of_the_cells_surroundings_still_hides_the_square():
    img, c = cell_in_paper()
    # From beyond the surroundings' bottom edge up over the square: a finger and its hand.
    cv2.ellipse(img, (c + int(15 * PPM), img.shape[0]), (int(9 * PPM), int(40 * PPM)), 0, 0, 360,
                (120, 150, 205), -1)
    assert not score_in_paper(img, c).visible


def test_a_filled_square_spilling_over_its_cell_is_read_as_a_mark():
    """A dense violet fill over the Nur Otan square ran past the square and out of its
    cell, and was taken for a finger over the square: the ballot went to review as
    unreadable (make eval seed 3221853415, IMG_00852). The fixture is that cell as the
    register stage rectified it, with its 12 mm of paper around."""
    from pathlib import Path

    img = cv2.imread(str(Path(__file__).parent / "fixtures" / "cell-filled-mark-spilling-over-cell-edge.png"))
    s = score_cell(img, option="nur_otan", nominal_square_px=(36, 36, 144, 144), context_px=72).score
    assert s.visible and s.score >= CONFIG.marks.definite
