"""Identify which template a located table belongs to, and confirm it is a ballot.

Geometry first: the number of rows narrows the candidates (a 3- or 4-row table can only be
one shipped maslikhat form). Where several forms share a row count (the Mazhilis ballot and
a five-party maslikhat ballot), or to make sure a look-alike form is not read as a ballot,
we OCR only the rectified title (or, on a side without a title, the first party names) and
match each candidate's keywords.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from ..config import Config
from ..deblur import BlurHypothesis, wiener_deconvolve
from ..imaging import flatten_lighting, order_quad, relative_darkness, to_gray
from ..ocr import (KEYWORD_MATCH, MIN_WINDOW_SHARE, NOTHING_LEGIBLE, READABLE_LETTERS, OcrText, keyword_positions,
                   keyword_score, normalise, read_text)
from ..templates import Option, Rect, Template
from .locate import TableObservation
from .name_ink import forms_by_name_ink, name_ink
from .register import (Registration, RegisterFailure, first_row_candidates, name_cell, plausible_column,
                       rectified_in_frame, rectify, register)
from .score import score_option

#: Words that any ballot title or party row carries ("ballot", "election", "party").
BALLOT_WORDS = ("БЮЛЛЕТЕНЬ", "БЮЛЛЕТЕНІ", "САЙЛАУ", "ИЗБИРАТЕЛЬНЫЙ", "ГОЛОСОВАНИЯ", "ДЕПУТАТОВ",
                "ПАРТИЯ", "ПАРТИЯСЫ")
#: Words of every party row.
PARTY_WORDS = ("ПАРТИЯ", "ПАРТИЯСЫ")
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
    confirmed: bool = True  # False when neither text nor layout confirmed that this is a ballot
    confirmed_by: str = "text"  # "text", "layout" or "" (unconfirmed)
    restored_by: BlurHypothesis | None = None  # the blur undone to read the title, if any
    #: Where the form is uncertain only in which parties some rows hold (forms of one contest
    #: that list different parties, the row names unread): those rows' option ids. A vote
    #: in any other row, a blank or an overvote reads the same on every such form. None
    #: where the form itself is in doubt (or nothing is).
    open_options: tuple[str, ...] | None = None


#: Printing houses shift blocks by a few millimetres: text is read this much (x, y in mm)
#: beyond its box on each side.
TEXT_PAD_MM = (3.0, 4.0)


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
    return [(r.grown(*TEXT_PAD_MM), lang) for r, lang in chosen]


def print_stretch(frames_mm: list[tuple[float, float]]) -> float:
    """How much taller than printed the table looks in template millimetres.

    Printed squares are square. Mapping printed cells onto template cells stretches y by
    template row height / printed row height, so a square's apparent height/width gives
    that factor (1.0 when the printing matches the template). ``frames_mm`` are (width,
    height) of the squares found, in template mm.
    """
    ratios = [h / w for w, h in frames_mm if w > 0]
    if not ratios:
        return 1.0
    return float(np.clip(np.median(ratios), 0.7, 1.4))


def unstretch(photo_to_mm: np.ndarray, *, table_top_mm: float, stretch: float) -> np.ndarray:
    """``photo_to_mm`` corrected so that distances above and below the table are as printed."""
    correction = np.array([[1, 0, 0], [0, 1 / stretch, table_top_mm * (1 - 1 / stretch)], [0, 0, 1]])
    return correction @ photo_to_mm


def more_title_regions(template: Template, languages: str) -> list[tuple[Rect, str]]:
    """Title blocks :func:`ocr_regions` does not read first (e.g. the Kazakh title), to tell
    apart forms whose first choice left them ambiguous."""
    first = {r for r, _ in ocr_regions(template, languages)}
    padded = [(t.box.grown(*TEXT_PAD_MM), languages) for t in template.front.texts if t.role.startswith("title")]
    return [(r, lang) for r, lang in padded if r not in first]


def read_side_text(bgr: np.ndarray, template: Template, photo_to_mm: np.ndarray, config: Config, *,
                   regions: list[tuple[Rect, str]] | None = None, blur: BlurHypothesis | None = None) -> OcrText:
    """OCR the identifying regions of ``template`` (or ``regions``); empty when OCR is off.

    ``blur``: undo this blur (in mm of paper) on each crop before reading it.
    """
    if not config.ocr.enabled:
        return OcrText("")
    texts = []
    for region, languages in regions if regions is not None else ocr_regions(template, config.ocr.languages):
        gray = ocr_patch(bgr, photo_to_mm, region, blur=blur)
        if gray is not None:
            texts.append(read_text(gray, languages=languages))
    return OcrText("\n".join(t.text for t in texts), confident_text="\n".join(t.confident_text for t in texts))


#: Layout confirms a ballot only where OCR was sure of no more letters than this: a blurred
#: title reads as nothing at all, while a look-alike form's own sharp title reads as words.
LAYOUT_MAX_LETTERS = NOTHING_LEGIBLE
#: Layout confirmation: rows of the table between its seen rows that may have gone unseen
#: (their printed squares still found).
LAYOUT_ROWS_UNSEEN = 1
#: Layout confirmation: the printed squares' width over the template's. Printing houses
#: made them 15–20 mm against the design's 18 (0.83–1.11), and the measured outer width
#: runs a few per cent over the print (the border's weight, blur, the table's own scale).
SQUARE_SIZE_RANGE = (0.75, 1.3)
#: Ink share of a printed title block (rectified at low resolution): text, not blank, not a photo.
TITLE_INK = (0.03, 0.45)


def layout_matches(observation: TableObservation, template: Template, registration: Registration,
                   frames_mm: list[tuple[float, float]], bgr: np.ndarray, *, stretch: float) -> bool:
    """Whether the printed layout itself says "this is ``template``", when its text cannot be read.

    Every row of the template is present, every square cell holds a printed square of the
    template's size, the square cells are as wide as a printing house may have made the
    template's (see :data:`~ballot_vision.stages.register.SEPARATOR_CELL_RANGE`), and the
    title blocks hold text. A questionnaire with a table of squares would have to copy all of
    that; a blurred ballot keeps all of it.

    Parameters
    ----------
    frames_mm : (width, height) of the printed squares found, template mm (one per found square).
    stretch : :func:`print_stretch` of ``frames_mm``.
    """
    n = len(template.options)
    if len(observation.rows) + observation.rows_above + observation.rows_below != n:
        return False
    # A row between seen rows is placed by them, as sure as seen once its printed square is
    # found (below): blur or a mark across a rule left one row of many blurred ballots open.
    if observation.n_seen < n and (observation.rows_above or observation.rows_below
                                   or observation.n_seen < n - LAYOUT_ROWS_UNSEEN):
        return False
    if len(frames_mm) < n:
        return False

    if not squares_fit(frames_mm, template):
        return False
    if registration.square_column is not None and not plausible_column(registration.square_column):
        return False
    titles = [t.box for t in template.front.texts if t.role.startswith("title")]
    if not titles:
        return False
    photo_to_mm = unstretch(registration.photo_to_mm, table_top_mm=template.table.box.y, stretch=stretch)
    for box in titles:
        patch = to_gray(rectify(bgr, photo_to_mm, box, px_per_mm=2.0))
        ink = float((relative_darkness(patch, kernel_px=9) > 0.15).mean())
        if not TITLE_INK[0] <= ink <= TITLE_INK[1]:
            return False
    return page_profile_match(bgr, photo_to_mm, template) >= PROFILE_MATCH


def squares_fit(frames_mm: list[tuple[float, float]], template: Template) -> bool:
    """Whether the printed squares found are of the size ``template``'s could be printed at.

    Parameters
    ----------
    frames_mm : (width, height) of the printed squares found, template mm. Widths only:
        heights carry the print's row stretch (see :func:`print_stretch`).
    """
    if not frames_mm:
        return False
    expected = float(np.median([o.square.w for o in template.options]))
    lo, hi = SQUARE_SIZE_RANGE
    return lo <= float(np.median([w for w, _ in frames_mm])) / expected <= hi


#: Layout confirmation: correlation of the print's ink profile down the page above the
#: table with the template's (see :func:`page_profile_match`) at least this.
PROFILE_MATCH = 0.85
#: Resolution and smoothing of the profile: blocks of print, not lines of text.
PROFILE_PX_PER_MM = 2.0
PROFILE_SMOOTH_MM = 2.0
#: Printing houses shift blocks by a few millimetres: the profiles may slide this much.
PROFILE_SHIFT_MM = 4.0
#: ...and print a few per cent larger or smaller, while the fit, made on the table, is
#: extrapolated 100 mm up the page: the profile may also be this much longer or shorter,
#: measured from the table up. (Three make eval sets: of 350 fronts, 292 matched at scale
#: 1 and 330 with these; the best of 81 other papers with a table rose from 0.69 to 0.75.)
PROFILE_SCALES = (0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.04, 1.06, 1.08)


def _ink_profile(gray: np.ndarray) -> np.ndarray:
    """(M,) float: mean darkness of each row of a page region, smoothed to blocks."""
    dark = relative_darkness(gray, kernel_px=int(8 * PROFILE_PX_PER_MM) | 1)
    profile = dark.mean(axis=1).astype(np.float32)
    sigma = PROFILE_SMOOTH_MM * PROFILE_PX_PER_MM
    return cv2.GaussianBlur(profile.reshape(-1, 1), (1, 0), sigmaX=0.1, sigmaY=sigma).ravel()


def _above_table(template: Template) -> Rect:
    table = template.table.box
    return Rect(table.x, 2.0, table.w, max(1.0, table.y - 4.0))


#: Rendered profiles, keyed by the printed side itself (two template folders may reuse an id).
_expected_profiles: dict[tuple[str, object], np.ndarray] = {}


def expected_profile(template: Template) -> np.ndarray:
    """The ink profile above the table of ``template`` as designed (rendered once per template)."""
    key = (template.id, template.front)
    if key not in _expected_profiles:
        from ..render import render_side

        side = render_side(template, "front", px_per_mm=PROFILE_PX_PER_MM)
        r = _above_table(template)
        k = PROFILE_PX_PER_MM
        crop = side.bgr[int(r.y * k):int(r.y2 * k), int(r.x * k):int(r.x2 * k)]
        _expected_profiles[key] = _ink_profile(to_gray(crop))
    return _expected_profiles[key]


def page_profile_match(bgr: np.ndarray, photo_to_mm: np.ndarray, template: Template) -> float:
    """Best normalised correlation (−1–1) of the photo's and the template's print profile.

    Down the page above the table a ballot has its emblem, two title blocks, the date and
    the instruction, each at its height: a pattern blur does not erase (blocks, not
    letters), and that a look-alike form with its own title and instruction does not share.
    """
    measured = _ink_profile(to_gray(rectify(bgr, photo_to_mm, _above_table(template), px_per_mm=PROFILE_PX_PER_MM)))
    expected = expected_profile(template)
    max_shift = int(PROFILE_SHIFT_MM * PROFILE_PX_PER_MM)
    best = -1.0
    for scale in PROFILE_SCALES:
        photo = _rescaled_from_end(measured, scale)
        n = min(len(photo), len(expected))
        for shift in range(-max_shift, max_shift + 1):
            a = photo[max(0, shift):n + min(0, shift)]
            b = expected[max(0, -shift):n - max(0, shift)]
            if len(a) < n // 2 or a.std() < 1e-6 or b.std() < 1e-6:
                continue
            best = max(best, float(np.corrcoef(a, b)[0, 1]))
    return best


def _rescaled_from_end(profile: np.ndarray, scale: float) -> np.ndarray:
    """``profile`` (M,) resampled so that what lies ``d`` before its last sample comes to
    lie ``d / scale`` before it (its end, the table's top, stays put)."""
    n = len(profile)
    index = np.arange(n, dtype=np.float64)
    return np.interp((n - 1) - ((n - 1) - index) * scale, index, profile).astype(np.float32)


def _for_ocr(patch: np.ndarray) -> np.ndarray:
    """Grey, shadow-free crop for Tesseract (kernel wider than any letter stroke at OCR_PX_PER_MM)."""
    return flatten_lighting(to_gray(patch), kernel_px=int(3 * OCR_PX_PER_MM))


def ocr_patch(bgr: np.ndarray, photo_to_mm: np.ndarray, region_mm: Rect, *,
              blur: BlurHypothesis | None = None) -> np.ndarray | None:
    """``region_mm`` rectified for Tesseract at ``OCR_PX_PER_MM``, ``blur`` undone; None
    where none of it is in the photo.

    What lies beyond the photo's edge is blank paper: repeated, the edge's pixels drew a
    bar code over a title cut by the frame, and Tesseract read nothing of the whole lines
    under it (a Mazhilis ballot whose title showed «МАЖИЛИСА ПАРЛАМЕНТА РЕСПУБЛИКИ
    КАЗАХСТАН, ИЗБИРАЕМЫХ ПО ПАРТИЙНЫМ СПИСКАМ» in full went to review as either form:
    make eval seed 2718281828, IMG_00114).

    Returns
    -------
    gray : (round(h * OCR_PX_PER_MM), round(w * OCR_PX_PER_MM)) uint8 ndarray, or None
    """
    inside = rectified_in_frame(bgr.shape, photo_to_mm, region_mm, px_per_mm=OCR_PX_PER_MM)
    if not inside.any():
        return None
    gray = _for_ocr(rectify(bgr, photo_to_mm, region_mm, px_per_mm=OCR_PX_PER_MM))
    if blur is not None:
        gray = wiener_deconvolve(gray, blur.kernel(OCR_PX_PER_MM))
    gray[~inside] = 255
    return gray


#: Title words shorter than this, or any official paper's (the country's name), prove nothing.
TITLE_WORD_LETTERS = 6
#: Text with this many of the forms' title words read whole, each this well, is a ballot's
#: title however little of it is legible: one is not enough, as everyday words are among
#: them («қаласы», city's; «расписка» matched «списком» at 0.8), read on other forms.
TITLE_WORDS_READ = 2
TITLE_WORD_MATCH = 0.9
COMMON_TITLE_WORDS = frozenset(normalise("ҚАЗАҚСТАН КАЗАХСТАН РЕСПУБЛИКАСЫ РЕСПУБЛИКИ").split())


def title_words(templates: Iterable[Template]) -> tuple[str, ...]:
    """The words of the templates' titles (every language) and of the instruction printed
    above their tables, of ``TITLE_WORD_LETTERS`` letters or more, normalised, each once,
    but the ``COMMON_TITLE_WORDS``."""
    texts = [text for t in templates for text in t.title.values()] + [
        line for t in templates for block in t.front.texts if block.role == "instruction" for line in block.lines]
    words = {w for text in texts for w in normalise(text).split()
             if len(w) >= TITLE_WORD_LETTERS and w not in COMMON_TITLE_WORDS}
    return tuple(sorted(words))


def reads_as_title(text: str, templates: Iterable[Template]) -> bool:
    """Whether ``text`` holds ``TITLE_WORDS_READ`` of the templates' :func:`title_words`,
    read whole at ``TITLE_WORD_MATCH`` or better, at distinct places."""
    read = {i for w in title_words(templates) for i in keyword_positions(text, w, TITLE_WORD_MATCH, WHOLE_WORD_SHARE)}
    return len(read) >= TITLE_WORDS_READ


def _best_keyword(text: str, words: tuple[str, ...], *, whole: bool = False, join: bool = True) -> float:
    """Best match of any of ``words`` in ``text``; ``whole``: only windows of at least
    ``WHOLE_WORD_SHARE`` of the word's length (proof needs the word, not a piece of it);
    ``join``: also words OCR split in two (see :func:`keyword_score`)."""
    share = WHOLE_WORD_SHARE if whole else MIN_WINDOW_SHARE
    return max((keyword_score(text, w, share, join) for w in words), default=0.0)


#: Confirming a ballot by its text takes a word read at this share of its length at least:
#: a look-alike form's garbled АРАМЕН matched ПАРЛАМЕНТ at 0.8 and its table was counted
#: as a Mazhilis vote (make eval seed 2793651698, IMG_01588). A shorter piece still keeps
#: the photo from being dismissed as another document.
WHOLE_WORD_SHARE = 0.75


#: A title read after undoing a blur counts only where this many of its words (ballot words
#: and form keywords, at distinct places) are read whole: undoing a wrong blur makes
#: garbage, among which a form's table read «партия» once (make eval seed 1644196684,
#: IMG_01114), while a title restored reads as several of its words.
RESTORED_TITLE_WORDS = 2


def words_read_whole(text: str, words: tuple[str, ...]) -> int:
    """How many places in ``text`` hold one of ``words`` read (nearly) whole (see
    ``WHOLE_WORD_SHARE``) at ``KEYWORD_MATCH`` or better."""
    return len({i for w in words for i in keyword_positions(text, w, KEYWORD_MATCH, WHOLE_WORD_SHARE)})


#: A table's name cell is this many times as wide as tall (2021: 156 × 30 mm; 2023: 108 × 22).
NAME_CELL_ASPECT = (3.0, 9.0)
#: Row height a name cell is rectified to for OCR (mm at OCR_PX_PER_MM): party names fill it.
NAME_CELL_HEIGHT_MM = 30.0
#: A column of names has at least this many cells of one size; a lone box (a back's
#: signature field, a form's field) is not worth an OCR call.
MIN_NAME_CELLS = 2
#: Cells of one column differ in each side by at most this fraction (perspective, blur).
NAME_CELL_SIZE_TOLERANCE = 0.25


def _long_axis(quad: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean long and short side lengths of a (4, 2) quad (pixels), and one long side as a vector."""
    edges = quad - np.roll(quad, 1, axis=0)  # edges[i] runs from corner i-1 to corner i
    sides = np.linalg.norm(edges, axis=1)
    a, b = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    return (float(a), float(b), edges[0]) if a >= b else (float(b), float(a), edges[1])


def reads_as_party_row(bgr: np.ndarray, cells: tuple[np.ndarray, ...], config: Config, *, tries: int = 1) -> bool:
    """Whether a column of name-shaped ``cells`` holds a party's name.

    A ballot whose square column is out of frame or covered leaves a ruled column of
    name cells and no table rows; read like that, it would be thrown away as no ballot.
    Only a column (``MIN_NAME_CELLS`` cells of one size) is read, largest cell first,
    each both ways up (a lone cell does not say which way is up).

    Parameters
    ----------
    cells : (4, 2) float32 quads in photo pixels (see ``LocateFailure.cells``).
    tries : how many cells of the column to read.
    """
    if not config.ocr.enabled:
        return False
    named = []
    for quad in cells:
        long, short, along = _long_axis(quad)
        if short > 0 and NAME_CELL_ASPECT[0] <= long / short <= NAME_CELL_ASPECT[1]:
            named.append((long, short, along, quad))
    if not named:
        return False
    named.sort(key=lambda e: -e[0] * e[1])
    top_long, top_short = named[0][:2]
    column = [e for e in named if abs(e[0] - top_long) <= NAME_CELL_SIZE_TOLERANCE * top_long
              and abs(e[1] - top_short) <= NAME_CELL_SIZE_TOLERANCE * top_short]
    if len(column) < MIN_NAME_CELLS:
        return False
    for _, _, along, quad in column[:tries]:
        for direction in (along, -along):
            right = direction / np.linalg.norm(direction)
            down = np.array([-right[1], right[0]], dtype=np.float32)
            ordered = order_quad(quad, right, down)
            height_px = float(np.linalg.norm(ordered[3] - ordered[0]))
            width_mm = float(np.linalg.norm(ordered[1] - ordered[0])) / max(height_px, 1.0) * NAME_CELL_HEIGHT_MM
            target = np.array([[0, 0], [width_mm, 0], [width_mm, NAME_CELL_HEIGHT_MM], [0, NAME_CELL_HEIGHT_MM]],
                              np.float32)
            photo_to_mm = cv2.getPerspectiveTransform(ordered.astype(np.float32), target)
            gray = ocr_patch(bgr, photo_to_mm, Rect(0, 0, width_mm, NAME_CELL_HEIGHT_MM))
            text = "" if gray is None else read_text(gray, languages=config.ocr.languages).text
            if _best_keyword(text, PARTY_WORDS) >= KEYWORD_MATCH:
                return True
    return False


def candidate_fits(observation: TableObservation, templates: dict[str, Template],
                   image_shape: tuple[int, ...]) -> list[tuple[Template, Registration]] | IdentifyFailure:
    """Templates whose table can hold the observed rows, each registered, best first.

    A template with as many rows as the table's outline spans comes first; larger ones
    follow (rows may be hidden by a finger or the frame), placed where the outline says;
    then smaller ones that still hold every row seen (the outline may take in print or
    shadow beyond the table). Last come the other placements of the seen rows in each
    template with rows hidden (the outline may miss a row cut off by the frame): the row
    names judge them too, and the first fit of each template is its outline's placement.
    """
    span = len(observation.rows)
    total = span + observation.rows_above + observation.rows_below
    exact = sorted((t for t in templates.values() if len(t.options) == total), key=lambda t: t.id)
    larger = sorted((t for t in templates.values() if len(t.options) > total), key=lambda t: (len(t.options), t.id))
    smaller = sorted((t for t in templates.values() if span <= len(t.options) < total),
                     key=lambda t: (-len(t.options), t.id))
    fits, others = [], []
    for template in exact + larger + smaller:
        for k, first_row in enumerate(first_row_candidates(observation, len(template.options))):
            reg = register(observation, template, first_row=first_row, image_shape=image_shape)
            if not isinstance(reg, RegisterFailure):
                (fits if k == 0 else others).append((template, reg))
    if not fits:
        return IdentifyFailure(f"a table of {total} rows matches no template")
    return fits + others


def outline_placements(fits: list[tuple[Template, Registration]]) -> list[tuple[Template, Registration]]:
    """The first fit of each template (see :func:`candidate_fits`), in order."""
    seen: set[str] = set()
    first = []
    for template, reg in fits:
        if template.id not in seen:
            seen.add(template.id)
            first.append((template, reg))
    return first


#: Row-name evidence reorders the candidate fits when at least this share of the best
#: fit's distinctive name words were read in the seen rows.
ROW_NAME_MATCH = 0.5


class RowNames(Enum):
    """What the party names read in the seen rows say of the candidate fits."""

    SETTLED = "settled"  # the first fit's names, and only its number of rows matches
    OPEN = "open"  # nothing that decides
    CONTRADICTED = "contradicted"  # another fit's names, not the geometric favourite's


def _name_similarity(text: str, template: Template, index: int) -> float:
    """Share (0–1) of the option's distinctive name words found in ``text`` (fuzzy, per word)."""
    return _words_found(text, template.options[index])


def _distinctive_words(option: Option, *, cyrillic_only: bool = False) -> list[str]:
    """The words of an option's names (both languages) that may tell it from others: not
    the generic party words, not the short ones; ``cyrillic_only``: not those in Latin
    letters either (the OCR models' script is Cyrillic: «Nur Otan» reads as «Миг Оғап»)."""
    generic = {normalise(w) for w in PARTY_WORDS}
    return [w for w in normalise(f"{option.kaz} {option.rus}").split() if len(w) >= 3 and w not in generic
            and not (cyrillic_only and re.search("[A-Za-z]", w))]


def _words_found(text: str, option: Option, *, whole: bool = False, cyrillic_only: bool = False) -> float:
    """Share (0–1) of ``option``'s distinctive name words found in ``text``: fuzzily, pieces
    of them too; or, with ``whole``, each read (nearly) whole as one word (see
    ``WHOLE_WORD_SHARE``), as proof needs. ``cyrillic_only``: see :func:`_distinctive_words`."""
    words = _distinctive_words(option, cyrillic_only=cyrillic_only)
    if not words:
        return 0.0
    if whole:
        return float(np.mean([keyword_score(text, w, WHOLE_WORD_SHARE, join=False) >= KEYWORD_MATCH for w in words]))
    return float(np.mean([keyword_score(text, w) >= KEYWORD_MATCH - 0.05 for w in words]))


#: Share of the points along the table's vertical rules, just beyond its first or last
#: row, that must be ink for the table to run on there.
RULES_CONTINUE = 0.6
#: How much darker than the paper 3 mm beside it a printed rule is (relative darkness).
RULE_CONTRAST = 0.25
#: ...and where this share of the samples (or more) is out of the photo, the frame cuts
#: within half a row of the table's end: what is left in frame is too little to show the
#: rules stop (make eval seed 2847561093, hard, IMG_00029: a four-party ballot cut half a
#: row below its second row, its few samples in frame blurred and noisy, was counted on
#: the two-party form).
RULES_OUT_OF_FRAME = 0.3


def table_may_continue(bgr: np.ndarray, registration: Registration, template: Template) -> bool:
    """Whether the table's vertical rules run on past its first or last fitted row.

    A row cut by the photo's edge shows as the separator and the right border carrying on
    beyond the last row seen in full (up to the edge); where a table ends, paper or text
    follows. Right at the photo's edge nothing can be seen: that counts as running on, as
    does a table whose end the edge comes within half a row of (``RULES_OUT_OF_FRAME``).
    """
    table = template.table.box
    pitch = float(np.median([o.row.h for o in template.options]))
    to_photo = np.linalg.inv(registration.photo_to_mm)
    h, w = bgr.shape[:2]
    kernel = max(9, int(0.02 * max(h, w))) | 1
    reach = max(2, int(round(1.2 / max(float(np.linalg.norm(registration.photo_to_mm[0, :2])), 1e-6))))
    # From 4 mm out: nearer, the table's own horizontal rule lies under both samples.
    steps = np.linspace(4.0, 0.5 * pitch, 12)
    for start, sign in ((table.y, -1.0), (table.y2, 1.0)):
        # On each vertical rule's line, and 3 mm to either side of it (paper, at least on one
        # side: the noise level).
        pts = np.float32([[x + dx, start + sign * d] for x in (registration.separator_x, table.x2)
                          for d in steps for dx in (0.0, -3.0, 3.0)])
        triples = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), to_photo).reshape(-1, 3, 2)
        in_frame = (triples[..., 0] >= 0) & (triples[..., 0] < w) & (triples[..., 1] >= 0) & (triples[..., 1] < h)
        # A rule's point with paper in frame on one side of it still tells: the right border
        # often runs within 3 mm of the photo's side, which hides no row (a whole, sharp
        # three-party maslikhat was sent to review so: make eval seed 3141592653, IMG_00046).
        usable = in_frame[:, 0] & (in_frame[:, 1] | in_frame[:, 2])
        if usable.sum() < (1.0 - RULES_OUT_OF_FRAME) * len(triples):
            return True
        inside, sides_in = triples[usable], in_frame[usable][:, 1:]
        # Darkness only around the samples (exact there: the margin covers the closing).
        margin = kernel + reach + 1
        points = np.concatenate([inside[:, 0], inside[:, 1:][sides_in]])
        x0, y0 = np.maximum(points.min(axis=0).astype(int) - margin, 0)
        x1, y1 = points.max(axis=0).astype(int) + margin + 1
        dark = relative_darkness(to_gray(bgr[y0:y1, x0:x1]), kernel_px=kernel)

        def darkest_near(u: float, v: float) -> float:
            # The rule may sit a millimetre off the fit: the darkest pixel within about 1 mm.
            r, c = int(v) - y0, int(u) - x0
            return float(dark[max(0, r - reach):r + reach + 1, max(0, c - reach):c + reach + 1].max())

        # Against the lighter side: a narrow square column brings the next row's square
        # within 3 mm of both rules (a 26 mm column: a Mazhilis table cut by the frame above
        # its first row was counted on the four-party form).
        ink = sum(darkest_near(*on) - min(darkest_near(*side) for side, seen in zip(sides, sides_seen) if seen)
                  > RULE_CONTRAST
                  for (on, *sides), sides_seen in zip(inside, sides_in))
        if ink >= RULES_CONTINUE * len(inside):
            return True
    return False


def square_beyond(bgr: np.ndarray, registration: Registration) -> bool:
    """Whether a printed square lies one row past an end of the fit where only the table's
    outline put that end's row.

    An outline that stops short of the table (a curl or fold kept the last rows' cells from
    closing) gives too few rows, and a form with fewer rows fits them; the next row's
    printed square gives the table's true end away.
    """
    seen = registration.seen_rows
    options = registration.template.options
    if not seen:
        return False
    ends = ([(0, -options[0].row.h)] if seen[0] > 0 else []) \
        + ([(len(options) - 1, options[-1].row.h)] if seen[-1] < len(options) - 1 else [])
    return any(score_option(bgr, registration, index, shift_mm=shift).score.visible for index, shift in ends)


def _whole_table(bgr: np.ndarray, template: Template, registration: Registration) -> bool:
    """Whether the fit shows its template's whole table: every row seen, and the rules
    ending with its first and last rows (see :func:`table_may_continue`)."""
    return all(h is not None for h in registration.cell_to_mm) \
        and not table_may_continue(bgr, registration, template)


RowReader = Callable[..., str]


def row_reader(bgr: np.ndarray, config: Config) -> RowReader:
    """Reads a fit's row name cell (OCR), each (fit, row, blur undone) once: the row-count
    and the row-set questions often need the same row. Call it as ``read(reg, index)``, or
    with ``blur=`` a :class:`~ballot_vision.deblur.BlurHypothesis` to undo first."""
    read: dict[tuple[int, int, str], str] = {}

    def text(reg: Registration, index: int, blur: BlurHypothesis | None = None) -> str:
        key = (id(reg), index, blur.label if blur is not None else "")
        if key not in read:
            # The table's fit, not the row's own (``homography_for``): that one is fitted to
            # the square's cell and, carried five cells' widths left, cut off the names'
            # first words (the whole fit read 94 of 141 rows' names right, the row's 85).
            gray = ocr_patch(bgr, reg.photo_to_mm, reg.name_cell(index), blur=blur)
            read[key] = "" if gray is None else read_text(gray, languages=config.ocr.languages).text
        return read[key]

    return text


#: At most this many seen rows' names are read (each an OCR call of about 0.1 s).
ROWS_READ = 3


def rank_by_row_names(bgr: np.ndarray, fits: list[tuple[Template, Registration]], config: Config, *,
                      rows_read: int = ROWS_READ,
                      read_row: RowReader | None = None) -> tuple[list[tuple[Template, Registration]], RowNames]:
    """Put first the fit whose party names for the seen rows are the ones printed there.

    A table cut by the photo's edge or a finger shows fewer rows than it has: three rows
    seen may be a three-party ballot or the first three of a four-party one, and the
    maslikhat titles do not say which. The party names in the rows do. The first seen
    row is read, and the next ones, up to ``rows_read``, while that does not settle it (a
    name in Latin letters, such as Nur Otan's, often reads as nothing like any party's:
    such a row is skipped).

    Returns the fits, the one the names put first first, and whether the names settled the
    number of rows (:attr:`RowNames.SETTLED`), left it open, or named another fit than the
    geometric favourite without settling it (:attr:`RowNames.CONTRADICTED`: the rows seen
    are not the ones the outline says, and how many there are is open).
    """
    template, reg = fits[0]
    seen = reg.seen_rows
    if not seen:
        return fits, RowNames.OPEN
    read_row = read_row or row_reader(bgr, config)
    row_counts = [len(t.options) for t, _ in fits]
    # Another placement of a form's rows only keeps the names from settling: one garbled
    # row matches some placement of an eight-row form by chance.
    outline = {id(r) for _, r in outline_placements(fits)}
    choosable = [id(r) in outline for _, r in fits]
    # Every fit registers the same observed rows: its seen rows pair up with ours.
    their_seen = [r.seen_rows for _, r in fits]
    # A fit's names must match in every row read that named some party: min, not mean.
    agreed = np.ones(len(fits))
    first = 0
    profiles: dict[int, float] = {}

    def profile(k: int) -> float:
        if k not in profiles:
            profiles[k] = page_profile_match(bgr, fits[k][1].photo_to_mm, fits[k][0])
        return profiles[k]
    for position in _rows_to_read([f for f, c in zip(fits, choosable) if c],
                                  [s for s, c in zip(their_seen, choosable) if c], len(seen), rows_read):
        index = seen[position]
        text = read_row(reg, index)
        if len(normalise(text)) < 6:
            continue
        scores = np.zeros(len(fits))
        for k, (t, _) in enumerate(fits):
            if len(their_seen[k]) == len(seen):
                scores[k] = _name_similarity(text, t, their_seen[k][position])
        if not scores.any():
            continue  # read as no party's name: says nothing
        agreed = np.minimum(agreed, scores)
        first, named = order_by_name_scores(list(agreed), row_counts, choosable)
        rivals = _rows_above_rivals(agreed, row_counts, their_seen) if not named and first == 0 else []
        if rivals:
            # The names fit as well a larger form whose first rows are hidden above the
            # seen ones: the People's Party, first on the five-party form, ran in a third
            # of maslikhats only, so every form without it is the next form's rows after
            # the first. Where the print above the table is where it is on a table that
            # starts at the first seen row, no row hides there (a sharp four-party ballot
            # cut by the frame below its last row went to review as either: make eval seed
            # 2236067977, IMG_00176). The first fit's print must match its template's, each
            # rival's not: a finger or the frame over the print above says nothing.
            if profile(0) >= PROFILE_MATCH and all(_print_above(fits[k][0]) and profile(k) < PROFILE_MISMATCH
                                                   for k in rivals):
                ruled_out = agreed.copy()
                ruled_out[rivals] = 0.0
                first, named = order_by_name_scores(list(ruled_out), row_counts, choosable)
        if named:
            return [fits[first]] + fits[:first] + fits[first + 1:], RowNames.SETTLED
    if first:
        # A form with the favourite's rows, placed alike, only lists other parties (one
        # maslikhat's three rows for another's): that says nothing of the rows.
        sibling = row_counts[first] == row_counts[0] and their_seen[first] == their_seen[0]
        return [fits[first]] + fits[:first] + fits[first + 1:], RowNames.OPEN if sibling else RowNames.CONTRADICTED
    return fits, RowNames.OPEN


def _rows_above_rivals(scores: np.ndarray, row_counts: list[int], their_seen: list[list[int]]) -> list[int]:
    """The fits that match the names (``ROW_NAME_MATCH``) with another number of rows than
    the first fit, where every one of them places rows above the seen ones and the first
    fit none; else none."""
    rivals = [k for k, sc in enumerate(scores) if sc >= ROW_NAME_MATCH and row_counts[k] != row_counts[0]]
    return rivals if their_seen[0][0] == 0 and all(their_seen[k][0] > 0 for k in rivals) else []


#: A fit whose print above the table correlates with its template's less than this (see
#: :func:`page_profile_match`) places its table elsewhere on the page than the photo shows.
PROFILE_MISMATCH = 0.5
#: ...where the template prints at least this much page above its table (a two-sided form's
#: party side may have only a margin there: a few millimetres correlate with anything).
PRINT_ABOVE_MM = 40.0


def _print_above(template: Template) -> bool:
    """Whether the template's front prints blocks above its table (``PRINT_ABOVE_MM`` of page
    or more) that :func:`page_profile_match` can find."""
    return _above_table(template).h >= PRINT_ABOVE_MM


def _rows_to_read(fits: list[tuple[Template, Registration]], their_seen: list[list[int]], n_seen: int,
                  rows_read: int) -> list[int]:
    """Positions among the seen rows in the order to read their names, at most ``rows_read``
    of them: the first seen row (the check on where the rows are), then those whose party
    tells apart the most pairs of fits with different numbers of rows (what the names are
    read for), in order down the table. A four-party maslikhat's first three rows can name
    the same parties as the five-party one's, and only its fourth row tells them apart (a
    sharp five-party ballot with its last row under a finger went to review as either: make
    eval seed 1414213562, IMG_00510).

    Where one row alone is to be read (geometry has settled the rows: the first is read as
    a check) and a fit with another number of rows names the same party as the first fit
    in it, the row that tells the most apart is read too: the check cannot tell those two
    apart. (Nur Otan heads the two- and the three-party maslikhats: a three-party ballot
    whose outline stopped at a fold after two rows was counted on the two-party form, its
    second row never read: second press, make eval seed 3316624790, IMG_00634.)
    """
    alike = [(t, seen) for (t, _), seen in zip(fits, their_seen) if len(seen) == n_seen]

    def party(fit: tuple[Template, list[int]], position: int) -> str:
        return fit[0].options[fit[1][position]].id

    def told_apart(position: int) -> int:
        return sum(len(a[0].options) != len(b[0].options) and party(a, position) != party(b, position)
                   for i, a in enumerate(alike) for b in alike[i + 1:])

    if not n_seen:
        return []
    rest = sorted(range(1, n_seen), key=lambda position: -told_apart(position))
    favourite = alike[0] if alike else None
    first_alike = favourite is not None and any(
        len(other[0].options) != len(favourite[0].options) and party(other, 0) == party(favourite, 0)
        for other in alike[1:])
    return [0, *rest][:2 if rows_read == 1 and first_alike else rows_read]


#: A fit displaces the first one by its row names when its names match this much better.
ROW_NAME_MARGIN = 0.25


def order_by_name_scores(scores: list[float], row_counts: list[int],
                         choosable: list[bool] | None = None) -> tuple[int, bool]:
    """Which fit the row names put first, and whether they settle the number of rows.

    Parameters
    ----------
    scores : per fit, the share (0–1) of its expected name words read in its seen rows;
        fit 0 is the geometric favourite.
    row_counts : per fit, its template's number of rows.
    choosable : per fit, whether the names may put it first (default: all); the others
        only count against settling.

    The names settle it when the favourite's match (``ROW_NAME_MATCH``) and every fit that
    matches as well has its number of rows; another choosable fit displaces the favourite
    when it matches, the favourite does not, and by ``ROW_NAME_MARGIN`` more (whether or not
    that settles the number of rows).
    """
    allowed = [i for i in range(len(scores)) if choosable is None or choosable[i] or i == 0]
    best = max(allowed, key=lambda i: (scores[i], -i))
    first = 0
    if scores[best] >= ROW_NAME_MATCH and scores[0] < ROW_NAME_MATCH and scores[best] - scores[0] >= ROW_NAME_MARGIN:
        first = best
    if scores[first] < ROW_NAME_MATCH:
        return 0, False
    if {n for n, sc in zip(row_counts, scores) if sc >= ROW_NAME_MATCH} != {row_counts[first]}:
        return first, False
    return first, True


def choose_template(bgr: np.ndarray, fits: list[tuple[Template, Registration]], config: Config, *,
                    stretch: float = 1.0, layout_ok: bool = False,
                    squares_found: tuple[bool, ...] | None = None,
                    blurs: tuple[BlurHypothesis, ...] = (), table_cut: bool = False,
                    marked: tuple[bool, ...] | None = None) -> Identification | IdentifyFailure:
    """Pick among the candidate fits by the text on the ballot, and make sure it is a ballot.

    Text with ballot words confirms a ballot; readable text without any is another form
    (a questionnaire with a table of squares must never be counted). Where no text can be
    read (blur, low resolution), ``layout_ok`` (see :func:`layout_matches`) confirms it;
    otherwise it stays unconfirmed, which sends it to review.

    Parameters
    ----------
    squares_found : per row of the first fit's template, whether its printed square was
        found: a printed square in every row only the outline suggested proves those rows.
    blurs : the photo's blur as measured on its squares (see
        :func:`ballot_vision.deblur.blur_hypotheses`): where the title read as it is
        neither confirms the ballot nor names its form, it is read again with each undone.
    table_cut : the table's rules run into the photo's edge beyond its seen rows (see
        :class:`~ballot_vision.stages.locate.TableObservation`): a larger form is as likely.
    marked : per row of the first fit's template, whether its square may hold a mark (or
        is hidden): only those rows' parties need to be known (see :func:`settle_row_set`).
    """
    outline_template, outline_reg = fits[0]
    unseen = outline_reg.unseen_rows
    outline_proved = squares_found is not None and bool(unseen) and all(squares_found[i] for i in unseen)
    # A table running out of the photo may have more rows than seen: a larger form is as
    # likely. And a smaller form that holds every row seen is as likely where the table's
    # rules end with it (the outline took in print or shadow beyond the table, not rows
    # hidden by a finger).
    rows = len(outline_template.options)
    larger = any(len(t.options) > rows for t, _ in fits)
    rows_uncertain = (
        (not outline_proved and any(not table_may_continue(bgr, r, t) for t, r in outline_placements(fits)
                                    if len(t.options) < rows))
        or (larger and (table_cut or table_may_continue(bgr, outline_reg, outline_template)
                        or square_beyond(bgr, outline_reg))))
    # The row names say which rows these are. Where geometry has settled it, the first seen
    # row's name is still read as a check (blur can hide where the rules run on), but only
    # where it has not are more read (an OCR call of about 70 ms a row).
    read_row = row_reader(bgr, config)
    if config.ocr.enabled and len({len(t.options) for t, _ in fits}) > 1:
        fits, names = rank_by_row_names(bgr, fits, config, rows_read=ROWS_READ if rows_uncertain else 1,
                                        read_row=read_row)
        # Names that contradict the outline's fit leave the rows open however sure it was (a
        # curled five-party maslikhat's outline showed four rows, the first named the
        # People's Party, and the four-party form was counted: make eval seed 3221853415,
        # hard, IMG_00359).
        # Unless the fit they name is the whole table: every row of it seen, and its rules
        # ending with it at both ends (a sharp, complete four-party maslikhat whose outline
        # took in a row's height of paper below it was sent to review: make eval seed
        # 3221853415, IMG_01593).
        if names == RowNames.CONTRADICTED:
            rows_uncertain = table_cut or not _whole_table(bgr, *fits[0])
        else:
            rows_uncertain = rows_uncertain and names != RowNames.SETTLED
    first_template, first_reg = fits[0]
    same_rows = [(t, r) for t, r in outline_placements(fits) if len(t.options) == len(first_template.options)]
    h = unstretch(first_reg.photo_to_mm, table_top_mm=first_template.table.box.y, stretch=stretch)
    ocr = read_side_text(bgr, first_template, h, config)
    text = ocr.text
    # Only words Tesseract was sure of can prove that this is some other document: a
    # blurred or low-resolution ballot title reads as confident-looking garbage otherwise.
    letters = ocr.confident_letters
    def ballot_words(text: str, whole: bool) -> float:
        return max(_best_keyword(text, BALLOT_WORDS, whole=whole),
                   max(_best_keyword(text, t.keywords, whole=whole) for t, _ in same_rows))

    restored_reads: list[str] = []
    def restored_titles() -> Iterator[tuple[BlurHypothesis, str]]:
        """The title read again with each blur hypothesis undone, where it then reads as a
        ballot title; each read at most once. Never evidence against a ballot: undoing
        the wrong blur makes garbage."""
        title_words = BALLOT_WORDS + tuple(w for t, _ in same_rows for w in t.keywords)
        for i, blur in enumerate(blurs if config.ocr.enabled else ()):
            if i == len(restored_reads):
                restored_reads.append(read_side_text(bgr, first_template, h, config, blur=blur).text)
            if words_read_whole(restored_reads[i], title_words) >= RESTORED_TITLE_WORDS:
                yield blur, restored_reads[i]

    ballot_evidence = ballot_words(text, whole=False)
    if letters >= READABLE_LETTERS and ballot_evidence < 0.7 and not layout_ok \
            and not reads_as_title(text, [t for t, _ in same_rows]):
        # (Words of the forms' own titles are no other document's: a ballot cut by the frame
        # through its title, read misplaced, gave «...ЛИХАЛА ГОРОДА НУР-СУЛТАН, ... ПОПАРТИЙНЫМ
        # СПИСКАМ» and was dismissed: make eval seed 3571942208, IMG_00022. Nor are its
        # instruction's: a fit a row off read it where the title should be, and a sharp vote
        # was dismissed: seed 2718281828, IMG_00223. Nor is a table whose whole printed layout
        # is the form's: a shaken title read as «ИЧВИНАЧЕНЫНЫЕЙ ВНИИЕТЕНЫ ... ИЗВИНАЕМЫХ НЫ
        # НАНТИЙНЫМ ВНИЕНАМ», 31 letters "surely", dismissed a vote: seed 2718281828, hard,
        # IMG_00140. Either only keeps the photo from being dismissed; what confirms a
        # ballot is below, and readable text is never confirmed by its layout.)
        return IdentifyFailure("a table with squares, but its text is not a ballot's", not_ballot=True)
    others = [t for t, _ in fits if len(t.options) != len(first_template.options)]
    if others and max(title_names(text, t) for t in others) >= KEYWORD_MATCH \
            and max(title_names(text, t) for t, _ in same_rows) < KEYWORD_MATCH:
        # The title names a form with other rows than these: rows are out of sight. (A
        # Mazhilis title read as «МАЖИПАСА ПАРПАМА НТА РЕСПУБЛИКИ» over a table whose first
        # row a finger hid was counted on the four-party maslikhat, make eval seed
        # 2193195749 hard, IMG_00217: "РЕСПУБЛИКИ", read whole, named it.)
        rows_uncertain = True
    confirmed = ballot_words(text, whole=True) >= KEYWORD_MATCH
    if not confirmed and config.ocr.enabled:
        # The title may be out of frame or blurred; the party names sit in the table itself.
        row_text = read_row(first_reg, 0)
        party_words = tuple(w for o in first_template.options for w in (o.kaz, o.rus) if w) + PARTY_WORDS
        confirmed = _best_keyword(row_text, party_words, whole=True) >= KEYWORD_MATCH
        text += "\n" + row_text
    extra = more_title_regions(first_template, config.ocr.languages) if config.ocr.enabled else []
    more: OcrText | None = None
    if not confirmed and extra:
        # So may the other language's title, where the first read missed (another press
        # set its titles at other heights: the first region held the date line, the other
        # «...АТЕЛЬНЫЙ БЮЛЛЕТЕНЬ |БОРАМ ДЕПУТАТОВ ... ИЗБИРАЕМЫХ ПО ПАРСЫСА СПИСКАМ», and a
        # vote went to review unconfirmed: second press, make eval seed 3316624790, IMG_00284).
        more = read_side_text(bgr, first_template, h, config, regions=extra)
        confirmed = ballot_words(more.text, whole=True) >= KEYWORD_MATCH
    restored_by = None
    if not confirmed:
        # A restored title holds ballot words read whole (see restored_titles): it confirms.
        restored = next(restored_titles(), None)
        if restored is not None:
            confirmed, restored_by, text = True, restored[0], text + "\n" + restored[1]
    by = "text" if confirmed else ""
    if not confirmed and layout_ok and letters <= LAYOUT_MAX_LETTERS:
        confirmed, by = True, "layout"
    if len(same_rows) == 1:
        template, reg = same_rows[0]
        return Identification(template, reg, certain=not rows_uncertain, ocr_text=text, confirmed=confirmed,
                              confirmed_by=by, restored_by=restored_by)

    templates = [t for t, _ in same_rows]
    # Form words are short, everyday words ("city's"), which Tesseract's Kazakh model also
    # makes up out of a blurred line: only those it was sure of name a form (a blurred
    # Mazhilis title read as garbage holding «Каласы» was counted on a maslikhat: make eval
    # seed 800942543, hard, IMG_00192).
    sure = ocr.confident_text
    order, certain = rank_by_title(text, templates, form_text=sure)
    if not certain and extra:
        # The other language's title may survive where the first did not (blur, glare).
        more = more or read_side_text(bgr, first_template, h, config, regions=extra)
        text, sure = text + "\n" + more.text, sure + "\n" + more.confident_text
        order, certain = rank_by_title(text, templates, form_text=sure)
    if not certain:
        # Every read must still agree, by the same margin, with the restored one (whose
        # title words were read whole: see restored_titles).
        for blur, restored in restored_titles():
            restored_order, certain = rank_by_title(text + "\n" + restored, templates,
                                                    form_text=sure + "\n" + restored)
            if certain:
                order, restored_by, text = restored_order, blur, text + "\n" + restored
                break
    # Forms of the chosen contest with these rows differ only in their parties (maslikhats
    # list those running there): the row names tell them apart. (In the order the names
    # already read put them: the title does not tell them apart.)
    siblings = [(t, r) for t, r in same_rows if t.contest == order[0].contest]
    # The marks were scored on the outline's fit: they say which rows matter where the
    # forms left have its rows, placed alike.
    placed_alike = marked is not None and len(siblings[0][0].options) == len(outline_template.options) \
        and siblings[0][1].unseen_rows == unseen
    needed = {i for i, m in enumerate(marked) if m} if placed_alike else None
    siblings, open_rows = settle_row_set(bgr, siblings, config, read_row=read_row, needed=needed, blurs=blurs)
    template, reg = siblings[0]
    whole_form_known = certain and not rows_uncertain
    return Identification(template, reg, certain=whole_form_known and not open_rows, ocr_text=text,
                          confirmed=confirmed, confirmed_by=by, restored_by=restored_by,
                          open_options=open_rows if whole_form_known and open_rows else None)


def settle_row_set(bgr: np.ndarray, fits: list[tuple[Template, Registration]], config: Config, *,
                   read_row: RowReader | None = None,
                   needed: set[int] | None = None,
                   blurs: tuple[BlurHypothesis, ...] = ()) -> tuple[list[tuple[Template, Registration]], tuple[str, ...]]:
    """Among forms of one contest with as many rows, placed alike, keep those whose parties
    are the ones named in the rows where they differ.

    A three-row maslikhat ballot may list Ak Zhol, Auyl or the People's Party beside Nur
    Otan and ADAL: geometry and title are the same, only a row's name tells. Each row where
    the forms still differ is read once (see :func:`row_party`); a row hidden, or whose
    name says nothing sure, decides nothing, and a vote in it goes to review. With
    ``needed`` (rows whose party the marks make matter), rows are read only until those
    are known: theirs first, then the others, which may rule forms out (an OCR call of
    about 70 ms a row, for a party a blank or an overvote does not need). A needed row
    whose name said nothing sure is read again with each of ``blurs`` undone (see
    :func:`choose_template`): of 24 votes left open on a stored set, 4 were then read, all
    right, where each would otherwise go to review.

    Returns
    -------
    fits : the forms kept, in their given order (the first is the one to read with)
    open_options : option ids of the first form in the rows where the kept forms still
        differ (empty when one form is left)
    """
    def differing(alive: list[int]) -> list[int]:
        rows = len(fits[0][0].options)
        return [i for i in range(rows) if len({fits[k][0].options[i].id for k in alive}) > 1]

    if not fits:
        return fits, ()
    parties = {o.id: o for t, _ in fits for o in t.options}
    alive = list(range(len(fits)))
    reg = fits[0][1]
    read_row = read_row or row_reader(bgr, config)
    rows = differing(alive) if config.ocr.enabled else []
    if needed is not None:
        rows = sorted(rows, key=lambda i: i not in needed)
    for index in rows:
        if needed is not None and not needed.intersection(differing(alive)):
            break
        candidates = {fits[k][0].options[index].id for k in alive}
        if len(candidates) < 2 or not reg.placed_between_seen(index):
            continue
        kept = row_party(read_row(reg, index), candidates, parties)
        for blur in blurs if not kept and needed is not None and index in needed else ():
            kept = row_party(read_row(reg, index, blur=blur), candidates, parties)
            if kept:
                break
        if kept:
            alive = [k for k in alive if fits[k][0].options[index].id in kept]
    if len(alive) > 1 and (needed is None or needed.intersection(differing(alive))):
        # Names too blurred to read still hold their print: a long name's row is darker
        # (see name_ink).
        ink = name_ink(bgr, reg)
        alive = [alive[i] for i in forms_by_name_ink(ink, [fits[k][0] for k in alive])]
    kept_fits = [fits[k] for k in alive]
    return kept_fits, tuple(kept_fits[0][0].options[i].id for i in differing(alive))


#: A row's name names a party when at least this many of its words are read whole...
ROW_NAME_WORDS = 2
#: ...and a name whose party words (партиясы, партия) are read whole this many times was
#: legible: a party of which not even a piece is there is not this row's.
LEGIBLE_PARTY_WORDS = 2


def row_party(text: str, candidates: set[str], parties: dict[str, Option]) -> set[str]:
    """Which of the ``candidates`` (option ids) a row whose name cell read as ``text`` may
    hold, by what it says of every party of the contest (``parties``); empty when it says
    nothing sure.

    The name may be proof: a party's words read whole (``ROW_NAME_MATCH`` of them, at least
    ``ROW_NAME_WORDS``), by ``ROW_NAME_MARGIN`` more than any other party's, *all* the
    contest's parties weighed (garbled text matches pieces of every name), or, against a
    party whose name shares words with its own (the People's Party's "Қазақстан",
    "Казахстана" are Ak Zhol's too), with a word only its name has read whole and none only
    the other's (see :func:`_told_apart`). A party named that
    is no candidate (the fit put another row here) proves nothing. Or the name was legible
    (``LEGIBLE_PARTY_WORDS``), holds no piece of any other party's words, and none of some
    candidates' words in Cyrillic letters: those are out.
    That is how Nur Otan's row is known, whose Latin letters Tesseract's Kazakh model reads
    as «Миг Оғап».
    """
    whole = {pid: _words_found(text, option, whole=True) for pid, option in parties.items()}

    def named(pid: str) -> bool:
        if whole[pid] < ROW_NAME_MATCH or round(whole[pid] * len(_distinctive_words(parties[pid]))) < ROW_NAME_WORDS:
            return False
        return all(whole[pid] - whole[other] >= ROW_NAME_MARGIN or _told_apart(text, parties[pid], parties[other])
                   for other in parties if other != pid)

    proved = [pid for pid in parties if named(pid)]
    if len(proved) == 1:
        return set(proved) & candidates
    outsiders = set(parties) - candidates
    if words_read_whole(text, PARTY_WORDS) >= LEGIBLE_PARTY_WORDS \
            and not any(_words_found(text, parties[pid]) > 0 for pid in outsiders):
        # (A piece of a party that is no candidate: the fit may have put another row here.)
        # Only words in the OCR models' script can be missed: a party named in Latin
        # letters alone is never out.
        absent = {pid for pid in candidates if _distinctive_words(parties[pid], cyrillic_only=True)
                  and _words_found(text, parties[pid], cyrillic_only=True) == 0}
        return candidates - absent if absent and absent != candidates else set()
    return set()


def _own_words(option: Option, other: Option) -> tuple[str, ...]:
    """``option``'s distinctive words that ``other``'s name does not hold, nor a word
    read (nearly) whole in one of them («Қазақстанның» holds «Қазақстан»)."""
    theirs = _distinctive_words(other)
    return tuple(w for w in _distinctive_words(option)
                 if not any(keyword_score(t, w, WHOLE_WORD_SHARE, join=False) >= KEYWORD_MATCH
                            or keyword_score(w, t, WHOLE_WORD_SHARE, join=False) >= KEYWORD_MATCH for t in theirs))


def _told_apart(text: str, option: Option, other: Option) -> bool:
    """Whether ``text`` holds a word of ``option``'s name that ``other``'s lacks, read whole,
    and none of ``other``'s that ``option``'s lacks. Names that share words match alike on
    those: Ak Zhol's row read «Қазақстанның демократиялық партиясы ... Казаястана» matched
    half the People's Party's words as well as half its own, «демократиялық» alone telling
    them apart (make eval seed 2290483117, IMG_00587: a vote left in review)."""
    def read(words: tuple[str, ...]) -> int:
        return sum(keyword_score(text, w, WHOLE_WORD_SHARE, join=False) >= KEYWORD_MATCH for w in set(words))
    return read(_own_words(option, other)) >= 1 and read(_own_words(other, option)) == 0


#: How much better the best form's title words must match than the next form's.
TITLE_MARGIN = 0.1
#: A form word names a form only when read (nearly) whole, as one word. They are short and
#: common in shape: blurred titles read as a hundred garbled words, among which "ҚАЛАСЫ"
#: matched 0.8 in 4 and "ГОРОДА" in 68 of 305 Mazhilis titles (make eval seed 430552106);
#: none of them reached 0.95, and a title that names its form whole rarely needs them.
#: Two fragments joined spelled "ҚАЛАСЫ" exactly in a defocused Mazhilis title (seed
#: 2793651698, hard, IMG_00041), so no joined words.
FORM_WORD_MATCH = 0.95


def title_names(text: str, template: Template, *, form_text: str | None = None,
                form_word_match: float = FORM_WORD_MATCH) -> float:
    """How well ``text`` names ``template`` (0–1): its best keyword, or a form word read whole
    as one word at ``form_word_match`` or better (in ``form_text``, where given)."""
    form = _best_keyword(text if form_text is None else form_text, template.form_words, whole=True, join=False)
    return max(_best_keyword(text, template.keywords), form if form >= form_word_match else 0.0)


def rank_by_title(text: str, templates: list[Template], *,
                  form_text: str | None = None) -> tuple[list[Template], bool]:
    """Order forms with the same rows by how well the title text names each; and whether it decides.

    A form is named by its ``keywords`` or its ``form_words`` (the kind of place in a
    maslikhat's title, "Republic" in the Mazhilis'): a half-legible title often keeps one of
    them. It decides when the best form's words match (``KEYWORD_MATCH``) and the next
    form's clearly less. Form words never confirm a ballot: that is ``keywords``' alone.
    ``form_text``: where form words are looked for instead of ``text`` (see
    :func:`choose_template`: the words Tesseract was sure of).
    """
    scored = sorted(((title_names(text, t, form_text=form_text), t.id, t) for t in templates),
                    key=lambda x: (-x[0], x[1]))
    order = [t for _, _, t in scored]
    # Forms of one contest share their title: it only has to tell the contests apart.
    # A rival's form word read nearly is doubt, though it is no proof: a shaken maslikhat
    # title's Kazakh line read «АЛАСЫ» (ҚАЛАСЫ, sure) and «ламент», which matched the
    # Mazhilis' ПАРЛАМЕНТ at 0.8, and the vote was counted on the Mazhilis (make eval seed
    # 605918237, IMG_00619).
    rivals = [title_names(text, t, form_text=form_text, form_word_match=0.0)
              for _, _, t in scored if t.contest != order[0].contest]
    if not rivals:
        return order, True
    return order, scored[0][0] >= KEYWORD_MATCH and scored[0][0] - max(rivals) >= TITLE_MARGIN
