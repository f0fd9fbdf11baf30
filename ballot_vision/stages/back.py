"""Recognise the back of a ballot and whether the issuing member signed it.

The back carries one structure: a long printed line for the signature of the precinct
commission member who issued the ballot, labelled in Kazakh and Russian, on an otherwise
blank page (a round stamp at most). We look for long thin straight lines printed *on paper*
(paper on both sides of the line: this rejects page edges and wood grain), and then:

- read the text beside the line, both ways up, and match the label's words: a confirmed back;
- where the label is too small or blurred to read, a line on a page that is blank apart from
  it is still very likely a back, but nothing proves it: an *unconfirmed* back, for review.

The signature is the pen ink along the line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ..config import Config
from ..imaging import chroma, flatten_lighting, relative_darkness, to_gray
from ..ocr import KEYWORD_MATCH, NOTHING_LEGIBLE, READABLE_LETTERS, keyword_positions, keyword_score, normalise, read_text
from ..results import Signature
from .score import stroke_length_px

#: Words of the signature label, grouped by meaning (Russian and Kazakh forms together).
LABEL_GROUPS = {
    "signature": ("ПОДПИСЬ", "ҚОЛЫ"),
    "issued": ("ВЫДАВШЕГО", "БЕРГЕН"),
    "commission": ("КОМИССИИ", "КОМИССИЯСЫ"),
    "precinct": ("УЧАСТКОВОЙ", "УЧАСКЕЛІК"),
    "member": ("ЧЛЕНА", "МҮШЕСІНІҢ"),
}
#: Groups only the label has: any official paper mentions a commission or a precinct.
LABEL_DISTINCTIVE = ("signature", "issued")
#: Label words this short must be read exactly (longer ones: ocr.KEYWORD_MATCH).
LABEL_EXACT_LETTERS = 5
#: The label's words lie within this many words of each other (one phrase).
LABEL_SPAN_WORDS = 12
#: Passes of the line search, each tried when the ones before found nothing: darkness
#: (relative to the paper) of the pixels a candidate line is traced through, and the
#: photo's long side over the width the paper level is taken across. A blurred rule is
#: grey, but so is a fold's crease, which would crowd out the rule if always included; a
#: rule smeared across its length by a shake is wider than the first width, and the paper
#: level taken across it comes out as dark as the rule.
LINE_PASSES = ((0.2, 150), (0.12, 150), (0.12, 60))
#: Distinct Hough lines examined per pass, at most (text-covered papers make hundreds).
MAX_LINES_EXAMINED = 80
#: At most this many lines printed on paper are kept (longest first) as signature-line candidates.
MAX_LINES_KEPT = 24
#: Two pieces of one line broken at a fold: at most this gap (share of the photo's long side)
#: and this bend between them, their inner ends at most JOIN_BEND of the joined length off it.
JOIN_GAP = 0.04
JOIN_ANGLE_DEG = 8.0
JOIN_BEND = 0.03
#: A candidate line is at least this share of the photo's long side.
MIN_LINE_FRACTION = 0.05
#: Pen stroke length along the line, as a share of the line's length, for present/absent.
SIGNATURE_PRESENT = 0.45
SIGNATURE_ABSENT = 0.12
#: A signature is judged only along a line at least this share of the photo's long side:
#: where the window above a shorter one is a few pixels tall, the label's own print comes
#: into it (a back mostly out of frame, 94 px of its line seen in a 1280-px photo, was read
#: as signed: make eval seed 2696187484, hard, IMG_00239). On 1,491 backs of 8 stored sets
#: this left 2 signatures unknown, 1 of them that one.
SIGNATURE_LINE_FRACTION = 0.1
#: Resolution of the rectified strips: the line becomes this many pixels long (label
#: capitals of about 2.3 mm on a ~120 mm line come out about 20 px tall).
STRIP_LINE_PX = 1100
#: ...and of the strips read by OCR (capitals about 14 px tall). Tesseract's time grows
#: with the strip's pixels, and blurred print reads as well or better smaller: on 853
#: backs of two stored make eval sets, 770 px instead of 1100 took 350 ms a back on
#: average instead of 565, and confirmed 545 labels instead of 539 (the signature right
#: on every back decided, both ways); on 271 hard backs, 790 ms instead of 1356, 83
#: instead of 77. (550 px read as well again on those sets, but leaves less room for a
#: label printed smaller than ours.)
TEXT_LINE_PX = 770
#: Paper beside the line: at most this much brighter on one side than the other, and at
#: most this colourful (Lab chroma; wood and cloth are more colourful than paper).
SIDE_BALANCE = 0.18
PAPER_CHROMA = 24.0
#: Readable text with this many of the label's word groups in one phrase is the label read
#: too poorly to confirm (its distinctive words garbled), not another paper's: it is read in
#: the other language, and the back goes to review unconfirmed if that does not confirm it.
#: A back on a pile of papers, whose strip takes in their print beside the label, was
#: dismissed as no ballot otherwise (make eval seed 3736675841 hard, IMG_00312:
#: "учоскелік ... комиссиясы мүшесі қола пәдпис членә"). A protocol's "участковой
#: избирательной комиссии" holds two.
LABEL_LIKE_GROUPS = 3
#: Candidate lines whose label is read at most (OCR of a blurred strip is slow)...
MAX_OCR_TRIES = 3
#: ...and then lines with the label read as a caption under them (see ``CAPTION_ACROSS``).
CAPTION_OCR_TRIES = 1
#: Where the label is read beside a line (line lengths across it, negative above): above
#: the line, or as a caption under it with the signature's room above.
LABEL_STRIP = (-0.35, 0.1)
CAPTION_STRIP = (-0.15, 0.3)
#: ...and along it: from a little before the line's start, or, where that read only part
#: of the label, from up to two line lengths before it (a label set beside the line).
LABEL_ALONG = (-0.6, 1.1)
LABEL_BESIDE_ALONG = (-2.0, 1.1)
#: Ink share beside the line on its label's side, below which there is no label.
LABEL_INK = 0.004
#: Share of a rule's length that must be dark (a row of text has gaps).
CONTINUOUS = 0.9
#: Ink share of the page beyond the label, above which the page is not a back's blank one.
BLANK_PAGE_INK = 0.03
#: Gaussian smoothing (px, at 200 px per line length) before measuring those ink shares.
INK_SMOOTH_PX = 1.0


@dataclass(frozen=True)
class BackReading:
    """What the back stage saw.

    is_back : a signature line on paper was found and the page looks like a ballot's back.
    confirmed : the label's words were read (False: too small or blurred to read).
    """

    is_back: bool
    signature: Signature
    label_text: str = ""
    # Whether the text around the lines looked like a ballot at all (a front we failed on).
    ballot_words: float = 0.0
    confirmed: bool = False


@dataclass(frozen=True)
class _Line:
    p0: np.ndarray  # (2,) float32 photo px
    p1: np.ndarray

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.p1 - self.p0))


def _line_darkness(gray: np.ndarray, *, per_long_side: int = 150) -> np.ndarray:
    """(M, N) float32: darkness relative to the paper, noise smoothed, for tracing rules.

    ``per_long_side``: the paper level is taken across the long side over this (px), at least 7.
    """
    return relative_darkness(cv2.GaussianBlur(gray, (0, 0), 1.0), kernel_px=max(7, max(gray.shape) // per_long_side))


def _candidate_lines(dark: np.ndarray, *, darkness: float,
                     keep: Callable[[_Line], bool] = lambda line: True) -> list[_Line]:
    """Long straight thin segments darker than ``darkness`` in ``dark`` (see :func:`_line_darkness`),
    longest first (at most ``MAX_LINES_KEPT`` that pass ``keep``, collinear ones merged).

    ``keep`` filters before the cap: rows of text on other papers in the picture make
    longer "lines" than the rule and would crowd it out.
    """
    long_side = max(dark.shape)
    ink = (dark > darkness).astype(np.uint8) * 255
    min_len = MIN_LINE_FRACTION * long_side
    segments = cv2.HoughLinesP(ink, 1, np.pi / 360, threshold=int(min_len * 0.6),
                               minLineLength=min_len, maxLineGap=max(3, long_side // 300))
    if segments is None:
        return []
    found: list[_Line] = []
    seen: list[_Line] = []
    for x0, y0, x1, y1 in sorted(segments.reshape(-1, 4).tolist(), key=lambda s: -np.hypot(s[2] - s[0], s[3] - s[1])):
        line = _Line(np.float32([x0, y0]), np.float32([x1, y1]))
        if any(_same_line(line, other) for other in seen):
            continue
        seen.append(line)
        if keep(line):
            found.append(line)
        if len(found) >= MAX_LINES_KEPT or len(seen) >= MAX_LINES_EXAMINED:
            break
    # Hough finds a long rule in pieces where something crosses it or the paper curls it a
    # little: the rule is followed on from each piece (a signature across a curled rule left
    # a piece beside it, and the signature was read as absent: make eval seed 4210495658,
    # IMG_00490). A rule bent at a fold stays in pieces, which _joined joins. A row of text
    # followed on is not dark all along (gaps between letters and words): it stays as found.
    traced: list[_Line] = []
    for piece in found:
        line, dark_share = _traced(dark, piece, darkness=darkness)
        line = line if dark_share >= CONTINUOUS else piece
        if not any(_same_line(line, other) and _same_line(other, line) for other in traced):
            traced.append(line)
    return sorted(traced + _joined(traced, long_side), key=lambda line: -line.length)


#: Following a rule (see :func:`_traced`): steps along it (px), how far across each step
#: looks for it (px), how far it may turn away from the piece's direction (degrees: paper
#: curl bends a rule by a degree or so, a fold's crease by several), and the longest
#: stretch it may fade over, as a share of the photo's long side (a glint, a crease).
TRACE_STEP_PX = 2
TRACE_ACROSS_PX = 2
TRACE_TURN_DEG = 2.0
TRACE_GAP = 0.01


def _traced(dark: np.ndarray, line: _Line, *, darkness: float) -> tuple[_Line, float]:
    """``line`` carried on at both ends as far as the dark rule it lies on runs straight on.

    Parameters
    ----------
    dark : (M, N) float32 ndarray, relative darkness (see :func:`_line_darkness`).
    darkness : what counts as the rule's ink.

    Returns
    -------
    line : the chord between the ends reached (``line`` itself where it runs no further).
    dark_share : the share of the steps beyond ``line`` that found the rule (1 where none).
    """
    h, w = dark.shape
    max_gap = max(TRACE_STEP_PX, TRACE_GAP * max(h, w))
    length = max(line.length, 1e-6)
    ux, uy = float(line.p1[0] - line.p0[0]) / length, float(line.p1[1] - line.p0[1]) / length
    nx, ny = -uy, ux
    turn = float(np.tan(np.radians(TRACE_TURN_DEG)))
    ends = []
    steps = found = 0  # up to the last step that found the rule
    for (ex, ey), sign in (((float(line.p0[0]), float(line.p0[1])), -1.0), ((float(line.p1[0]), float(line.p1[1])), 1.0)):
        since, gap, travelled = 0, 0.0, 0.0
        px, py = last = (ex, ey)
        while gap <= max_gap:
            px, py, travelled = px + sign * TRACE_STEP_PX * ux, py + sign * TRACE_STEP_PX * uy, travelled + TRACE_STEP_PX
            best, best_at, in_photo = darkness, None, False
            for k in range(-TRACE_ACROSS_PX, TRACE_ACROSS_PX + 1):
                x, y = px + k * nx, py + k * ny
                xi, yi = int(round(x)), int(round(y))
                if not (0 <= xi < w and 0 <= yi < h):
                    continue
                in_photo = True
                # Only where the rule runs on (nearly) straight from the piece. (Pixel by
                # pixel in plain Python: a walk is a few hundred looks of five pixels.)
                if abs((x - ex) * nx + (y - ey) * ny) <= TRACE_ACROSS_PX + turn * travelled:
                    value = dark.item(yi, xi)
                    if value > best:
                        best, best_at = value, (x, y)
            if not in_photo:
                break
            since += 1
            if best_at is not None:
                px, py = last = best_at
                gap, steps, found, since = 0.0, steps + since, found + 1, 0
            else:
                gap += TRACE_STEP_PX
        ends.append(last)
    return _Line(np.float32(ends[0]), np.float32(ends[1])), found / steps if steps else 1.0


def _joined(lines: list[_Line], long_side: int) -> list[_Line]:
    """Lines made of two of ``lines`` that continue each other across a short gap at a slight bend.

    A fold through the signature line breaks it at the crease into two pieces, each too
    short for the label beside it to be where the whole line puts it.
    """
    joins: list[_Line] = []
    max_gap = JOIN_GAP * long_side
    for i, a in enumerate(lines):
        u = (a.p1 - a.p0) / a.length
        for b in lines[i + 1:]:
            v = (b.p1 - b.p0) / b.length
            if abs(float(u @ v)) < np.cos(np.radians(JOIN_ANGLE_DEG)):
                continue
            q0, q1 = (b.p0, b.p1) if float(u @ v) > 0 else (b.p1, b.p0)  # b in a's direction
            first, second = ((a.p0, a.p1), (q0, q1)) if float((q0 - a.p0) @ u) > 0 else ((q0, q1), (a.p0, a.p1))
            if np.linalg.norm(second[0] - first[1]) > max_gap:
                continue
            overlap = float((first[1] - second[0]) @ u)
            if overlap > 0.5 * min(a.length, b.length):
                continue
            chord = _Line(np.float32(first[0]), np.float32(second[1]))
            w = (chord.p1 - chord.p0) / max(chord.length, 1e-6)
            normal = np.array([-w[1], w[0]], dtype=np.float32)
            # The pieces' inner ends lie on the chord, or the join would cut across the label.
            if max(abs(float((p - chord.p0) @ normal)) for p in (first[1], second[0])) > JOIN_BEND * chord.length:
                continue
            joins.append(chord)
    return joins


def _same_line(a: _Line, b: _Line) -> bool:
    d = a.p1 - a.p0
    n = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
    return abs(float((b.p0 - a.p0) @ n)) < 6 and abs(float((b.p1 - a.p0) @ n)) < 6


def _on_paper(gray: np.ndarray, bgr: np.ndarray, line: _Line) -> bool:
    """Whether ``line`` is printed on paper: darker than, and with similar plain paper on both sides."""
    u = (line.p1 - line.p0) / line.length
    n = np.array([-u[1], u[0]], dtype=np.float32)
    t = np.linspace(0.05, 0.95, 60)[:, None]
    along = line.p0 + t * (line.p1 - line.p0)
    offset = max(4.0, 0.03 * line.length)
    h, w = gray.shape

    def sample(image: np.ndarray, points: np.ndarray) -> np.ndarray:
        x = np.clip(np.round(points[:, 0]).astype(int), 0, w - 1)
        y = np.clip(np.round(points[:, 1]).astype(int), 0, h - 1)
        return image[y, x]

    on = np.minimum.reduce([sample(gray, along + k * n) for k in (-2, -1, 0, 1, 2)])
    sides = [sample(gray, along + s * offset * n) for s in (-1, 1)]
    a, b = float(np.median(sides[0])), float(np.median(sides[1]))
    if min(a, b) < 1.2 * float(np.median(on)) or abs(a - b) > SIDE_BALANCE * max(a, b):
        return False
    # A printed rule is dark all along; a row of text (which Hough also takes for a line)
    # has gaps between letters and words.
    if float(np.mean(on < 0.85 * min(a, b))) < CONTINUOUS:
        return False
    # (Colour only where it is sampled: a whole 12-MP photo's would cost 40 ms.)
    side_chroma = [float(np.median(chroma(sample(bgr, along + s * offset * n)[:, None]))) for s in (-1, 1)]
    return max(side_chroma) <= PAPER_CHROMA


def _frame(line: _Line, flip: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The line's frame: its start, the unit vector along it and the one "down" from it
    (towards the page below a signature line); ``flip`` turns it upside down."""
    p0, p1 = (line.p1, line.p0) if flip else (line.p0, line.p1)
    u = (p1 - p0) / line.length
    return p0, u, np.array([-u[1], u[0]], dtype=np.float32)


def _strip(bgr: np.ndarray, line: _Line, *, along: tuple[float, float], across: tuple[float, float],
           flip: bool, line_px: int = STRIP_LINE_PX) -> np.ndarray:
    """Rectify a strip in the line's frame; units are line lengths. ``flip`` reads it upside down."""
    p0, u, n = _frame(line, flip)
    w = int((along[1] - along[0]) * line_px)
    h = int((across[1] - across[0]) * line_px)
    origin = p0 + u * along[0] * line.length + n * across[0] * line.length
    scale = line.length / line_px
    src = np.float32([origin, origin + u * w * scale, origin + u * w * scale + n * h * scale])
    dst = np.float32([[0, 0], [w, 0], [w, h]])
    m = cv2.getAffineTransform(src, dst)
    interpolation = cv2.INTER_AREA if scale > 1 else cv2.INTER_CUBIC
    return cv2.warpAffine(bgr, m, (w, h), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)


def _ink_share(bgr: np.ndarray, line: _Line, *, along: tuple[float, float], across: tuple[float, float],
               flip: bool) -> float:
    """Share of ink pixels in a region of the line's frame (at a coarse 200 px per line length)."""
    strip = _strip(bgr, line, along=along, across=across, flip=flip, line_px=200)
    # Smoothed first: the paper closing follows the brightest grains of a noisy photo, and
    # against that level the paper's own grain reads as ink.
    return float((relative_darkness(cv2.GaussianBlur(to_gray(strip), (0, 0), INK_SMOOTH_PX), kernel_px=15) > 0.25).mean())


def _page_is_blank(bgr: np.ndarray, line: _Line, flip: bool) -> bool:
    """A back's page holds the label near the line and little else (a stamp at most)."""
    return _ink_share(bgr, line, along=(-0.3, 1.0), across=(-0.9, -0.35), flip=flip) <= BLANK_PAGE_INK


def _label_words(text: str) -> dict[str, list[int]]:
    """Word positions in ``text`` of each of the label's word groups (see LABEL_GROUPS)."""
    at: dict[str, list[int]] = {}
    for group, keys in LABEL_GROUPS.items():
        for key in keys:
            need = 1.0 if len(normalise(key)) <= LABEL_EXACT_LETTERS else KEYWORD_MATCH
            at.setdefault(group, []).extend(keyword_positions(text, key, need))
    return at


def is_signature_label(text: str) -> bool:
    """Whether OCR text is the signature label: two of its word groups, one of them distinctive,
    within one phrase.

    "Commission" alone, or with "precinct", is on many documents that are no ballot's back.
    A fuzzy match of a short word (ҚОЛЫ) is met by any three-letter word, and a line of OCR
    garbage from a page of print holds a few such by chance, scattered: short words must be
    read exactly, and the label's words must lie within a few words of each other.
    """
    at = _label_words(text)
    return any(abs(i - j) <= LABEL_SPAN_WORDS
               for group in LABEL_DISTINCTIVE for i in at[group]
               for other, js in at.items() if other != group for j in js)


def label_groups(text: str) -> int:
    """The most of the label's word groups found within one phrase of ``text`` (0–5)."""
    at = _label_words(text)
    anchors = [i for js in at.values() for i in js]
    return max((sum(any(abs(i - j) <= LABEL_SPAN_WORDS for j in js) for js in at.values()) for i in anchors),
               default=0)


#: Another line this close beyond a candidate (line lengths, on its page's side), nearly
#: parallel and about as long, makes the candidate a row of the label's own print, blurred into a line, with
#: the signature line under it: the label's other row above it would read as a signature.
RULE_BEYOND = (0.02, 0.25)
RULE_BEYOND_ANGLE_DEG = 5.0
#: ...and at least this share of its length: a signature's long stroke under the line is not.
RULE_BEYOND_LENGTH = 0.7


def _rule_beyond(line: _Line, flip: bool, others: list[_Line], *,
                 reach: tuple[float, float] = RULE_BEYOND, length: float = RULE_BEYOND_LENGTH) -> bool:
    """Whether one of ``others``, at least ``length`` times as long, runs along ``line`` just
    beyond it, on its page's side, ``reach`` line lengths off (see ``RULE_BEYOND``): the line
    is then no signature line, whatever lies above it."""
    p0, u, n = _frame(line, flip)
    for other in others:
        if other is line or other.length < length * line.length:
            continue
        v = (other.p1 - other.p0) / other.length
        if abs(float(np.dot(u, v))) < np.cos(np.radians(RULE_BEYOND_ANGLE_DEG)):
            continue
        middle = (other.p0 + other.p1) / 2 - p0
        along, across = float(np.dot(middle, u)) / line.length, float(np.dot(middle, n)) / line.length
        if reach[0] < across <= reach[1] and -0.1 <= along <= 1.1:
            return True
    return False


#: Just under a line (line lengths), where the next row of print lies under a row of a label
#: taken for a line (rows of a 2.3-mm label are 0.02-0.05 of a 55-120 mm line apart).
NEAR_MARGIN = (0.015, 0.06)


def _margin_is_blank(bgr: np.ndarray, line: _Line, flip: bool) -> bool:
    """Below the signature line lies the page's bottom margin; below a row of text, more text."""
    return _ink_share(bgr, line, along=(0.0, 1.0), across=(0.06, 0.2), flip=flip) <= BLANK_PAGE_INK


#: Where a signature is looked for: from this far above the line to this far below it
#: (line lengths of the whole rule; the design leaves about 0.15 between the label's last
#: row and the line, and at 0.14 a label's descenders came into reach: make eval seed
#: 1006140169, IMG_00360, read as signed once its rule was followed to its ends).
SIGNATURE_ACROSS = (-0.12, 0.04)
#: ...and above a line with its label printed under it, as a caption: only down to the line
#: (a caption 1.5 mm under a 55-mm line starts 0.03 line lengths below it).
SIGNATURE_ABOVE = (-0.12, 0.0)
#: Where a caption under the line is read (line lengths below it).
CAPTION_ACROSS = (0.0, 0.3)
#: Above a caption's line, a band higher than a signature reaches (13 mm over a 55-mm line
#: is 0.24 line lengths), within a stamp's reach (30-45 mm across).
ABOVE_SIGNATURE = (-0.45, -0.25)


def _signature(bgr: np.ndarray, line: _Line, flip: bool, *,
               across: tuple[float, float] = SIGNATURE_ACROSS) -> Signature:
    """Pen strokes just above the line (and, by default, crossing it), relative to the
    line's length; ``across``: the window, in line lengths (negative: above)."""
    strip = _strip(bgr, line, along=(0.0, 1.0), across=across, flip=flip, line_px=700)
    # Smoothed first: upsampled sensor noise would otherwise read as a dust of short strokes.
    dark = relative_darkness(cv2.GaussianBlur(to_gray(strip), (0, 0), 1.5), kernel_px=25)
    ink = (dark > max(0.2, 2.2 * float(np.median(dark)))).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    ink = (stats[labels, cv2.CC_STAT_AREA] >= 40).astype(np.uint8) * (labels > 0)
    # The printed line (and any other long straight horizontal rule) is not handwriting;
    # an opening with a long flat kernel finds it even where it runs slightly askew.
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (70, 1)))
    rules = cv2.dilate(rules, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 7)))
    ink = (ink > 0) & (rules == 0)
    length = stroke_length_px(ink) / 700
    if length >= SIGNATURE_PRESENT:
        return Signature.PRESENT
    if length <= SIGNATURE_ABSENT:
        return Signature.ABSENT
    return Signature.UNKNOWN


#: A "signature" that reads as this many of the label's word groups is the label's own
#: print: the line under it is a row of the label's text, which a long row of small print
#: passes for (5 of the 7 unsigned backs read as signed without review among 997 backs of
#: make eval seeds 1006140169, 3736675841 and 1649070854).
LABEL_ROW_GROUPS = 2


def _text_strip(bgr: np.ndarray, line: _Line, *, along: tuple[float, float], across: tuple[float, float],
                flip: bool) -> np.ndarray:
    """A region of the line's frame (see :func:`_strip`), grey and shadow-free for OCR."""
    strip = _strip(bgr, line, along=along, across=across, flip=flip, line_px=TEXT_LINE_PX)
    return flatten_lighting(to_gray(strip), kernel_px=TEXT_LINE_PX // 40)


def _print_is_label(bgr: np.ndarray, line: _Line, flip: bool, config: Config, *,
                    along: tuple[float, float] = (0.0, 1.0),
                    across: tuple[float, float] = SIGNATURE_ACROSS) -> bool:
    """Whether a region of the line's frame (by default where a signature would be, see
    :func:`_signature`) reads as the label's words."""
    strip = _text_strip(bgr, line, along=along, across=across, flip=flip)
    return label_groups(read_text(strip, languages=config.ocr.languages).text) >= LABEL_ROW_GROUPS


def _signature_not_label(bgr: np.ndarray, line: _Line, flip: bool, config: Config, *,
                         across: tuple[float, float] = SIGNATURE_ACROSS) -> Signature | None:
    """The signature in the window ``across`` (see :func:`_signature`); None where the
    "strokes" read as the label's words: its own print, the "line" a row of it."""
    signature = _signature(bgr, line, flip, across=across)
    if signature == Signature.PRESENT and _print_is_label(bgr, line, flip, config, across=across):
        return None
    return signature


#: A "line" at least this many times as thick as the line above it is a row of print.
CAPTION_ROW_THICKER = 2.0
#: Another line this far above a line (line lengths), at least this share of its length,
#: makes it no caption's line.
CAPTION_LINE_ABOVE = (0.01, 0.15)
CAPTION_LINE_ABOVE_LENGTH = 0.3


def _thickness_px(bgr: np.ndarray, line: _Line) -> float:
    """How thick ``line`` is (px of the photo): the width of its darkness across it at
    half its depth, averaged along it. A printed rule is thinner than a row of print."""
    line_px = max(400, int(line.length))
    strip = _strip(bgr, line, along=(0.05, 0.95), across=(-0.05, 0.05), flip=False, line_px=line_px)
    profile = to_gray(strip).astype(np.float32).mean(axis=1)
    depth = float(np.percentile(profile, 90)) - profile
    centre = int(np.argmax(depth))
    inside = depth >= depth[centre] / 2
    lo = centre - int(np.argmin(inside[centre::-1])) + 1 if not inside[:centre + 1].all() else 0
    hi = centre + int(np.argmin(inside[centre:])) - 1 if not inside[centre:].all() else len(inside) - 1
    return (hi - lo + 1) * line.length / line_px


def _signature_by_label(bgr: np.ndarray, line: _Line, flip: bool, config: Config, *,
                        lines: list[_Line], smeared: bool, under: bool | None = None) -> Signature | None:
    """The signature along a line whose label was read beside it, the page upright in
    ``flip``'s frame; None where "the line" is a row of the label's own print.

    Printing houses put the label above the line, or under it as a caption, and the
    signature always goes above the line. Below a line with its label above lies the page's
    margin; below a row of the label's text, more text (which blur can turn into a
    "line"): print under the line leaves the signature unknown, unless that print is the
    label itself, right under the line with no other of the ``lines`` found below it (a row
    of a label above its line has that line below it, see :func:`_rule_beyond`), and
    nothing reaching into the signature's room from above (``ABOVE_SIGNATURE``); or unless
    it lies apart from the line, paper between (``NEAR_MARGIN``), with no line below.
    ``under``: whether the label is known to be printed under the line (None: read it
    where needed).
    """
    if smeared or line.length < SIGNATURE_LINE_FRACTION * max(bgr.shape[:2]):
        return Signature.UNKNOWN
    if not under and _margin_is_blank(bgr, line, flip):
        return _signature_not_label(bgr, line, flip, config)
    if under is None:
        under = _print_is_label(bgr, line, flip, config, along=(-0.1, 1.1), across=CAPTION_ACROSS)
    if not under:
        # Print further down, with paper between it and the line, is no next row of a label
        # (that lies right under its last): a printer's imprint at the foot of the page, under
        # a line with its label to its left (make eval seed 605918237, second press, IMG_00030).
        if _ink_share(bgr, line, along=(0.0, 1.0), across=NEAR_MARGIN, flip=flip) > BLANK_PAGE_INK \
                or _rule_beyond(line, flip, lines):
            return Signature.UNKNOWN
        return _signature_not_label(bgr, line, flip, config)
    # A caption's line is the block's top: a "line" with another just above it is a row of
    # the caption under its rule (make eval seed 605918237, second press, IMG_00432). And
    # the caption's rows, found as "lines" too, are thicker than the rule above them.
    own = _thickness_px(bgr, line)
    rules_below = [other for other in lines
                   if other is not line and _thickness_px(bgr, other) < CAPTION_ROW_THICKER * own]
    if _rule_beyond(line, not flip, lines, reach=CAPTION_LINE_ABOVE, length=CAPTION_LINE_ABOVE_LENGTH) \
            or _rule_beyond(line, flip, rules_below, reach=(RULE_BEYOND[0], CAPTION_ACROSS[1])):
        return Signature.UNKNOWN
    if _ink_share(bgr, line, along=(0.0, 1.0), across=ABOVE_SIGNATURE, flip=flip) > BLANK_PAGE_INK:
        # Nothing bounds the signature's room from above: ink reaching down into it from
        # higher up than a signature goes is a stamp's or some print's (a stamp over an
        # unsigned caption's line was read as signed: make eval seed 605918237, second
        # press, IMG_00566).
        return Signature.UNKNOWN
    return _signature_not_label(bgr, line, flip, config, across=SIGNATURE_ABOVE)


def read_back(bgr: np.ndarray, config: Config) -> BackReading:
    """Decide whether a photo (with no option table found) shows a ballot's back.

    Parameters
    ----------
    bgr : (M, N, 3) uint8 ndarray, the photo (any rotation).
    """
    gray = to_gray(bgr)
    line_dark: dict[int, np.ndarray] = {}  # once per width
    # (line, flip) pairs with text beside the line on one side and a blank page beyond it.
    candidates: list[tuple[_Line, bool]] = []
    # ...and with the text under the line, the page above it blank: a caption (upright only
    # in this frame, where the frame the other way up shows the caption upside down).
    captions: list[tuple[_Line, bool]] = []
    smeared = False  # found only as a wide band: the pen strokes along it are smeared too
    for darkness, per_long_side in LINE_PASSES:
        if per_long_side not in line_dark:
            line_dark[per_long_side] = _line_darkness(gray, per_long_side=per_long_side)
        for line in _candidate_lines(line_dark[per_long_side], darkness=darkness,
                                     keep=lambda ln: _on_paper(gray, bgr, ln)):
            near = {f: _ink_share(bgr, line, along=(-0.2, 1.0), across=(-0.3, -0.03), flip=f) for f in (False, True)}
            # The label's side first.
            for flip in sorted(near, key=lambda f: -near[f]):
                if near[flip] >= LABEL_INK and _page_is_blank(bgr, line, flip):
                    candidates.append((line, flip))
                elif near[not flip] >= LABEL_INK and per_long_side == LINE_PASSES[0][1] \
                        and _page_is_blank(bgr, line, flip):
                    captions.append((line, flip))
        if candidates:
            smeared = per_long_side != LINE_PASSES[0][1]
            break
    # A rule with a blank margin beyond it before a row of text (which blur can also turn
    # into a "line"); the sort is stable, so longest first otherwise.
    candidates.sort(key=lambda c: not _margin_is_blank(bgr, *c))
    lines = list({id(c): c for c, _ in candidates + captions}.values())  # each once, either way up
    best_ballot = 0.0
    if config.ocr.enabled:
        readable_other: set[int] = set()  # id() of lines with readable non-label text beside them
        label_row = ""  # the label, read beside a "line" that was a row of its own text
        # A caption is read last, where no label was found above a line: a page read upright
        # with its label above the line shows the label under it upside down.
        tries = [(c, False) for c in candidates[:MAX_OCR_TRIES]] + [(c, True) for c in captions[:CAPTION_OCR_TRIES]]
        for (line, flip), caption in tries:
            label = _text_strip(bgr, line, along=LABEL_ALONG, across=CAPTION_STRIP if caption else LABEL_STRIP,
                                flip=flip)
            for languages in filter(None, (config.ocr.languages, config.ocr.retry_languages)):
                ocr = read_text(label, languages=languages)
                if not caption and label_groups(ocr.text) and not is_signature_label(ocr.text):
                    # Part of the label: it may be set before the line, beside it, rather
                    # than above it (another press's «Подпись ... ______»: the strip took in
                    # its last words only, which read as some other paper's, and a signed
                    # back was dismissed: second press, make eval seed 3605551275, IMG_00253).
                    beside = read_text(_text_strip(bgr, line, along=LABEL_BESIDE_ALONG, across=LABEL_STRIP,
                                                   flip=flip), languages=languages)
                    ocr = beside if is_signature_label(beside.text) else ocr
                best_ballot = max(best_ballot, keyword_score(ocr.text, "БЮЛЛЕТЕНЬ"))
                if is_signature_label(ocr.text):
                    if not caption and _rule_beyond(line, flip, [c for c, _ in candidates]):
                        # A row of the label's print blurred into a line, the signature line
                        # under it (make eval seed 2696187484, IMG_00416: the label's other
                        # row, above it, read as a signature): that line is tried next.
                        label_row = label_row or ocr.text
                        break
                    signature = _signature_by_label(bgr, line, flip, config, lines=lines, smeared=smeared,
                                                    under=True if caption else None)
                    if signature is None:
                        # Print, not a signature: the rule itself may be the next line tried.
                        label_row = label_row or ocr.text
                        break
                    return BackReading(True, signature, ocr.text, best_ballot, confirmed=True)
                if ocr.confident_letters >= READABLE_LETTERS and label_groups(ocr.text) < LABEL_LIKE_GROUPS:
                    # Sharp text that is not the label, on either side: the line belongs to
                    # some other paper (a form's table, a document's rule). (Not where it was
                    # read as a caption: that may be a back's label upside down.)
                    if not caption:
                        readable_other.add(id(line))
                    break
                if ocr.confident_letters <= NOTHING_LEGIBLE:
                    # Nothing legible for the second model either (in make eval it rescued
                    # labels only where the first had read a few letters).
                    break
        if label_row:
            return BackReading(True, Signature.UNKNOWN, label_row, best_ballot, confirmed=True)
        candidates = [c for c in candidates if id(c[0]) not in readable_other]
    if candidates:
        line, flip = candidates[0]
        signature = Signature.UNKNOWN if smeared else _signature(bgr, line, flip)
        return BackReading(True, signature, "", best_ballot, confirmed=False)
    return BackReading(False, Signature.NOT_APPLICABLE, "", best_ballot)
