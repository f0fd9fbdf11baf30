"""Identify which template a located table belongs to, and confirm it is a ballot.

Geometry first: the number of rows narrows the candidates (a 3- or 4-row table can only be
one shipped maslikhat form). Where several forms share a row count (the Mazhilis ballot and
a five-party maslikhat ballot), or to make sure a look-alike form is not read as a ballot,
we OCR only the rectified title (or, on a side without a title, the first party names) and
match each candidate's keywords.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..imaging import to_gray
from ..ocr import keyword_score, normalise, read_text
from ..templates import Rect, Template
from .locate import TableObservation
from .register import Registration, RegisterFailure, first_row_candidates, name_cell, rectify, register

#: Words that any ballot title or party row carries ("ballot", "election", "party").
BALLOT_WORDS = ("БЮЛЛЕТЕНЬ", "БЮЛЛЕТЕНІ", "САЙЛАУ", "ИЗБИРАТЕЛЬНЫЙ", "ГОЛОСОВАНИЯ", "ДЕПУТАТОВ",
                "ПАРТИЯ", "ПАРТИЯСЫ")
#: A fuzzy keyword match at least this good counts as found.
KEYWORD_MATCH = 0.8
#: OCR text with at least this many letters is "readable": if no ballot word is in it, it is
#: some other document.
READABLE_LETTERS = 30
#: Resolution for OCR crops: 3 mm capitals come out about 21 px tall.
OCR_PX_PER_MM = 7.0


@dataclass(frozen=True)
class IdentifyFailure:
    reason: str
    not_ballot: bool = False  # True when we have positive evidence it is another document

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class Identification:
    template: Template
    registration: Registration
    certain: bool  # False when several templates fit and nothing told them apart
    ocr_text: str = ""


def ocr_regions(template: Template, languages: str) -> list[tuple[Rect, str]]:
    """Where to read text on the marks side, and in which languages.

    The Russian title alone tells the forms apart and names the ballot, and Tesseract
    loads one language much faster than two; without a title on this side, the first
    rows' party names are read instead.
    """
    front = template.front
    rus = [(t.box, "rus") for t in front.texts if t.role == "title_rus"]
    titles = [(t.box, languages) for t in front.texts if t.role.startswith("title")]
    chosen = rus or titles[:1] or [(name_cell(template, o), languages) for o in template.options[:2]]
    # Printing houses shift blocks by a few millimetres: read a little more than the box.
    return [(Rect(r.x - 3, r.y - 4, r.w + 6, r.h + 8), lang) for r, lang in chosen]


def read_side_text(bgr: np.ndarray, registration: Registration, config: Config) -> str:
    """OCR the identifying regions of the registered template ('' when OCR is off)."""
    if not config.ocr.enabled:
        return ""
    texts = []
    for region, languages in ocr_regions(registration.template, config.ocr.languages):
        patch = rectify(bgr, registration.photo_to_mm, region, px_per_mm=OCR_PX_PER_MM)
        result = read_text(to_gray(patch), languages=languages)
        texts.append(result.text)
    return "\n".join(texts)


def _best_keyword(text: str, words: tuple[str, ...]) -> float:
    return max((keyword_score(text, w) for w in words), default=0.0)


def identify(observation: TableObservation, bgr: np.ndarray, templates: dict[str, Template],
             config: Config) -> Identification | IdentifyFailure:
    """Choose the template (and the template row of the first seen row) for a located table."""
    total = len(observation.rows) + observation.rows_above + observation.rows_below
    exact = [t for t in templates.values() if len(t.options) == total]
    # Rows may be hidden (finger, frame): larger forms that can hold the seen rows.
    larger = [t for t in templates.values() if len(t.options) > total]
    candidates = exact or sorted(larger, key=lambda t: len(t.options))
    if not candidates:
        return IdentifyFailure(f"a table of {total} rows matches no template")

    fits: list[tuple[Template, Registration]] = []
    for template in candidates:
        for first_row in first_row_candidates(observation, len(template.options))[:1]:
            reg = register(observation, template, first_row=first_row, image_shape=bgr.shape)
            if not isinstance(reg, RegisterFailure):
                fits.append((template, reg))
    if not fits:
        return IdentifyFailure("the table could not be registered to any template")

    # OCR once, on the first fit's regions (the candidates share their layout closely
    # enough for a generous crop), then score every candidate's keywords on that text.
    text = read_side_text(bgr, fits[0][1], config)
    letters = len(normalise(text).replace(" ", ""))
    if letters >= READABLE_LETTERS:
        ballot_evidence = _best_keyword(text, BALLOT_WORDS)
        if ballot_evidence < 0.7 and all(_best_keyword(text, t.keywords) < 0.7 for t, _ in fits):
            return IdentifyFailure("a table with squares, but its title is not a ballot's", not_ballot=True)
    if len(fits) == 1:
        template, reg = fits[0]
        return Identification(template, reg, certain=bool(exact), ocr_text=text)
    scored = sorted(((_best_keyword(text, t.keywords), t.id, t, r) for t, r in fits), key=lambda x: (-x[0], x[1]))
    best, runner_up = scored[0], scored[1]
    certain = best[0] >= KEYWORD_MATCH and best[0] - runner_up[0] >= 0.1 and bool(exact)
    return Identification(best[2], best[3], certain=certain, ocr_text=text)
