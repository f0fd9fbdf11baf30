"""The OCR wrapper: both ways into Tesseract read the same words, and failures are no evidence."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ballot_vision import ocr
from ballot_vision.render import get_font

pytestmark = pytest.mark.skipif(not ocr.tesseract_version(), reason="tesseract is not installed")


def _text_image(lines: list[str], *, size_px: int = 26) -> np.ndarray:
    font = get_font("DejaVu Sans", True, size_px)
    image = Image.new("L", (40 + 20 * max(map(len, lines)), 20 + int(1.5 * size_px) * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((20, 10 + i * int(1.5 * size_px)), line, font=font, fill=20)
    return np.asarray(image)


TITLE = ["ИЗБИРАТЕЛЬНЫЙ БЮЛЛЕТЕНЬ", "МАЖИЛИСА ПАРЛАМЕНТА"]


@pytest.mark.parametrize("engine", ["library", "program"])
def test_reads_a_ballot_title(engine: str) -> None:
    got = ocr.read_text(_text_image(TITLE), languages="kaz+rus", engine=engine)
    assert got.error == ""
    assert ocr.keyword_score(got.text, "БЮЛЛЕТЕНЬ") >= 0.9
    assert ocr.keyword_score(got.text, "МАЖИЛИС") >= 0.9
    assert ocr.keyword_score(got.text, "МАСЛИХАТ") < 0.8


def test_library_and_program_agree() -> None:
    image = _text_image(["«Nur Otan» партиясы", "Партия «Nur Otan»"])
    assert ocr.read_text(image, engine="library").text == ocr.read_text(image, engine="program").text


def test_blank_and_degenerate_crops_read_as_nothing() -> None:
    for crop in (np.full((40, 300), 255, np.uint8), np.full((36, 2), 255, np.uint8), np.zeros((1, 1), np.uint8)):
        got = ocr.read_text(crop, engine="library")
        assert not got and got.error == ""


def test_non_contiguous_views_are_read() -> None:
    image = _text_image(TITLE)
    view = np.pad(image, ((0, 0), (0, 7)), constant_values=255)[:, :-7]  # strided, not contiguous
    assert ocr.keyword_score(ocr.read_text(view, engine="library").text, "БЮЛЛЕТЕНЬ") >= 0.9


def test_each_thread_gets_its_own_engine() -> None:
    image = _text_image(TITLE)
    results: list[str] = []

    def work() -> None:
        for _ in range(3):
            results.append(ocr.read_text(image, engine="library").text)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 9 and len(set(results)) == 1
    assert ocr.keyword_score(results[0], "БЮЛЛЕТЕНЬ") >= 0.9


def test_missing_languages_are_an_error_not_a_crash() -> None:
    got = ocr.read_text(_text_image(TITLE), languages="xx+yy")
    assert not got and "none of the languages" in got.error


def test_a_piece_of_a_keyword_matches_only_when_pieces_are_allowed() -> None:
    """A look-alike form's garbled АРАМЕН lies whole inside ПАРЛАМЕНТ (0.8): enough to keep
    the photo from being dismissed, not to prove a ballot (make eval seed 2793651698)."""
    from ballot_vision.stages.identify import WHOLE_WORD_SHARE

    garbled = "АПКЕТА АРЕНДЫ СОТРУДНИК СПРАВКА МЕСТУ ОБЛЫС к р м ас а арамен здрзала"
    assert ocr.keyword_score(garbled, "ПАРЛАМЕНТ") >= ocr.KEYWORD_MATCH
    assert ocr.keyword_score(garbled, "ПАРЛАМЕНТ", WHOLE_WORD_SHARE) < ocr.KEYWORD_MATCH
    # A word read whole, or inflected, still counts.
    for read in ("ПАРЛАМЕНТА РЕСПУБЛИКИ", "ПАРЛАМЕНТ", "ПАРЛАМНТА"):
        assert ocr.keyword_score(read, "ПАРЛАМЕНТ", WHOLE_WORD_SHARE) >= ocr.KEYWORD_MATCH
