"""A second, independent printing house: blank 2021 ballot sheets in its own design.

The synthetic photo generator draws every sheet with one renderer; a reader tuned on those
prints may have learnt that renderer's look rather than the ballot's. This module prints the
same forms (the same words, the facts of BALLOTS-2021.md: A4 portrait, emblem at the top, a
Kazakh then a Russian title in bold capitals, a date line, a small-type instruction, a ruled
table of one row per party with an empty heavy-bordered square on the right; on the back the
issuing member's signature label and line and an optional stamp place) but lays them out from
scratch, with every choice a real press could make drawn per sheet in :func:`random_press_style`.

Coordinates are millimetres from the sheet's top-left corner, x right, y down. A layout is
first planned in "design" millimetres (the press's own grid), then mapped onto the sheet by the
sheet's print scale and registration offset, so :func:`press_geometry` and :func:`press_side`
share one plan and cannot disagree. Images are BGR uint8; pixel ``i`` covers
``[i, i + 1) / px_per_mm`` mm, so its centre is at ``x_px = x_mm * px_per_mm - 0.5``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ballot_vision.render import SideGeometry
from ballot_vision.templates import Emblem, Option, Rect, Template

__all__ = ["PressStyle", "random_press_style", "press_geometry", "press_side"]

# --------------------------------------------------------------------------------------
# Typefaces

_FONT_ROOT = Path("/usr/share/fonts/truetype")


def _faces(*names: str) -> tuple[str, ...]:
    return tuple(str(_FONT_ROOT / n) for n in names)


# family -> weight -> font files in fallback order. Liberation lacks the Kazakh letters
# (Ә Ғ Қ Ң Ө Ұ Ү Һ), so each chain falls back to a face of the same kind, and every chain
# ends in DejaVu, which has them all.
_FAMILIES: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "liberation_sans": MappingProxyType({
        "regular": _faces("liberation/LiberationSans-Regular.ttf", "freefont/FreeSans.ttf", "dejavu/DejaVuSans.ttf"),
        "bold": _faces("liberation/LiberationSans-Bold.ttf", "freefont/FreeSansBold.ttf", "dejavu/DejaVuSans-Bold.ttf"),
        "italic": _faces("liberation/LiberationSans-Italic.ttf", "freefont/FreeSansOblique.ttf", "dejavu/DejaVuSans-Oblique.ttf"),
    }),
    "free_sans": MappingProxyType({
        "regular": _faces("freefont/FreeSans.ttf", "dejavu/DejaVuSans.ttf"),
        "bold": _faces("freefont/FreeSansBold.ttf", "dejavu/DejaVuSans-Bold.ttf"),
        "italic": _faces("freefont/FreeSansOblique.ttf", "dejavu/DejaVuSans-Oblique.ttf"),
    }),
    "dejavu_sans": MappingProxyType({
        "regular": _faces("dejavu/DejaVuSans.ttf"),
        "bold": _faces("dejavu/DejaVuSans-Bold.ttf"),
        "italic": _faces("dejavu/DejaVuSans-Oblique.ttf"),
    }),
    "dejavu_sans_condensed": MappingProxyType({
        "regular": _faces("dejavu/DejaVuSansCondensed.ttf", "dejavu/DejaVuSans.ttf"),
        "bold": _faces("dejavu/DejaVuSansCondensed-Bold.ttf", "dejavu/DejaVuSans-Bold.ttf"),
        "italic": _faces("dejavu/DejaVuSansCondensed-Oblique.ttf", "dejavu/DejaVuSans-Oblique.ttf"),
    }),
    "liberation_serif": MappingProxyType({
        "regular": _faces("liberation/LiberationSerif-Regular.ttf", "freefont/FreeSerif.ttf", "dejavu/DejaVuSerif.ttf"),
        "bold": _faces("liberation/LiberationSerif-Bold.ttf", "freefont/FreeSerifBold.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
        "italic": _faces("liberation/LiberationSerif-Italic.ttf", "freefont/FreeSerifItalic.ttf", "dejavu/DejaVuSerif-Italic.ttf"),
    }),
    "free_serif": MappingProxyType({
        "regular": _faces("freefont/FreeSerif.ttf", "dejavu/DejaVuSerif.ttf"),
        "bold": _faces("freefont/FreeSerifBold.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
        "italic": _faces("freefont/FreeSerifItalic.ttf", "dejavu/DejaVuSerif-Italic.ttf"),
    }),
    "dejavu_serif": MappingProxyType({
        "regular": _faces("dejavu/DejaVuSerif.ttf"),
        "bold": _faces("dejavu/DejaVuSerif-Bold.ttf"),
        "italic": _faces("dejavu/DejaVuSerif-Italic.ttf"),
    }),
    "dejavu_serif_condensed": MappingProxyType({
        "regular": _faces("dejavu/DejaVuSerifCondensed.ttf", "dejavu/DejaVuSerif.ttf"),
        "bold": _faces("dejavu/DejaVuSerifCondensed-Bold.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
        "italic": _faces("dejavu/DejaVuSerifCondensed-Italic.ttf", "dejavu/DejaVuSerif-Italic.ttf"),
    }),
})

#: Families a press may pick, with how often (Times- and Arial-like faces dominate real forms).
_FAMILY_ODDS: tuple[tuple[str, float], ...] = (
    ("liberation_serif", 0.22), ("liberation_sans", 0.22), ("free_serif", 0.1), ("free_sans", 0.1),
    ("dejavu_sans", 0.1), ("dejavu_sans_condensed", 0.1), ("dejavu_serif", 0.08), ("dejavu_serif_condensed", 0.08),
)

_REF_CAP = 100.0  # cap height (px) at which text is measured; widths scale linearly from it


def _chain(family: str, weight: str) -> tuple[str, ...]:
    """The existing font files of ``family``/``weight`` in fallback order (never empty)."""
    files = tuple(f for f in _FAMILIES[family][weight] if Path(f).is_file())
    if not files:
        raise FileNotFoundError(f"no font file of {family} {weight} under {_FONT_ROOT}")
    return files


@lru_cache(maxsize=256)
def _font(path: str, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=None)
def _cap_ratio(path: str) -> float:
    """Cap height of the face as a fraction of its font size (sizes type by cap height)."""
    f = _font(path, 1000.0)
    return -f.getbbox("Н", anchor="ls")[1] / 1000.0


@lru_cache(maxsize=None)
def _notdef(path: str) -> tuple:
    m = _font(path, 24.0).getmask("\U000F0000")  # a private-use code point no face maps
    return (m.size, bytes(m))


@lru_cache(maxsize=None)
def _has_glyph(path: str, ch: str) -> bool:
    m = _font(path, 24.0).getmask(ch)
    return (m.size, bytes(m)) != _notdef(path)


@lru_cache(maxsize=4096)
def _runs(text: str, chain: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``text`` split into (font file, substring) runs: each character in the first face of
    ``chain`` that has it; spaces stay in the current run."""
    runs: list[list[str]] = []
    for ch in text:
        if ch.isspace() and runs:
            face = runs[-1][0]
        else:
            face = next((p for p in chain if _has_glyph(p, ch)), chain[-1])
        if runs and runs[-1][0] == face:
            runs[-1][1] += ch
        else:
            runs.append([face, ch])
    return tuple((p, s) for p, s in runs)


@lru_cache(maxsize=8192)
def _measure(text: str, chain: tuple[str, ...], cap_mm: float) -> float:
    """Advance width (mm) of ``text`` set with cap height ``cap_mm``, before any condensing."""
    width = 0.0
    for path, run in _runs(text, chain):
        width += _font(path, _REF_CAP / _cap_ratio(path)).getlength(run)
    return width * cap_mm / _REF_CAP


# --------------------------------------------------------------------------------------
# The press's choices


@dataclass(frozen=True)
class PressStyle:
    """Every choice the second printing house made for one sheet (both of its sides).

    Lengths are millimetres on the press's design grid (multiplied by ``scale`` on the sheet);
    colours are BGR 0-255; "cap" sizes are the height of a capital letter.

    Attributes
    ----------
    scale : float
        Print scale about the sheet centre (0.98-1.02).
    offset_mm, back_offset_mm : tuple[float, float]
        Registration shift (dx, dy) of the front and of the back print (about ±3 mm).
    paper_bgr, ink_bgr : tuple[int, int, int]
        Off-white paper shade; black, dark grey or very dark blue ink.
    title_family, body_family : str
        Typeface families (keys of ``_FAMILIES``) of the titles and of all other text.
    title_condense, body_condense : float
        Horizontal scale of the glyphs (0.86-1.0: a press setting narrow type).
    top_margin_mm : float
        Sheet top to the emblem's top.
    emblem_diameter_mm, emblem_dx_mm : float
        Emblem size (22-30) and its offset from the centre line.
    emblem_colour : bool
        Gold and blue emblem, else one-colour in the ink (halftone greys).
    emblem_rays : int
        Number of sun rays (shanyrak poles) around the emblem's centre.
    emblem_gold_bgr, emblem_blue_bgr : tuple[int, int, int]
        Emblem colours.
    gap_after_emblem_mm : float
        Emblem bottom to the first title line's cap top.
    title_cap_mm, title_lead : float
        Title cap height (2.6-3.8) and line pitch as a multiple of it.
    title_width_mm : float
        Longest title line allowed.
    title_breaks : str
        "balanced" (lines of even length) or "greedy" (full lines, short last one).
    headline : bool
        Set "САЙЛАУ БЮЛЛЕТЕНІ" / "ИЗБИРАТЕЛЬНЫЙ БЮЛЛЕТЕНЬ" on a line of its own, larger by
        ``headline_scale``.
    headline_scale : float
    gap_between_titles_mm, gap_before_date_mm, gap_before_instruction_mm, gap_before_table_mm : float
        Vertical gaps of the header's flow.
    table_top_min_mm, table_top_max_mm : float
        Highest and lowest the table may start: a short header gets its gaps widened, a long
        one its titles and gaps tightened.
    date_layout : str
        "slash" (one line, "kaz / rus"), "stacked" (two lines) or "spread" (Kazakh flush left,
        Russian flush right).
    date_cap_mm : float
    date_weight : str
        "regular", "bold" or "italic".
    instruction_cap_mm : float
    instruction_weight : str
        "regular" or "italic".
    instruction_align : str
        "center" or "left".
    instruction_width_mm : float
    instruction_boxed : bool
        A thin frame around the instruction.
    body_lead : float
        Line pitch of body text as a multiple of its cap height.
    table_left_mm, table_right_mm : float
        Sheet edge to the table's outer edge, left and right.
    row_h_mm : float
        Row pitch (25-33; shortened only if the sheet cannot hold the rows).
    square_mm, square_line_mm : float
        Mark square side (outer edge, 15-20) and its border weight (0.8-1.3).
    square_pad_mm : float
        Room between the square and its cell's side rules.
    rule_mm, separator_mm : float
        Weight of the inner rules and of the rule between name and square cells.
    border : str
        Table outline: "plain" (as the inner rules), "heavy" or "double".
    border_mm, double_gap_mm, double_outer_mm : float
        Heavy outline weight; gap and outer line weight of a double outline.
    numbering : str
        "none", "inline" ("1. " before the Kazakh name) or "cell" (a numbered first column).
    number_cell_mm : float
    name_align : str
        "left" or "center" in the name cell.
    name_indent_mm : float
    name_kaz_cap_mm, name_rus_cap_mm : float
    rus_weight : str
        Weight of the Russian party name: "regular", "italic" or "bold".
    names_upper : bool
        Party names in capitals.
    name_gap_mm : float
        Extra space between the Kazakh and the Russian name.
    knockout_squares, knockout_table : bool
        The security background left out inside the squares / the whole table.
    bg_kind : str
        Security background: "rosette" (interlaced wavy rings about one centre), "twin"
        (two overlapping rosettes), "lace" (two interlaced sine families, tilted) or
        "confocal" (wavy ellipses across hyperbolas about two foci).
    bg_bgr, accent_bgr : tuple[int, int, int]
        Background line colour at full strength; a deeper tone of it for microtext.
    bg_strength : float
        How much of ``bg_bgr`` a background line lays down (keeps it pale).
    bg_period_mm, bg_line_mm, bg_amplitude : float
        Line pitch, line weight and wave amplitude (in line pitches).
    bg_lobes : int
        Waves per turn of a rosette.
    bg_wavelength_mm, bg_angle_deg : float
        Wavelength and tilt of "lace"; ``bg_wavelength_mm`` is also the wiggle period (in
        hyperbola pitches x 2) of "confocal".
    bg_centers_mm : tuple[tuple[float, float], tuple[float, float]]
        Rosette centre(s) or the two foci.
    bg_medallion_mm : float
        Radius beyond which a single rosette fades out (0: fills the sheet).
    tint : str
        "none", "vertical" (fades down the sheet) or "radial" (a soft central glow).
    tint_strength : float
    frame_band : bool
        A guilloche band around the sheet, ``frame_margin_mm`` from the edges,
        ``frame_width_mm`` wide.
    frame_margin_mm, frame_width_mm : float
    microtext : str
        "none", "rule" (a microtext line between instruction and table) or "foot" (along the
        sheet's foot).
    microtext_cap_mm : float
    back_pattern : bool
        The back carries the security background too.
    sig_label_pos : str
        Signature label "above" the line, "below" it (a caption) or to its "left".
    sig_align : str
        "left", "center" or "right" placement of the signature block.
    sig_cap_mm, sig_label_width_mm, sig_left_label_width_mm : float
    sig_weight : str
    sig_line_len_mm, sig_line_mm, sign_space_mm : float
        Signature line length and weight, and the room left above it for the signature.
    sig_bottom_mm : float
        Sheet bottom to the signature block's bottom.
    stamp_diameter_mm, stamp_gap_mm : float
        Stamp place size and its gap above the signature block.
    stamp_x : str
        "left", "center" or "right".
    stamp_outline : bool
        A dashed circle marks the stamp place.
    stamp_label : str
        "М.О.", "М.П.", "М.О. / М.П." or "" printed at the stamp place.
    stamp_label_cap_mm : float
    imprint : str
        Print-house line at the foot of the back ("" for none).
    imprint_cap_mm, imprint_bottom_mm : float
    imprint_align : str
    """

    scale: float
    offset_mm: tuple[float, float]
    back_offset_mm: tuple[float, float]
    paper_bgr: tuple[int, int, int]
    ink_bgr: tuple[int, int, int]
    title_family: str
    body_family: str
    title_condense: float
    body_condense: float
    top_margin_mm: float
    emblem_diameter_mm: float
    emblem_dx_mm: float
    emblem_colour: bool
    emblem_rays: int
    emblem_gold_bgr: tuple[int, int, int]
    emblem_blue_bgr: tuple[int, int, int]
    gap_after_emblem_mm: float
    title_cap_mm: float
    title_lead: float
    title_width_mm: float
    title_breaks: str
    headline: bool
    headline_scale: float
    gap_between_titles_mm: float
    gap_before_date_mm: float
    gap_before_instruction_mm: float
    gap_before_table_mm: float
    table_top_min_mm: float
    table_top_max_mm: float
    date_layout: str
    date_cap_mm: float
    date_weight: str
    instruction_cap_mm: float
    instruction_weight: str
    instruction_align: str
    instruction_width_mm: float
    instruction_boxed: bool
    body_lead: float
    table_left_mm: float
    table_right_mm: float
    row_h_mm: float
    square_mm: float
    square_line_mm: float
    square_pad_mm: float
    rule_mm: float
    separator_mm: float
    border: str
    border_mm: float
    double_gap_mm: float
    double_outer_mm: float
    numbering: str
    number_cell_mm: float
    name_align: str
    name_indent_mm: float
    name_kaz_cap_mm: float
    name_rus_cap_mm: float
    rus_weight: str
    names_upper: bool
    name_gap_mm: float
    knockout_squares: bool
    knockout_table: bool
    bg_kind: str
    bg_bgr: tuple[int, int, int]
    accent_bgr: tuple[int, int, int]
    bg_strength: float
    bg_period_mm: float
    bg_line_mm: float
    bg_amplitude: float
    bg_lobes: int
    bg_wavelength_mm: float
    bg_angle_deg: float
    bg_centers_mm: tuple[tuple[float, float], tuple[float, float]]
    bg_medallion_mm: float
    tint: str
    tint_strength: float
    frame_band: bool
    frame_margin_mm: float
    frame_width_mm: float
    microtext: str
    microtext_cap_mm: float
    back_pattern: bool
    sig_label_pos: str
    sig_align: str
    sig_cap_mm: float
    sig_label_width_mm: float
    sig_left_label_width_mm: float
    sig_weight: str
    sig_line_len_mm: float
    sig_line_mm: float
    sign_space_mm: float
    sig_bottom_mm: float
    stamp_diameter_mm: float
    stamp_gap_mm: float
    stamp_x: str
    stamp_outline: bool
    stamp_label: str
    stamp_label_cap_mm: float
    imprint: str
    imprint_cap_mm: float
    imprint_bottom_mm: float
    imprint_align: str


# Pale security-background hues (RGB) a press might order; drawn at partial strength.
_BG_HUES = ((120, 170, 225), (100, 185, 200), (140, 200, 150), (230, 150, 180), (220, 185, 120), (175, 160, 220))
_PRESS_NAMES = ("Полиграфкомбинат", "Типография №1", "Баспа үйі", "Дәуір", "Полиграфия", "Принт-Сервис", "Кітап")
_CITIES = ("Алматы", "Нұр-Сұлтан", "Қарағанды", "Шымкент", "Ақтөбе", "Павлодар", "Өскемен", "Қостанай")


def _pick(rng: np.random.Generator, options: Sequence, odds: Sequence[float] | None = None):
    p = None if odds is None else np.asarray(odds, float) / float(np.sum(odds))
    return options[int(rng.choice(len(options), p=p))]


def _bgr(rgb: Sequence[float]) -> tuple[int, int, int]:
    r, g, b = (int(round(min(255.0, max(0.0, float(v))))) for v in rgb)
    return (b, g, r)


def _imprint_text(rng: np.random.Generator) -> str:
    house = _pick(rng, _PRESS_NAMES)
    form = _pick(rng, ("ЖШС", "ТОО", "АҚ"))
    city = _pick(rng, _CITIES)
    order = int(rng.integers(100, 9999))
    run = int(rng.integers(2, 120)) * 5000
    run_s = f"{run:,}".replace(",", " ")
    return _pick(rng, (
        f"«{house}» {form}, {city} қ. Тапсырыс № {order}. Таралымы {run_s} дана. / Заказ № {order}. Тираж {run_s} экз.",
        f"Тираж {run_s} экз. Заказ № {order}. «{house}» {form}, г. {city}",
        f"Таралымы {run_s} дана / Тираж {run_s} экз. «{house}» {form}",
    ))


def random_press_style(rng: np.random.Generator) -> PressStyle:
    """Draw every choice of one sheet's print.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness: rendering with the returned style is deterministic.

    Returns
    -------
    PressStyle
    """
    u = rng.uniform
    paper_l = u(234, 252)
    warm = u(-4, 8)  # >0: cream, <0: bluish white
    paper = _bgr((paper_l + 0.4 * warm, paper_l + 0.1 * warm, paper_l - 0.6 * warm))
    if rng.random() < 0.2:
        ink = _bgr((u(12, 35), u(25, 50), u(70, 115)))  # very dark blue
    else:
        g = u(8, 55)
        ink = _bgr((g + u(-4, 4), g + u(-4, 4), g + u(-4, 6)))
    title_family = _pick(rng, [f for f, _ in _FAMILY_ODDS], [o for _, o in _FAMILY_ODDS])
    body_family = title_family if rng.random() < 0.5 else _pick(rng, [f for f, _ in _FAMILY_ODDS], [o for _, o in _FAMILY_ODDS])

    row_h = u(25, 33)
    square = min(u(15, 20), row_h - 5.0)  # at least 2.5 mm above and below the square
    rule = u(0.15, 0.5)
    border = _pick(rng, ("plain", "heavy", "double"), (0.35, 0.4, 0.25))

    hue = np.asarray(_pick(rng, _BG_HUES), float) + rng.uniform(-12, 12, 3)
    accent = 255 - (255 - hue) * 1.6  # a deeper tone of the same hue, for microtext
    kind = _pick(rng, ("rosette", "twin", "lace", "confocal"), (0.35, 0.15, 0.3, 0.2))
    if kind == "twin":
        centers = ((u(20, 90), u(40, 120)), (u(120, 190), u(170, 260)))
    elif kind == "confocal":
        a, c = math.radians(u(-30, 30)), u(35, 110)
        cx, cy = 105 + u(-15, 15), 148 + u(-30, 30)
        centers = ((cx - c * math.sin(a), cy - c * math.cos(a)), (cx + c * math.sin(a), cy + c * math.cos(a)))
    else:
        centers = ((105 + u(-20, 20), 150 + u(-50, 50)), (105.0, 148.0))

    stamp_label = _pick(rng, ("М.О.", "М.П.", "М.О. / М.П.", ""), (0.35, 0.25, 0.15, 0.25))
    # A guilloche border band keeps clear of the printed matter: the matter moves inside it.
    frame_band = rng.random() < 0.35
    frame_margin, frame_width = u(3, 6), u(2.5, 5)
    inner = frame_margin + frame_width if frame_band else 0.0
    table_left, table_right = max(u(9, 16), inner + 2.0), max(u(9, 16), inner + 2.0)
    top_margin = max(u(5, 12), inner + 2.5)
    return PressStyle(
        scale=u(0.98, 1.02),
        offset_mm=(u(-2.5, 2.5), u(-3, 3)),
        back_offset_mm=(u(-2.5, 2.5), u(-3, 3)),
        paper_bgr=paper,
        ink_bgr=ink,
        title_family=title_family,
        body_family=body_family,
        title_condense=1.0 if rng.random() < 0.4 else u(0.86, 1.0),
        body_condense=1.0 if rng.random() < 0.4 else u(0.86, 1.0),
        top_margin_mm=top_margin,
        emblem_diameter_mm=u(22, 30),
        emblem_dx_mm=0.0 if rng.random() < 0.7 else u(-1.5, 1.5),
        emblem_colour=rng.random() < 0.75,
        emblem_rays=int(rng.integers(24, 45)),
        emblem_gold_bgr=_bgr((u(215, 240), u(160, 195), u(20, 70))),
        emblem_blue_bgr=_bgr((u(0, 40), u(90, 150), u(160, 210))),
        gap_after_emblem_mm=u(2.5, 6),
        title_cap_mm=u(2.6, 3.8),
        title_lead=u(1.4, 1.75),
        title_width_mm=u(150, 186),
        title_breaks=_pick(rng, ("balanced", "greedy")),
        headline=rng.random() < 0.35,
        headline_scale=u(1.15, 1.45),
        gap_between_titles_mm=u(2.5, 6),
        gap_before_date_mm=u(2.5, 5.5),
        gap_before_instruction_mm=u(2.5, 5.5),
        gap_before_table_mm=u(4, 9),
        table_top_min_mm=u(98, 110),
        table_top_max_mm=u(110, 122),
        date_layout=_pick(rng, ("slash", "stacked", "spread"), (0.5, 0.3, 0.2)),
        date_cap_mm=u(2.2, 3.0),
        date_weight=_pick(rng, ("regular", "bold", "italic"), (0.5, 0.3, 0.2)),
        instruction_cap_mm=u(1.8, 2.4),
        instruction_weight=_pick(rng, ("regular", "italic"), (0.6, 0.4)),
        instruction_align=_pick(rng, ("center", "left"), (0.6, 0.4)),
        instruction_width_mm=u(150, 186),
        instruction_boxed=rng.random() < 0.2,
        body_lead=u(1.45, 1.75),
        table_left_mm=table_left,
        table_right_mm=table_right,
        row_h_mm=row_h,
        square_mm=square,
        square_line_mm=u(0.8, 1.3),
        square_pad_mm=u(2.5, 8),
        rule_mm=rule,
        separator_mm=rule if rng.random() < 0.7 else u(rule, 0.7),
        border=border,
        border_mm=max(rule + 0.2, u(0.6, 1.1)),
        double_gap_mm=u(0.5, 1.0),
        double_outer_mm=u(0.2, 0.5),
        numbering=_pick(rng, ("none", "inline", "cell"), (0.5, 0.3, 0.2)),
        number_cell_mm=u(8, 12),
        name_align=_pick(rng, ("left", "center"), (0.6, 0.4)),
        name_indent_mm=u(2.5, 6),
        name_kaz_cap_mm=(kaz_cap := u(2.4, 3.5)),
        name_rus_cap_mm=kaz_cap * u(0.8, 1.0),
        rus_weight=_pick(rng, ("regular", "italic", "bold"), (0.6, 0.25, 0.15)),
        names_upper=rng.random() < 0.25,
        name_gap_mm=u(0, 1.2),
        knockout_squares=rng.random() < 0.4,
        knockout_table=rng.random() < 0.15,
        bg_kind=kind,
        bg_bgr=_bgr(hue),
        accent_bgr=_bgr(accent),
        bg_strength=u(0.3, 0.65),
        bg_period_mm=u(1.2, 2.4),
        bg_line_mm=u(0.07, 0.16),
        bg_amplitude=u(0.3, 1.2),
        bg_lobes=int(rng.integers(14, 49)),
        bg_wavelength_mm=u(5, 14),
        bg_angle_deg=u(-35, 35),
        bg_centers_mm=centers,
        bg_medallion_mm=0.0 if rng.random() < 0.6 else u(60, 110),
        tint=_pick(rng, ("none", "vertical", "radial"), (0.4, 0.3, 0.3)),
        tint_strength=u(0.04, 0.12),
        frame_band=frame_band,
        frame_margin_mm=frame_margin,
        frame_width_mm=frame_width,
        microtext=_pick(rng, ("none", "rule", "foot"), (0.5, 0.25, 0.25)),
        microtext_cap_mm=u(0.6, 0.9),
        back_pattern=rng.random() < 0.7,
        sig_label_pos=_pick(rng, ("above", "below", "left"), (0.45, 0.3, 0.25)),
        sig_align=_pick(rng, ("left", "center", "right")),
        sig_cap_mm=u(2.0, 2.8),
        sig_label_width_mm=u(110, 170),
        sig_left_label_width_mm=u(85, 110),
        sig_weight=_pick(rng, ("regular", "italic", "bold"), (0.6, 0.2, 0.2)),
        sig_line_len_mm=u(55, 90),
        sig_line_mm=u(0.2, 0.45),
        sign_space_mm=u(9, 14),
        sig_bottom_mm=u(18, 55),
        stamp_diameter_mm=u(36, 42),
        stamp_gap_mm=u(3, 12),
        stamp_x=_pick(rng, ("left", "center", "right")),
        stamp_outline=rng.random() < 0.25,
        stamp_label=stamp_label,
        stamp_label_cap_mm=u(2.2, 3.2),
        imprint=_imprint_text(rng) if rng.random() < 0.6 else "",
        imprint_cap_mm=u(1.3, 1.7),
        imprint_bottom_mm=u(5, 9),
        imprint_align=_pick(rng, ("left", "center", "right")),
    )


# --------------------------------------------------------------------------------------
# The plan: what is printed where (pure data, resolution-free)


@dataclass(frozen=True)
class _Text:
    """One line of type: left end ``x`` and ``baseline`` (mm), advance ``width`` (mm, after
    condensing: the rendered line is stretched to exactly this)."""

    text: str
    x: float
    baseline: float
    cap: float
    width: float
    chain: tuple[str, ...]
    layer: str = "ink"


@dataclass(frozen=True)
class _Box:
    """A filled rectangle (mm), minus the rectangle ``hole`` if given (a frame)."""

    x0: float
    y0: float
    x1: float
    y1: float
    hole: tuple[float, float, float, float] | None = None
    layer: str = "ink"


@dataclass(frozen=True)
class _Ring:
    """A circle of radius ``r`` (mm): a line of weight ``w`` (dashed with ``dash`` mm
    dashes when > 0), or a filled disc when ``w`` is 0."""

    cx: float
    cy: float
    r: float
    w: float = 0.0
    dash: float = 0.0
    layer: str = "ink"


@dataclass(frozen=True)
class _Plan:
    geometry: SideGeometry
    texts: tuple[_Text, ...]
    boxes: tuple[_Box, ...]
    rings: tuple[_Ring, ...]
    emblem: Emblem | None
    knockouts: tuple[_Box | _Ring, ...]  # where the security background is left out
    pattern: bool


@dataclass(frozen=True)
class _Map:
    """Design grid -> sheet: ``x' = s * x + ox``, ``y' = s * y + oy``."""

    s: float
    ox: float
    oy: float

    def x(self, v: float) -> float:
        return self.s * v + self.ox

    def y(self, v: float) -> float:
        return self.s * v + self.oy

    def rect(self, r: Rect) -> Rect:
        return Rect(self.x(r.x), self.y(r.y), r.w * self.s, r.h * self.s)

    def item(self, it):
        if isinstance(it, _Text):
            return replace(it, x=self.x(it.x), baseline=self.y(it.baseline), cap=it.cap * self.s, width=it.width * self.s)
        if isinstance(it, _Box):
            hole = None if it.hole is None else (self.x(it.hole[0]), self.y(it.hole[1]), self.x(it.hole[2]), self.y(it.hole[3]))
            return replace(it, x0=self.x(it.x0), y0=self.y(it.y0), x1=self.x(it.x1), y1=self.y(it.y1), hole=hole)
        if isinstance(it, _Ring):
            return replace(it, cx=self.x(it.cx), cy=self.y(it.cy), r=it.r * self.s, w=it.w * self.s, dash=it.dash * self.s)
        raise TypeError(type(it))


def _sheet_map(template: Template, offset: tuple[float, float], scale: float) -> _Map:
    # Scale about the sheet centre, then shift by the registration offset.
    return _Map(scale, (1 - scale) * template.paper_w / 2 + offset[0], (1 - scale) * template.paper_h / 2 + offset[1])


# --------------------------------------------------------------------------------------
# Setting type


def _line(text: str, chain: tuple[str, ...], cap: float, condense: float, left: float, right: float,
          baseline: float, align: str, layer: str = "ink") -> _Text:
    """One line aligned between ``left`` and ``right`` (mm); squeezed to fit if too long."""
    width = _measure(text, chain, cap) * condense
    width = min(width, right - left)  # the press narrows a line rather than overrun the rule
    x = left if align == "left" else right - width if align == "right" else (left + right - width) / 2
    return _Text(text, x, baseline, cap, width, chain, layer)


def _wrap(text: str, width_of, max_w: float, balanced: bool) -> list[str]:
    """Break ``text`` into lines no wider than ``max_w`` (a lone over-long word stays whole).

    Greedy fills each line; balanced keeps the greedy line count and minimises the longest line
    (how a typesetter breaks a centred title)."""
    words = text.split()
    if not words:
        return []
    lines: list[list[str]] = [[words[0]]]
    for w in words[1:]:
        if width_of(" ".join(lines[-1] + [w])) <= max_w:
            lines[-1].append(w)
        else:
            lines.append([w])
    n = len(lines)
    if not balanced or n == 1:
        return [" ".join(l) for l in lines]
    # best[k][i]: the smallest possible longest line setting words[:i] in k lines
    m = len(words)
    cost = {(i, j): width_of(" ".join(words[i:j])) for i in range(m) for j in range(i + 1, m + 1)}
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    cut = [[0] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for k in range(1, n + 1):
        for i in range(1, m + 1):
            for j in range(k - 1, i):
                c = max(best[k - 1][j], cost[(j, i)])
                if c < best[k][i]:
                    best[k][i], cut[k][i] = c, j
    out, i = [], m
    for k in range(n, 0, -1):
        j = cut[k][i]
        out.append(" ".join(words[j:i]))
        i = j
    return out[::-1]


def _sentences(lines: Sequence[str]) -> list[str]:
    """Join a template's pre-broken lines and split them into sentences (one per language)."""
    text = " ".join(l.strip() for l in lines)
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def _role_lines(template: Template, role: str) -> tuple[str, ...]:
    return next((t.lines for t in template.front.texts if t.role == role), ())


def _headline_split(title: str, kazakh: bool) -> tuple[str, str]:
    """(body, headline): the "ballot" words a press may set apart — last two words of the
    Kazakh title, first two of the Russian one — or ('title', '') when they are not there."""
    words = title.split()
    if len(words) > 3:
        if kazakh and "БЮЛЛЕТЕН" in words[-1]:
            return " ".join(words[:-2]), " ".join(words[-2:])
        if not kazakh and "БЮЛЛЕТЕН" in words[1]:
            return " ".join(words[2:]), " ".join(words[:2])
    return title, ""


# --------------------------------------------------------------------------------------
# Front


def _title_block(title: str, kazakh: bool, st: PressStyle, cap: float, top: float, width: float, center_x: float,
                 texts: list[_Text]) -> float:
    """Set one title (bold capitals, centred) with its cap top at ``top``; returns the y of
    the last baseline."""
    chain = _chain(st.title_family, "bold")

    def width_of(s: str, c: float = cap) -> float:
        return _measure(s, chain, c) * st.title_condense

    body, head = _headline_split(title.upper(), kazakh) if st.headline else (title.upper(), "")
    hcap = cap * st.headline_scale
    rows = [(l, cap) for l in _wrap(body, width_of, width, st.title_breaks == "balanced")]
    if head:
        rows = rows + [(head, hcap)] if kazakh else [(head, hcap)] + rows
    baseline, prev = top, None
    for text, c in rows:
        baseline += c if prev is None else max(c, prev) * st.title_lead
        texts.append(_line(text, chain, c, st.title_condense, center_x - width / 2, center_x + width / 2, baseline, "center"))
        prev = c
    return baseline


# How a press spreads spare height over the header's gaps (top margin, after the emblem,
# between the titles, before the date, before the instruction, before the table).
_SLACK_SHARES = (0.25, 0.2, 0.15, 0.1, 0.1, 0.2)


def _front_header(template: Template, st: PressStyle, slack: float, tight: float, texts: list[_Text],
                  boxes: list[_Box], knock: list[_Box | _Ring]) -> tuple[Emblem | None, float, float]:
    """Set the emblem, titles, date and instruction flowing down the sheet, with ``slack`` mm
    spread over the gaps and titles and gaps scaled by ``tight`` (<= 1); returns (emblem,
    bottom of the header, top of the table)."""
    W = template.paper_w
    x0, x1 = st.table_left_mm, W - st.table_right_mm
    mid = (x0 + x1) / 2
    # (the gap between the two titles is never tightened: it is what tells them apart)
    extra = [slack * f - (1 - tight) * g for f, g in zip(_SLACK_SHARES, (
        st.top_margin_mm, st.gap_after_emblem_mm, 0.0, st.gap_before_date_mm,
        st.gap_before_instruction_mm, st.gap_before_table_mm))]
    y = st.top_margin_mm + extra[0]
    emblem = None
    if template.front.emblem is not None:
        d = st.emblem_diameter_mm
        emblem = Emblem((W / 2 + st.emblem_dx_mm, y + d / 2), d)
        knock.append(_Ring(emblem.center[0], emblem.center[1], d / 2 + 0.8))
        y += d + st.gap_after_emblem_mm + extra[1]
    kaz_title = template.title.get("kaz") or " ".join(_role_lines(template, "title_kaz"))
    rus_title = template.title.get("rus") or " ".join(_role_lines(template, "title_rus"))
    title_w = min(st.title_width_mm, x1 - x0)
    if kaz_title:
        y = _title_block(kaz_title, True, st, st.title_cap_mm * tight, y, title_w, W / 2, texts) + st.gap_between_titles_mm + extra[2]
    if rus_title:
        y = _title_block(rus_title, False, st, st.title_cap_mm * tight, y, title_w, W / 2, texts)

    date = " ".join(_role_lines(template, "date"))
    if date:
        chain = _chain(st.body_family, st.date_weight)
        cap, c = st.date_cap_mm, st.body_condense
        parts = [p.strip() for p in date.split("/")] if "/" in date else [date]
        y += st.gap_before_date_mm + extra[3] + cap
        if st.date_layout == "stacked" and len(parts) == 2:
            texts.append(_line(parts[0], chain, cap, c, x0, x1, y, "center"))
            y += cap * st.body_lead
            texts.append(_line(parts[1], chain, cap, c, x0, x1, y, "center"))
        elif st.date_layout == "spread" and len(parts) == 2:
            texts.append(_line(parts[0], chain, cap, c, x0 + 2, mid - 2, y, "left"))
            texts.append(_line(parts[1], chain, cap, c, mid + 2, x1 - 2, y, "right"))
        else:
            texts.append(_line(" / ".join(parts), chain, cap, c, x0, x1, y, "center"))

    instruction = _sentences(_role_lines(template, "instruction"))
    if instruction:
        chain = _chain(st.body_family, st.instruction_weight)
        cap, c = st.instruction_cap_mm, st.body_condense
        iw = min(st.instruction_width_mm, x1 - x0 - (6 if st.instruction_boxed else 0))
        left, right = mid - iw / 2, mid + iw / 2
        top = y + st.gap_before_instruction_mm + extra[4] + (2.5 if st.instruction_boxed else 0.0)  # room for a frame
        y = top
        first = True
        for sentence in instruction:
            for text in _wrap(sentence, lambda s: _measure(s, chain, cap) * c, iw, False):
                y += cap if first else cap * st.body_lead
                texts.append(_line(text, chain, cap, c, left, right, y, st.instruction_align))
                first = False
        if st.instruction_boxed:
            pad, w = 2.0, 0.25
            fx0, fy0, fx1, fy1 = left - pad - 1, top - pad, right + pad + 1, y + cap * 0.35 + pad
            boxes.append(_Box(fx0, fy0, fx1, fy1, hole=(fx0 + w, fy0 + w, fx1 - w, fy1 - w)))
            y = fy1

    return emblem, y, y + st.gap_before_table_mm + extra[5]


def _front_plan(template: Template, st: PressStyle) -> _Plan:
    W, H = template.paper_w, template.paper_h
    x0, x1 = st.table_left_mm, W - st.table_right_mm
    texts: list[_Text] = []
    boxes: list[_Box] = []
    knock: list[_Box | _Ring] = []
    emblem, header_bottom, y_t = _front_header(template, st, 0.0, 1.0, texts, boxes, knock)
    if y_t < st.table_top_min_mm:
        # a short title (most maslikhats): the press airs the header out instead of
        # pulling the table up
        texts, boxes, knock = [], [], []
        emblem, header_bottom, y_t = _front_header(template, st, st.table_top_min_mm - y_t, 1.0, texts, boxes, knock)
    tight = 1.0
    while y_t > st.table_top_max_mm and tight > 0.7:
        # a long title (the Mazhilis): the press sets it smaller and closer instead
        tight *= 0.95
        texts, boxes, knock = [], [], []
        emblem, header_bottom, y_t = _front_header(template, st, 0.0, tight, texts, boxes, knock)

    # The table.
    n = len(template.options)
    bottom_room = max(12.0, _frame_inner(st) + 4.0) + (6.0 if st.microtext == "foot" else 0.0)
    row_h = min(st.row_h_mm, (H - bottom_room - y_t) / n)
    sq = min(st.square_mm, row_h - 5.0)
    y_b = y_t + n * row_h
    rule = st.rule_mm
    if st.border == "heavy":
        b_in = st.border_mm
        boxes.append(_Box(x0, y_t, x1, y_b, hole=(x0 + b_in, y_t + b_in, x1 - b_in, y_b - b_in)))
    elif st.border == "double":
        wo, g = st.double_outer_mm, st.double_gap_mm
        boxes.append(_Box(x0, y_t, x1, y_b, hole=(x0 + wo, y_t + wo, x1 - wo, y_b - wo)))
        i0 = wo + g
        b_in = i0 + rule
        boxes.append(_Box(x0 + i0, y_t + i0, x1 - i0, y_b - i0, hole=(x0 + b_in, y_t + b_in, x1 - b_in, y_b - b_in)))
    else:
        b_in = rule
        boxes.append(_Box(x0, y_t, x1, y_b, hole=(x0 + b_in, y_t + b_in, x1 - b_in, y_b - b_in)))
    sep_w = st.separator_mm
    sep = x1 - b_in - sq - 2 * st.square_pad_mm - sep_w / 2
    boxes.append(_Box(sep - sep_w / 2, y_t + b_in, sep + sep_w / 2, y_b - b_in))
    name_left = x0 + b_in
    if st.numbering == "cell":
        nx = x0 + b_in + st.number_cell_mm
        boxes.append(_Box(nx - rule / 2, y_t + b_in, nx + rule / 2, y_b - b_in))
        name_left = nx + rule / 2
    for k in range(1, n):
        yk = y_t + k * row_h
        boxes.append(_Box(x0 + b_in, yk - rule / 2, x1 - b_in, yk + rule / 2))
    if st.knockout_table:
        knock.append(_Box(x0, y_t, x1, y_b))

    squares: dict[str, Rect] = {}
    rows: dict[str, Rect] = {}
    kaz_chain, rus_chain = _chain(st.body_family, "bold"), _chain(st.body_family, st.rus_weight)
    for i, option in enumerate(template.options):
        top, bot = y_t + i * row_h, y_t + (i + 1) * row_h
        inner_top = top + (b_in if i == 0 else rule / 2)
        inner_bot = bot - (b_in if i == n - 1 else rule / 2)
        cy = (inner_top + inner_bot) / 2
        rows[option.id] = Rect(x0, top, x1 - x0, row_h)
        cx = (sep + sep_w / 2 + x1 - b_in) / 2
        sx0, sy0 = cx - sq / 2, cy - sq / 2
        squares[option.id] = Rect(sx0, sy0, sq, sq)
        w = st.square_line_mm
        boxes.append(_Box(sx0, sy0, sx0 + sq, sy0 + sq, hole=(sx0 + w, sy0 + w, sx0 + sq - w, sy0 + sq - w)))
        if st.knockout_squares:
            knock.append(_Box(sx0 + w, sy0 + w, sx0 + sq - w, sy0 + sq - w))
        _name_cell(option, i, st, kaz_chain, rus_chain, name_left, sep - sep_w / 2, inner_top, inner_bot, texts)
        if st.numbering == "cell":
            ncap = st.name_kaz_cap_mm
            texts.append(_line(f"{i + 1}", kaz_chain, ncap, 1.0, x0 + b_in, name_left, cy + ncap / 2, "center"))

    # Microtext: a "rule" of tiny repeated words, deep in the background's hue.
    if st.microtext == "rule" and y_t - header_bottom >= 3.0:
        texts.append(_microtext(st, x0, x1, (header_bottom + y_t) / 2 + st.microtext_cap_mm / 2))
    elif st.microtext == "foot":
        texts.append(_microtext(st, x0, x1, H - _foot_mm(st, 7.0)))

    geometry = SideGeometry(
        paper_mm=(W, H), side="front", squares_mm=squares, rows_mm=rows, table_mm=Rect(x0, y_t, x1 - x0, y_b - y_t),
        separator_x_mm=sep, table_line_mm=rule, square_line_mm=st.square_line_mm,
        signature_box_mm=None, signature_line_mm=None, stamp_mm=None,
    )
    return _Plan(geometry, tuple(texts), tuple(boxes), (), emblem, tuple(knock), True)


def _name_cell(option: Option, index: int, st: PressStyle, kaz_chain: tuple[str, ...], rus_chain: tuple[str, ...],
               left: float, right: float, top: float, bottom: float, texts: list[_Text]) -> None:
    """Set a party's Kazakh name (bold) over its Russian name, centred on the row's height;
    type shrinks until the block fits the row with 2.5 mm to spare."""
    kaz, rus = option.kaz, option.rus
    if st.names_upper:
        kaz, rus = kaz.upper(), rus.upper()
    prefix = f"{index + 1}. " if st.numbering == "inline" else ""
    c = st.body_condense
    l_in, r_in = left + st.name_indent_mm, right - max(2.5, st.name_indent_mm * 0.6)
    kcap, rcap = st.name_kaz_cap_mm, st.name_rus_cap_mm
    for _ in range(12):
        hang = _measure(prefix, kaz_chain, kcap) * c if prefix and st.name_align == "left" else 0.0
        width = r_in - l_in - hang
        klines = _wrap(prefix + kaz if not hang else kaz, lambda s: _measure(s, kaz_chain, kcap) * c, width, True) if kaz else []
        rlines = _wrap(rus, lambda s: _measure(s, rus_chain, rcap) * c, width, True) if rus else []
        caps = [kcap] * len(klines) + [rcap] * len(rlines)
        if not caps:
            return
        base = [caps[0]]
        for j in range(1, len(caps)):
            base.append(base[-1] + max(caps[j - 1], caps[j]) * st.body_lead + (st.name_gap_mm if j == len(klines) else 0.0))
        height = base[-1] + 0.2 * caps[-1]  # allow for descenders
        if height <= bottom - top - 5.0:
            break
        kcap, rcap = kcap * 0.92, rcap * 0.92
    y0 = (top + bottom) / 2 - height / 2
    for j, (text, cap) in enumerate(zip(klines + rlines, caps)):
        chain = kaz_chain if j < len(klines) else rus_chain
        texts.append(_line(text, chain, cap, c, l_in + hang, r_in, y0 + base[j], st.name_align))
    if hang:
        texts.append(_line(prefix.strip(), kaz_chain, kcap, c, l_in, l_in + hang, y0 + base[0], "left"))


def _microtext(st: PressStyle, left: float, right: float, baseline: float) -> _Text:
    """A line of tiny repeated words (the commission's name in both languages) as wide as
    fits between ``left`` and ``right``; printed in the accent ink, it reads as a fine rule."""
    chain = _chain(st.body_family, "regular")
    unit = "ҚАЗАҚСТАН РЕСПУБЛИКАСЫ ОРТАЛЫҚ САЙЛАУ КОМИССИЯСЫ • ЦЕНТРАЛЬНАЯ ИЗБИРАТЕЛЬНАЯ КОМИССИЯ РЕСПУБЛИКИ КАЗАХСТАН • "
    words: list[str] = []
    text = ""
    for w in (unit * 20).split():
        trial = " ".join(words + [w])
        if _measure(trial, chain, st.microtext_cap_mm) > right - left:
            break
        words.append(w)
        text = trial
    return _line(text, chain, st.microtext_cap_mm, 1.0, left, right, baseline, "center", layer="accent")


# --------------------------------------------------------------------------------------
# Back


def _frame_inner(st: PressStyle) -> float:
    """Sheet edge to the inner edge of the border band (0 without one)."""
    return st.frame_margin_mm + st.frame_width_mm if st.frame_band else 0.0


def _foot_mm(st: PressStyle, wanted: float) -> float:
    """Sheet bottom to the baseline of a foot line the press wants ``wanted`` mm up, moved
    inside the border band if there is one."""
    return max(wanted, _frame_inner(st) + 3.0) if st.frame_band else wanted


def _back_plan(template: Template, st: PressStyle) -> _Plan:
    W, H = template.paper_w, template.paper_h
    back = template.back
    if back is None:
        raise ValueError(f"{template.id}: the template has no back side")
    texts: list[_Text] = []
    boxes: list[_Box] = []
    rings: list[_Ring] = []
    ml, mr = st.table_left_mm, W - st.table_right_mm
    sig_box = sig_line = stamp = None
    y_bot = H - max(st.sig_bottom_mm, _foot_mm(st, st.imprint_bottom_mm) + 6.0)  # clear of the foot line

    if back.signature is not None:
        chain = _chain(st.body_family, st.sig_weight)
        c = st.body_condense
        mode = st.sig_label_pos
        cap = st.sig_cap_mm * (0.85 if mode == "below" else 1.0)
        paras = [l for l in back.signature.label if l.strip()]

        def set_label(width: float) -> list[str]:
            return [line for p in paras for line in _wrap(p, lambda s: _measure(s, chain, cap) * c, width, False)]

        lead = cap * st.body_lead
        if mode == "left":
            lw = st.sig_left_label_width_mm
            lines = set_label(lw)
            lx0, lx1 = ml + lw + 4.0, mr
            last = y_bot - 2.0
            first = last - (len(lines) - 1) * lead
            line_y = last + 0.6
            bx0, bx1 = ml, mr
            for j, text in enumerate(lines):
                texts.append(_line(text, chain, cap, c, ml, ml + lw, first + j * lead, "left"))
            box_top = min(first - cap, line_y - st.sign_space_mm) - 1.0
        else:
            lines = set_label(min(st.sig_label_width_mm, mr - ml))
            label_w = max((_measure(t, chain, cap) * c for t in lines), default=0.0)
            bw = max(label_w, st.sig_line_len_mm)
            bx0 = ml if st.sig_align == "left" else mr - bw if st.sig_align == "right" else (W - bw) / 2
            bx1 = bx0 + bw
            lx0 = bx0 if st.sig_align == "left" else bx1 - st.sig_line_len_mm if st.sig_align == "right" else (W - st.sig_line_len_mm) / 2
            lx1 = lx0 + st.sig_line_len_mm
            if mode == "above":
                line_y = y_bot - 2.0
                first = line_y - st.sign_space_mm - (len(lines) - 1) * lead
                box_top = first - cap - 1.5
            else:  # label below, as a caption
                line_y = y_bot - 1.5 - (len(lines) - 1) * lead - cap - 1.5
                first = line_y + 1.5 + cap
                box_top = line_y - st.sign_space_mm
            for j, text in enumerate(lines):
                texts.append(_line(text, chain, cap, c, bx0, bx1, first + j * lead, st.sig_align))
        w = st.sig_line_mm
        boxes.append(_Box(lx0, line_y - w / 2, lx1, line_y + w / 2))
        sig_line = (lx0, line_y, lx1, line_y)
        sig_box = Rect(min(bx0, lx0) - 2.0, box_top, max(bx1, lx1) - min(bx0, lx0) + 4.0, y_bot - box_top)

    if back.stamp is not None:
        d = st.stamp_diameter_mm
        above = sig_box.y if sig_box is not None else y_bot
        cy = above - st.stamp_gap_mm - d / 2
        cx = ml + d / 2 + 4 if st.stamp_x == "left" else mr - d / 2 - 4 if st.stamp_x == "right" else W / 2
        stamp = Emblem((cx, cy), d)
        if st.stamp_outline:
            rings.append(_Ring(cx, cy, d / 2, w=0.25, dash=2.0))
        if st.stamp_label:
            cap = st.stamp_label_cap_mm
            chain = _chain(st.body_family, "regular")
            texts.append(_line(st.stamp_label, chain, cap, 1.0, cx - d / 2, cx + d / 2, cy + cap / 2, "center"))

    if st.imprint:
        chain = _chain(st.body_family, "regular")
        cap = st.imprint_cap_mm
        width = _measure(st.imprint, chain, cap)
        cap *= min(1.0, (mr - ml) / max(width, 1e-6))
        texts.append(_line(st.imprint, chain, cap, 1.0, ml, mr, H - _foot_mm(st, st.imprint_bottom_mm), st.imprint_align))
    if st.microtext == "foot" and st.back_pattern and not st.imprint:
        texts.append(_microtext(st, ml, mr, H - _foot_mm(st, 7.0)))

    geometry = SideGeometry(
        paper_mm=(W, H), side="back", squares_mm={}, rows_mm={}, table_mm=None, separator_x_mm=None,
        table_line_mm=st.rule_mm, square_line_mm=st.square_line_mm,
        signature_box_mm=sig_box, signature_line_mm=sig_line, stamp_mm=stamp,
    )
    return _Plan(geometry, tuple(texts), tuple(boxes), tuple(rings), None, (), st.back_pattern)


def _map_geometry(g: SideGeometry, m: _Map) -> SideGeometry:
    line = g.signature_line_mm
    return SideGeometry(
        paper_mm=g.paper_mm, side=g.side,
        squares_mm={k: m.rect(r) for k, r in g.squares_mm.items()},
        rows_mm={k: m.rect(r) for k, r in g.rows_mm.items()},
        table_mm=None if g.table_mm is None else m.rect(g.table_mm),
        separator_x_mm=None if g.separator_x_mm is None else m.x(g.separator_x_mm),
        table_line_mm=g.table_line_mm * m.s, square_line_mm=g.square_line_mm * m.s,
        signature_box_mm=None if g.signature_box_mm is None else m.rect(g.signature_box_mm),
        signature_line_mm=None if line is None else (m.x(line[0]), m.y(line[1]), m.x(line[2]), m.y(line[3])),
        stamp_mm=None if g.stamp_mm is None else Emblem((m.x(g.stamp_mm.center[0]), m.y(g.stamp_mm.center[1])), g.stamp_mm.diameter * m.s),
    )


def _check(template: Template, side_name: str) -> None:
    if side_name not in ("front", "back"):
        raise ValueError(f"side_name must be 'front' or 'back', got {side_name!r}")
    if abs(template.paper_w - 210) > 3 or abs(template.paper_h - 297) > 3:
        raise ValueError(f"{template.id}: the second press prints only the 2021 A4 form, not {template.paper_w}x{template.paper_h} mm")
    if not template.title.get("kaz") and not _role_lines(template, "title_kaz"):
        raise ValueError(f"{template.id}: the front carries no title: not a 2021 one-sheet form")


def _plan(template: Template, side_name: str, style: PressStyle) -> _Plan:
    """The side's print, mapped onto the sheet (geometry and pixels both come from it)."""
    _check(template, side_name)
    design = _front_plan(template, style) if side_name == "front" else _back_plan(template, style)
    m = _sheet_map(template, style.offset_mm if side_name == "front" else style.back_offset_mm, style.scale)
    emblem = design.emblem
    if emblem is not None:
        emblem = Emblem((m.x(emblem.center[0]), m.y(emblem.center[1])), emblem.diameter * m.s)
    return _Plan(
        geometry=_map_geometry(design.geometry, m),
        texts=tuple(m.item(t) for t in design.texts),
        boxes=tuple(m.item(b) for b in design.boxes),
        rings=tuple(m.item(r) for r in design.rings),
        emblem=emblem,
        knockouts=tuple(m.item(k) for k in design.knockouts),
        pattern=design.pattern,
    )


def press_geometry(template: Template, side_name: str, style: PressStyle) -> SideGeometry:
    """Where this press prints the table, squares, signature line and stamp place.

    Parameters
    ----------
    template : Template
        A 2021 A4 form (Mazhilis or maslikhat, any row set).
    side_name : {"front", "back"}
    style : PressStyle

    Returns
    -------
    SideGeometry
        In mm on the sheet; exactly what :func:`press_side` draws (squares_mm is the outer
        edge of each square's border, in table order).

    Raises
    ------
    ValueError
        For another paper size or form (e.g. the 2023 A5), or an unknown side.
    """
    return _plan(template, side_name, style).geometry


# --------------------------------------------------------------------------------------
# Rasterising: coverage masks (float32, 0..1) at the requested resolution


def _span(a0: float, a1: float, n: int, ppm: float) -> tuple[int, np.ndarray]:
    """Pixels [i0, i0 + len) that the interval [a0, a1] mm touches, each with the fraction of
    it covered (exact box-filter antialiasing for axis-aligned edges)."""
    p0, p1 = a0 * ppm, a1 * ppm
    i0, i1 = max(0, math.floor(p0)), min(n, math.ceil(p1))
    if i1 <= i0:
        return i0, np.zeros(0, np.float32)
    idx = np.arange(i0, i1, dtype=np.float64)
    return i0, np.clip(np.minimum(p1, idx + 1) - np.maximum(p0, idx), 0.0, 1.0).astype(np.float32)


def _span_on(a0: float, a1: float, i0: int, length: int, ppm: float) -> np.ndarray:
    idx = np.arange(i0, i0 + length, dtype=np.float64)
    return np.clip(np.minimum(a1 * ppm, idx + 1) - np.maximum(a0 * ppm, idx), 0.0, 1.0).astype(np.float32)


def _box_cov(b: _Box, shape: tuple[int, int], ppm: float) -> tuple[int, int, np.ndarray] | None:
    """(row0, col0, coverage patch) of a box or frame."""
    r0, cy = _span(b.y0, b.y1, shape[0], ppm)
    c0, cx = _span(b.x0, b.x1, shape[1], ppm)
    if cy.size == 0 or cx.size == 0:
        return None
    cov = np.outer(cy, cx)
    if b.hole is not None:
        hx0, hy0, hx1, hy1 = b.hole
        cov -= np.outer(_span_on(hy0, hy1, r0, cy.size, ppm), _span_on(hx0, hx1, c0, cx.size, ppm))
    return r0, c0, cov


def _ring_cov(r: _Ring, shape: tuple[int, int], ppm: float) -> tuple[int, int, np.ndarray] | None:
    reach = r.r + r.w + 2.0 / ppm
    r0, c0 = max(0, math.floor((r.cy - reach) * ppm)), max(0, math.floor((r.cx - reach) * ppm))
    r1, c1 = min(shape[0], math.ceil((r.cy + reach) * ppm)), min(shape[1], math.ceil((r.cx + reach) * ppm))
    if r1 <= r0 or c1 <= c0:
        return None
    ys = ((np.arange(r0, r1, dtype=np.float32) + 0.5) / ppm - r.cy)[:, None]
    xs = ((np.arange(c0, c1, dtype=np.float32) + 0.5) / ppm - r.cx)[None, :]
    dist = np.sqrt(xs * xs + ys * ys)
    if r.w <= 0:
        return r0, c0, np.clip((r.r - dist) * ppm + 0.5, 0, 1)
    cov = np.clip((r.w / 2 - np.abs(dist - r.r)) * ppm + 0.5, 0, min(1.0, r.w * ppm))
    if r.dash > 0:
        arc = (np.arctan2(ys, xs) + np.pi) * r.r  # mm along the circle
        period = (2 * np.pi * r.r) / max(1, round(2 * np.pi * r.r / (2 * r.dash)))
        phase = np.mod(arc, period)
        cov *= np.clip(np.minimum(phase, period / 2 - phase) * ppm + 0.5, 0, 1)  # dash = half a period
    return r0, c0, cov


def _stamp_max(layer: np.ndarray, patch: tuple[int, int, np.ndarray] | None) -> None:
    if patch is None:
        return
    r0, c0, cov = patch
    view = layer[r0:r0 + cov.shape[0], c0:c0 + cov.shape[1]]
    np.maximum(view, cov[: view.shape[0], : view.shape[1]], out=view)


def _draw_text(layer: np.ndarray, t: _Text, ppm: float) -> None:
    """Render a line with FreeType and resample it (subpixel position, exact planned width)."""
    cap_px = t.cap * ppm
    if cap_px < 1.0 or t.width <= 0 or not t.text.strip():
        return
    runs = _runs(t.text, t.chain)
    fonts = [_font(p, round(cap_px / _cap_ratio(p), 2)) for p, _ in runs]
    asc = max(f.getmetrics()[0] for f in fonts)
    desc = max(f.getmetrics()[1] for f in fonts)
    lengths = [f.getlength(s) for f, (_, s) in zip(fonts, runs)]
    total = sum(lengths)
    if total <= 0:
        return
    pad = int(cap_px * 0.6) + 3
    tmp = Image.new("L", (int(math.ceil(total)) + 2 * pad, asc + desc + 2 * pad), 0)
    draw = ImageDraw.Draw(tmp)
    x = float(pad)
    for f, (_, s), length in zip(fonts, runs, lengths):
        draw.text((x, pad + asc), s, font=f, fill=255, anchor="ls")
        x += length
    src = np.asarray(tmp)
    sx = t.width * ppm / total
    # pixel-centre coordinates: dst = sx * (src + 0.5 - pad) + x_mm * ppm - 0.5
    tx = t.x * ppm + sx * (0.5 - pad) - 0.5
    ty = t.baseline * ppm - pad - asc
    h, w = layer.shape
    c0, r0 = max(0, math.floor(tx - 1)), max(0, math.floor(ty - 1))
    c1, r1 = min(w, math.ceil(tx + sx * src.shape[1] + 1)), min(h, math.ceil(ty + src.shape[0] + 1))
    if c1 <= c0 or r1 <= r0:
        return
    m = np.array([[sx, 0, tx - c0], [0, 1, ty - r0]], np.float64)
    patch = cv2.warpAffine(src, m, (c1 - c0, r1 - r0), flags=cv2.INTER_LINEAR, borderValue=0)
    view = layer[r0:r1, c0:c1]
    np.maximum(view, patch.astype(np.float32) * (1 / 255), out=view)


# --------------------------------------------------------------------------------------
# The security background


def _line_cov(u: np.ndarray, grad_px: np.ndarray | float, w_px: float) -> np.ndarray:
    """Coverage of the curves where the phase ``u`` is an integer, ``w_px`` wide, from the
    phase's distance to the nearest integer over its gradient (per pixel)."""
    d = np.abs(u - np.rint(u)) / grad_px
    return np.clip(w_px * 0.5 + 0.5 - d, 0.0, min(1.0, w_px))


def _rosette(xs, ys, center, st: PressStyle, ppm: float, phases: Sequence[float]) -> np.ndarray:
    """Wavy rings ``r / p + a sin(k theta + phase)`` about ``center``: with phases 0 and pi
    the two families interlace like a guilloche rosette."""
    shape = (ys.shape[0], xs.shape[1])
    dx = np.ascontiguousarray(np.broadcast_to(xs - np.float32(center[0]), shape))
    dy = np.ascontiguousarray(np.broadcast_to(ys - np.float32(center[1]), shape))
    r, th = cv2.cartToPolar(dx, dy)  # an order of magnitude faster than sqrt + arctan2
    k, a, p = st.bg_lobes, st.bg_amplitude, st.bg_period_mm
    s, c = np.sin(k * th), np.cos(k * th)
    grad = np.sqrt((1 / p) ** 2 + (a * k * c / np.maximum(r, 1.0)) ** 2) / ppm
    base = r / p
    cov = None
    for ph in phases:
        sign = 1.0 if math.cos(ph) >= 0 else -1.0  # phases 0 or pi: sin(x + pi) = -sin(x)
        fam = _line_cov(base + sign * a * s, grad, st.bg_line_mm * ppm)
        cov = fam if cov is None else np.maximum(cov, fam)
    cov *= np.clip((r - 4.0) / 6.0, 0, 1)  # the centre would be a blot of converging lines
    if st.bg_medallion_mm > 0:
        cov *= np.clip((st.bg_medallion_mm - r) / 10.0, 0, 1)
    return cov


def _lace(xs, ys, st: PressStyle, ppm: float) -> np.ndarray:
    """Two mirrored sine families along a tilted axis, crossing into a chain of lenses."""
    ang = math.radians(st.bg_angle_deg)
    ca, sa = np.float32(math.cos(ang)), np.float32(math.sin(ang))
    xr = xs * ca + ys * sa
    yr = ys * ca - xs * sa
    p, a, lam = st.bg_period_mm, st.bg_amplitude, st.bg_wavelength_mm
    t = xr * np.float32(2 * math.pi / lam)
    s, c = np.sin(t), np.cos(t)
    grad = np.sqrt((1 / p) ** 2 + (a * 2 * math.pi / lam * c) ** 2) / ppm
    base = yr / p
    w = st.bg_line_mm * ppm
    return np.maximum(_line_cov(base + a * s, grad, w), _line_cov(base - a * s, grad, w))


def _confocal(xs, ys, st: PressStyle, ppm: float) -> np.ndarray:
    """Ellipses about two foci, waving as they cross the confocal hyperbolas (the two
    families are orthogonal, so the gradient is exact)."""
    (fx1, fy1), (fx2, fy2) = st.bg_centers_mm
    dx1, dy1, dx2, dy2 = xs - np.float32(fx1), ys - np.float32(fy1), xs - np.float32(fx2), ys - np.float32(fy2)
    r1 = np.maximum(np.sqrt(dx1 * dx1 + dy1 * dy1), 1e-3)
    r2 = np.maximum(np.sqrt(dx2 * dx2 + dy2 * dy2), 1e-3)
    dot = (dx1 * dx2 + dy1 * dy2) / (r1 * r2)
    p = st.bg_period_mm
    g_e = np.sqrt(np.maximum(2 + 2 * dot, 0)) / p
    g_h = np.sqrt(np.maximum(2 - 2 * dot, 0)) / (2 * p)
    u_e = (r1 + r2) / p
    u_h = (r1 - r2) / (2 * p)
    m = max(2.0, st.bg_wavelength_mm / 2)  # hyperbola pitches per wiggle
    t = u_h * np.float32(2 * math.pi / m)
    a = st.bg_amplitude * 0.6
    s, c = np.sin(t), np.cos(t)
    grad = np.maximum(np.sqrt(g_e ** 2 + (a * 2 * math.pi / m * c * g_h) ** 2), 0.05 / p) / ppm
    w = st.bg_line_mm * ppm
    return np.maximum(_line_cov(u_e + a * s, grad, w), _line_cov(u_e - a * s, grad, w))


def _frame_band(cov: np.ndarray, st: PressStyle, W: float, H: float, xs: np.ndarray, ys: np.ndarray, ppm: float) -> None:
    """Add a guilloche border band (two interlaced waves between two edge lines) to the rows
    ``ys`` (mm, column vector) of ``cov``; away from the top and bottom only the side strips
    are computed."""
    m, bw = st.frame_margin_mm, st.frame_width_mm
    reach = m + bw + 1.0
    w = xs.shape[1]
    if ys[0, 0] > reach and ys[-1, 0] < H - reach:
        n = min(w, int(math.ceil(reach * ppm)))
        spans = (slice(0, n), slice(w - n, w))
    else:
        spans = (slice(0, w),)
    p, a, lam = bw / 5.0, 0.8, st.bg_wavelength_mm * 0.6
    lw = st.bg_line_mm * ppm
    edge_w = max(0.15, st.bg_line_mm * 1.5) * ppm
    for cs in spans:
        x = xs[:, cs]
        t = np.minimum(np.minimum(x - m, W - m - x), np.minimum(ys - m, H - m - ys))  # inward distance
        ph = (x + ys) * np.float32(2 * math.pi / lam)  # runs along every edge
        s, c = np.sin(ph), np.cos(ph)
        grad = np.sqrt((1 / p) ** 2 + 2 * (a * 2 * math.pi / lam * c) ** 2) / ppm
        band = np.maximum(_line_cov(t / p + a * s, grad, lw), _line_cov(t / p - a * s, grad, lw))
        band *= np.clip(t * ppm + 0.5, 0, 1) * np.clip((bw - t) * ppm + 0.5, 0, 1)
        edges = _line_cov(t / bw, 1.0 / (bw * ppm), edge_w)
        edges *= np.clip((bw + 1.0 - np.abs(t - bw / 2) * 2) * ppm, 0, 1)  # only the band's own two edges
        view = cov[:, cs]
        np.maximum(view, np.maximum(band, edges), out=view)


def _background_rows(st: PressStyle, W: float, H: float, xs: np.ndarray, ys: np.ndarray, ppm: float) -> np.ndarray:
    """Coverage (0..1, float32, ``(len(ys), len(xs))``) of the security print in its own
    colour, for pixel centres ``xs`` (1, w) and ``ys`` (h, 1) in mm."""
    if st.bg_kind == "rosette":
        cov = _rosette(xs, ys, st.bg_centers_mm[0], st, ppm, (0.0, math.pi))
    elif st.bg_kind == "twin":
        cov = np.maximum(_rosette(xs, ys, st.bg_centers_mm[0], st, ppm, (0.0,)),
                         _rosette(xs, ys, st.bg_centers_mm[1], st, ppm, (math.pi,)))
    elif st.bg_kind == "lace":
        cov = _lace(xs, ys, st, ppm)
    else:
        cov = _confocal(xs, ys, st, ppm)
    shape = (ys.shape[0], xs.shape[1])
    if cov.shape != shape or cov.dtype != np.float32 or not cov.flags.writeable:
        cov = np.broadcast_to(cov, shape).astype(np.float32)
    if st.tint != "none":
        # a flat tint screen of the same ink: coverages add as 1 - (1 - a)(1 - b)
        if st.tint == "vertical":
            tint = (st.tint_strength * np.clip(1.2 - ys / H, 0, 1)).astype(np.float32)
        else:
            gx = np.exp(-(((xs - W / 2) / (W * 0.45)) ** 2))
            gy = np.exp(-(((ys - H * 0.5) / (H * 0.45)) ** 2))
            tint = (st.tint_strength * gx * gy).astype(np.float32)
        cov += tint * (1 - cov)
    if st.frame_band:
        _frame_band(cov, st, W, H, xs, ys, ppm)
    return cov


def _emblem_layers(e: Emblem, st: PressStyle, ppm: float, shape: tuple[int, int]):
    """(row0, col0, blue, gold) coverage patches of the state emblem: a blue disc in a gold
    ring, gold sun rays from a shanyrak, two wings, a star and the word QAZAQSTAN. Drawn
    supersampled and area-averaged down (antialiasing)."""
    ss = 4 if ppm < 10 else 3
    cx, cy = e.center
    R = e.diameter / 2
    r0, c0 = max(0, math.floor((cy - R) * ppm) - 2), max(0, math.floor((cx - R) * ppm) - 2)
    r1, c1 = min(shape[0], math.ceil((cy + R) * ppm) + 2), min(shape[1], math.ceil((cx + R) * ppm) + 2)
    if r1 <= r0 or c1 <= c0:
        return None
    H_, W_ = (r1 - r0) * ss, (c1 - c0) * ss
    k = ss * ppm  # supersampled px per mm
    ox, oy = (cx * ppm - c0) * ss - 0.5, (cy * ppm - r0) * ss - 0.5  # centre, pixel-centre coords
    Rp = R * k
    SH = 16  # cv2 fixed-point subpixel shift: 4 bits

    def pt(x: float, y: float) -> tuple[int, int]:  # emblem units (R = 1) -> fixed point
        return (int(round((ox + x * Rp) * SH)), int(round((oy + y * Rp) * SH)))

    def disc(img, r, val):
        c = pt(0, 0)
        cv2.circle(img, c, int(round(r * Rp * SH)), val, -1, cv2.LINE_8, 4)

    def poly(img, pts, val):
        cv2.fillPoly(img, [np.array([pt(x, y) for x, y in pts], np.int32)], val, cv2.LINE_8, 4)

    blue = np.zeros((H_, W_), np.uint8)
    gold = np.zeros((H_, W_), np.uint8)
    disc(blue, 0.86, 255)
    disc(gold, 1.0, 255)
    disc(gold, 0.86, 0)
    n = st.emblem_rays
    di, do = 0.22 * math.pi / n, 0.5 * math.pi / n
    for i in range(n):
        a = 2 * math.pi * i / n + math.pi / n
        poly(gold, [(0.33 * math.cos(a - di), 0.33 * math.sin(a - di)), (0.82 * math.cos(a - do), 0.82 * math.sin(a - do)),
                    (0.82 * math.cos(a + do), 0.82 * math.sin(a + do)), (0.33 * math.cos(a + di), 0.33 * math.sin(a + di))], 255)
    # shanyrak: a ring with crossed bars
    disc(gold, 0.31, 255)
    disc(gold, 0.22, 0)
    bars = np.zeros_like(gold)
    for v in (-0.075, 0.075):
        poly(bars, [(v - 0.02, -0.3), (v + 0.02, -0.3), (v + 0.02, 0.3), (v - 0.02, 0.3)], 255)
        poly(bars, [(-0.3, v - 0.02), (0.3, v - 0.02), (0.3, v + 0.02), (-0.3, v + 0.02)], 255)
    inner = np.zeros_like(gold)
    disc(inner, 0.22, 255)
    np.maximum(gold, bars & inner, out=gold)
    # wings: fans of feathers each side, outlined in blue so they read as feathers
    for side in (-1, 1):
        for j, deg in enumerate((-66, -50, -34, -18, -2)):
            a = math.radians(deg)
            tip = (side * 0.8 * math.cos(a), 0.8 * math.sin(a))
            root = (side * 0.36, 0.12 - 0.03 * j)
            dx, dy = tip[0] - root[0], tip[1] - root[1]
            L = math.hypot(dx, dy)
            nx, ny = -dy / L, dx / L
            mid = (root[0] + 0.6 * dx, root[1] + 0.6 * dy)
            pts = [(root[0] + nx * 0.04, root[1] + ny * 0.04), (mid[0] + nx * 0.065, mid[1] + ny * 0.065), tip,
                   (mid[0] - nx * 0.065, mid[1] - ny * 0.065), (root[0] - nx * 0.04, root[1] - ny * 0.04)]
            poly(gold, pts, 255)
            arr = np.array([pt(x, y) for x, y in pts], np.int32)
            cv2.polylines(gold, [arr], True, 0, max(1, int(round(0.018 * Rp))), cv2.LINE_8, 4)
    # star at the top, on a clear patch of blue so it does not merge into the rays
    clear = np.zeros_like(gold)
    cv2.circle(clear, pt(0, -0.6), int(round(0.17 * Rp * SH)), 255, -1, cv2.LINE_8, 4)
    gold[clear > 0] = 0
    star = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        rr = 0.13 if i % 2 == 0 else 0.055
        star.append((rr * math.cos(a), -0.6 + rr * math.sin(a)))
    poly(gold, star, 255)
    # a blue band at the foot with the word in gold
    band = np.zeros_like(gold)
    poly(band, [(-0.9, 0.5), (0.9, 0.5), (0.9, 0.75), (-0.9, 0.75)], 255)
    inner86 = np.zeros_like(gold)
    disc(inner86, 0.86, 255)
    gold[(band & inner86) > 0] = 0
    face = _chain("dejavu_sans", "bold")[0]
    word_cap = min(0.13 * Rp, 0.14 * Rp * 0.92 * Rp / max(_measure("QAZAQSTAN", (face,), 0.14 * Rp), 1e-6))
    if word_cap >= 3:  # below ~3 px a word is only a smudge: leave the band plain
        f = _font(face, round(word_cap / _cap_ratio(face), 2))
        img = Image.fromarray(gold)
        wlen = f.getlength("QAZAQSTAN")
        ImageDraw.Draw(img).text((ox + 0.5 - wlen / 2, oy + 0.5 + 0.685 * Rp), "QAZAQSTAN", font=f, fill=255, anchor="ls")  # on the band's chord
        gold = np.asarray(img).copy()
    size = (c1 - c0, r1 - r0)
    blue_c = cv2.resize(blue, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    gold_c = cv2.resize(gold, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return r0, c0, blue_c * (1 - gold_c), gold_c


# --------------------------------------------------------------------------------------
# The sheet


def press_side(template: Template, side_name: str, *, px_per_mm: float, style: PressStyle) -> np.ndarray:
    """Print one blank side of the sheet.

    Parameters
    ----------
    template : Template
        A 2021 A4 form (Mazhilis or maslikhat, any row set).
    side_name : {"front", "back"}
    px_per_mm : float
        Resolution (the press is exercised at 4-14).
    style : PressStyle
        From :func:`random_press_style`; the image is a deterministic function of it.

    Returns
    -------
    numpy.ndarray
        ``(round(paper_h * px_per_mm), round(paper_w * px_per_mm), 3)`` uint8 BGR, the whole
        sheet edge to edge; everything :func:`press_geometry` reports is drawn where it says.
    """
    plan = _plan(template, side_name, style)
    ppm = float(px_per_mm)
    W, H = template.paper_w, template.paper_h
    shape = (int(round(H * ppm)), int(round(W * ppm)))

    # Coverage layers (0..1). np.zeros pages in lazily, so mostly-empty layers are cheap.
    layers = {"ink": np.zeros(shape, np.float32), "accent": np.zeros(shape, np.float32)}
    for b in plan.boxes:
        _stamp_max(layers[b.layer], _box_cov(b, shape, ppm))
    for r in plan.rings:
        _stamp_max(layers[r.layer], _ring_cov(r, shape, ppm))
    for t in plan.texts:
        _draw_text(layers[t.layer], t, ppm)
    has_accent = any(i.layer == "accent" for i in (*plan.texts, *plan.boxes, *plan.rings))
    knock = None
    if plan.pattern and plan.knockouts:
        knock = np.zeros(shape, np.float32)
        for k in plan.knockouts:
            _stamp_max(knock, _box_cov(k, shape, ppm) if isinstance(k, _Box) else _ring_cov(k, shape, ppm))

    # Inks overprint: each multiplies the paper by (1 - coverage * (1 - ink colour)). Done in
    # bands of rows so that temporaries stay in cache (whole-sheet temporaries cost more in
    # page faults than in arithmetic).
    paper = np.asarray(style.paper_bgr, np.float32)
    k_bg = (1 - np.asarray(style.bg_bgr, np.float32) / 255) * np.float32(style.bg_strength)
    k_acc = 1 - np.asarray(style.accent_bgr, np.float32) / 255
    k_ink = 1 - np.asarray(style.ink_bgr, np.float32) / 255
    xs = ((np.arange(shape[1], dtype=np.float32) + 0.5) / np.float32(ppm))[None, :]
    out = np.empty(shape + (3,), np.uint8)
    band = 96
    for r0 in range(0, shape[0], band):
        r1 = min(shape[0], r0 + band)
        rows = np.full((r1 - r0, shape[1], 3), paper, np.float32)
        if plan.pattern:
            ys = ((np.arange(r0, r1, dtype=np.float32) + 0.5) / np.float32(ppm))[:, None]
            bg = _background_rows(style, W, H, xs, ys, ppm)
            if knock is not None:
                bg *= 1 - knock[r0:r1]
            rows *= 1 - bg[..., None] * k_bg
        if has_accent:
            rows *= 1 - layers["accent"][r0:r1, :, None] * k_acc
        rows *= 1 - layers["ink"][r0:r1, :, None] * k_ink
        rows += 0.5
        out[r0:r1] = rows.astype(np.uint8)
    if plan.emblem is not None:
        _print_emblem(out, plan.emblem, style, ppm)
    return out


def _print_emblem(out: np.ndarray, e: Emblem, st: PressStyle, ppm: float) -> None:
    got = _emblem_layers(e, st, ppm, out.shape[:2])
    if got is None:
        return
    r0, c0, blue, gold = got
    view = out[r0:r0 + blue.shape[0], c0:c0 + blue.shape[1]].astype(np.float32)
    if st.emblem_colour:
        inks = ((blue, np.asarray(st.emblem_blue_bgr, np.float32)), (gold, np.asarray(st.emblem_gold_bgr, np.float32)))
    else:  # one-colour press: the blue as a light screen of the ink, the gold as solid ink
        ink = np.asarray(st.ink_bgr, np.float32)
        inks = ((blue * 0.22, ink), (gold * 0.92, ink))
    for cov, colour in inks:
        view *= 1 - cov[..., None] * (1 - colour / 255)
    out[r0:r0 + blue.shape[0], c0:c0 + blue.shape[1]] = np.clip(view + 0.5, 0, 255).astype(np.uint8)
