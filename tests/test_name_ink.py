"""Forms that list different parties told apart by the ink of their row names, through blur."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from ballot_vision.render import PrintStyle, render_side
from ballot_vision.stages.identify import candidate_fits, outline_placements
from ballot_vision.stages.locate import locate_table
from ballot_vision.stages.name_ink import (MAX_FIT_RMS, fit_name_lengths, forms_by_name_ink, name_ink,
                                           name_length)
from ballot_vision.templates import load_templates

TEMPLATES = load_templates()
FOUR = [TEMPLATES[t] for t in ("kz2021-maslikhat-4", "kz2021-maslikhat-4-npk-akzhol", "kz2021-maslikhat-4-npk-auyl")]
PX_PER_MM = 6.0


def _expected(template) -> np.ndarray:
    return np.array([name_length(o) for o in template.options], dtype=float)


def _measured(template_id: str, seed: int, blur_mm: float) -> np.ndarray:
    """Name ink of a flat print of ``template_id`` in another typeface, blurred far past legibility."""
    template = TEMPLATES[template_id]
    style = PrintStyle.random(np.random.default_rng(seed), template)
    sharp = render_side(template, "front", px_per_mm=PX_PER_MM, style=style).bgr
    fits = [(t, r) for t, r in outline_placements(candidate_fits(locate_table(sharp), TEMPLATES, sharp.shape))
            if t.id == template_id]
    assert fits, "the print's table was not found"
    blurred = cv2.GaussianBlur(sharp, (0, 0), blur_mm * PX_PER_MM)
    return name_ink(blurred, fits[0][1])


@pytest.mark.parametrize("seed", [3, 4])
def test_names_hold_ink_by_their_length_whatever_the_blur(seed: int) -> None:
    template = TEMPLATES["kz2021-maslikhat-4"]
    sharp = _measured(template.id, seed=seed, blur_mm=0.05)
    blurred = _measured(template.id, seed=seed, blur_mm=0.8)  # no letter legible
    # Blur moves ink, it does not remove it (it only brings a little in from the rules).
    np.testing.assert_allclose(blurred, sharp, rtol=0.15)
    # Longer names, more ink: closely a power of their length.
    assert list(np.argsort(blurred)) == list(np.argsort(_expected(template)))
    fits = fit_name_lengths(blurred, [template])
    assert fits is not None and math.sqrt(fits[0].sse / 4) < MAX_FIT_RMS


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_a_blurred_four_party_maslikhat_is_told_from_the_forms_whose_names_differ_in_length(seed: int) -> None:
    # Nur Otan, Auyl, Ak Zhol, ADAL: the others put short names (Nur Otan's, the People's
    # Party's) where Auyl's and Nur Otan's are.
    ink = _measured("kz2021-maslikhat-4", seed=seed, blur_mm=1.5)
    assert [FOUR[i].id for i in forms_by_name_ink(ink, FOUR)] == ["kz2021-maslikhat-4"]


@pytest.mark.parametrize("seed", [1, 2])
def test_names_of_about_the_same_length_stay_undecided(seed: int) -> None:
    # People's Party, Nur Otan, Ak Zhol, ADAL against People's Party, Nur Otan, Auyl, ADAL:
    # Ak Zhol's and Auyl's names differ by 15 %, too little to go by.
    ink = _measured("kz2021-maslikhat-4-npk-akzhol", seed=seed, blur_mm=1.5)
    kept = [FOUR[i].id for i in forms_by_name_ink(ink, FOUR)]
    assert kept == ["kz2021-maslikhat-4-npk-akzhol", "kz2021-maslikhat-4-npk-auyl"]


def test_ink_that_follows_no_form_rules_none_out() -> None:
    # A fold or a finger across a name: the best form's fit is poor, so no evidence.
    ink = _expected(FOUR[0]) * 0.001
    ink[3] *= 3.0
    fits = fit_name_lengths(ink, FOUR)
    assert fits is not None and math.sqrt(min(f.sse for f in fits) / 4) > MAX_FIT_RMS
    assert forms_by_name_ink(ink, FOUR) == [0, 1, 2]


def test_too_few_rows_measured_rule_none_out() -> None:
    ink = _expected(FOUR[0]) * 0.001
    ink[[0, 3]] = np.nan  # hidden, or out of the photo
    assert fit_name_lengths(ink, FOUR) is None
    assert forms_by_name_ink(ink, FOUR) == [0, 1, 2]


def test_exact_ink_keeps_only_the_forms_close_to_it() -> None:
    ink = _expected(FOUR[2]) * 0.0013
    assert forms_by_name_ink(ink, FOUR) == [1, 2]
    ink = _expected(FOUR[0]) * 0.0013
    assert forms_by_name_ink(ink, FOUR) == [0]
