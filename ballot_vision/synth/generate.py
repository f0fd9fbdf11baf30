"""Synthetic phone photos of ballots with exact ground truth (``truth.csv``).

Each photo ``index`` is made from its own random stream, seeded by ``(seed, index)``:
photos are independent of each other and of how many are generated, and the same seed
gives the same bytes. A photo is first *planned* (every random decision, cheap, see
:func:`plan_photo`), then *made* (:func:`generate_one`). Conditions can be forced by
name (``generate_one(5, seed=1, kind="front", mark="tick", rotation_deg=90)``); forcing
one leaves every other decision as it would have been, because each aspect draws
from its own child stream.

Truth columns are documented in :data:`TRUTH_COLUMNS` and ``samples/README.md``.
"""

from __future__ import annotations

import csv
import io
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ballot_vision.render import PrintStyle, SideGeometry, render_side, side_geometry
from ballot_vision.synth import camera, delivery, marks, paper, scenes
from ballot_vision.synth.ink import PENS, apply_ink, blend_coverage, vary_pen
from ballot_vision.templates import Rect, Template, load_templates

DIFFICULTIES = ("easy", "normal", "hard")

#: truth.csv columns, in order (a contract: append, never rename).
TRUTH_COLUMNS: tuple[str, ...] = (
    "file", "kind", "template", "expected_decision", "party", "marked", "duplicate_of", "signature",
    "must_review", "conditions",
    "mark", "pen", "stroke_mm", "rotation_deg", "exif_orientation", "tilt_deg", "frame_fill", "out_of_frame",
    "background", "gradient", "shadow", "cast", "blur", "noise_sigma", "fold", "curl", "finger", "jpeg_quality",
    "delivery", "print_font", "print_scale", "print_dx_mm", "print_dy_mm", "row_height_mm", "square_mm",
    "paper_shade", "difficulty", "squares_px",
    # Extra columns.
    "vote", "other_kind", "dup_variant", "format", "width_px", "height_px", "stray_dots", "over_border", "stamp",
    "signature_px", "hidden_squares", "index", "seed", "square_cell_mm", "table_inset_mm", "press",
)  # fmt: skip

#: Share of maslikhat ballots photographed on one of the other row sets (BALLOTS-2021.md:
#: the People's Party ran in 74 of 216 maslikhats, Auyl in 159, Ak Zhol in 175; by those
#: shares about a quarter of maslikhats list a set other than the 3-, 4- and 5-party forms
#: of their own files), and how often each.
ROW_SET_SHARE = 0.3
ROW_SET_WEIGHTS: dict[str, float] = {
    "kz2021-maslikhat-4-npk-akzhol": 0.25,
    "kz2021-maslikhat-3-auyl": 0.25,
    "kz2021-maslikhat-4-npk-auyl": 0.2,
    "kz2021-maslikhat-2": 0.15,
    "kz2021-maslikhat-3-npk": 0.15,
}

#: Template id -> how often it is photographed (ids not listed: 0.1; the 2023 A5 form: never by default).
TEMPLATE_WEIGHTS: dict[str, float] = {
    "kz2021-mazhilis": 0.45,
    "kz2021-maslikhat-5": 0.15,
    "kz2021-maslikhat-4": 0.2,
    "kz2021-maslikhat-3": 0.2,
    "kz2023-mazhilis-a5": 0.0,
    # Drawn instead through ROW_SET_SHARE (their own stream: other draws stay as they were).
    **{tid: 0.0 for tid in ROW_SET_WEIGHTS},
}

#: A self-selected crowd sample: not the official shares (see BALLOTS-2021.md).
PARTY_WEIGHTS: dict[str, float] = {"npk": 0.12, "nur_otan": 0.3, "auyl": 0.12, "ak_zhol": 0.22, "adal": 0.24}

KIND_WEIGHTS = {"front": 0.65, "back": 0.20, "other": 0.08, "duplicate": 0.07}
VOTE_WEIGHTS = {"single": 0.88, "blank": 0.05, "overvote": 0.05, "crossed_out": 0.02}
MARK_WEIGHTS = {"tick": 0.3, "cross": 0.25, "plus": 0.08, "fill": 0.08, "circle": 0.09, "scribble": 0.07, "dash": 0.13}
PEN_WEIGHTS = {"blue": 0.55, "black": 0.25, "violet": 0.17, "pencil": 0.03}
DELIVERY_WEIGHTS = {"chat_1280": 0.55, "chat_2560": 0.30, "original": 0.15}
OTHER_WEIGHTS = {"document": 0.3, "form": 0.3, "receipt": 0.2, "scene": 0.2}
BACKGROUND_WEIGHTS = {"wood": 0.3, "table": 0.3, "cloth": 0.2, "papers": 0.2}
FOLD_WEIGHTS = {"half": 0.6, "thirds": 0.3, "quarters": 0.1}
DUP_VARIANTS = ("identical", "recompressed", "resized", "cropped")
#: Who printed the sheet: ``house``, the renderer the pipeline was developed against
#: (:mod:`ballot_vision.render`), or ``second``, a press designed apart from it and from the
#: pipeline (:mod:`ballot_vision.synth.second_press`), to measure how the reader copes with
#: a print it was never tuned on. Never drawn: a run forces ``press=second``.
PRESSES = ("house", "second")


@dataclass(frozen=True)
class Profile:
    """How often and how strongly each condition occurs at one difficulty."""

    p_tilt_strong: float
    tilt_mild_deg: float
    tilt_strong_deg: tuple[float, float]
    fill: tuple[float, float]
    p_out_of_frame: float
    p_table_cut: float
    p_shadow: float
    shadow: tuple[float, float]
    p_blur: float
    defocus_px: tuple[float, float]  # sigma at 1280 px long side
    motion_px: tuple[float, float]  # length at 1280 px long side
    noise: tuple[float, float]  # sigma at 1280 px long side, 0–255
    p_fold: float
    p_curl: float
    p_finger: float
    gradient: float
    p_cast: float
    jpeg: tuple[int, int]
    p_quarter_turn: float
    p_any_angle: float
    jitter_deg: float


PROFILES: dict[str, Profile] = {
    "easy": Profile(0.0, 6, (6, 8), (0.55, 0.9), 0.0, 0.0, 0.0, (0.2, 0.3), 0.1, (0.3, 0.8), (1.5, 3), (0.5, 2.0), 0.3, 0.15, 0.0, 0.12, 0.2, (85, 95), 0.2, 0.0, 3),
    "normal": Profile(0.25, 12, (12, 30), (0.3, 0.95), 0.12, 0.3, 0.18, (0.25, 0.5), 0.3, (0.6, 2.0), (3, 10), (1.0, 6.0), 0.55, 0.35, 0.08, 0.35, 0.45, (70, 95), 0.27, 0.05, 8),
    "hard": Profile(0.7, 15, (15, 42), (0.3, 0.95), 0.3, 0.5, 0.45, (0.3, 0.6), 0.6, (1.0, 3.0), (6, 16), (3.0, 12.0), 0.75, 0.6, 0.25, 0.5, 0.7, (70, 85), 0.35, 0.2, 10),
}


class SynthError(ValueError):
    """A request the generator cannot satisfy; the message says which value and why."""


# --------------------------------------------------------------------------------------
# Planning: every random decision of one photo, without pixels


def _rngs(seed: int, index: int) -> dict[str, np.random.Generator]:
    """Independent child streams of photo ``index`` (one per aspect, so forcing one aspect leaves the others alone)."""
    # New streams go last: spawned children are numbered, so the others stay as they were.
    names = ("plan", "style", "marks", "paper", "camera", "background", "finger", "noise", "scene", "dup", "columns",
             "rowset", "press")
    children = np.random.SeedSequence([int(seed), int(index)]).spawn(len(names))
    return {n: np.random.default_rng(c) for n, c in zip(names, children)}


def _choice(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], float)
    if p.sum() <= 0:
        p = np.ones(len(keys))
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


#: Plan keys that are bookkeeping, not conditions.
_NOT_FORCEABLE = frozenset({"index", "seed", "difficulty", "run_forced"})
#: Forced keys that describe one photo only (never passed on to a duplicate's original).
_PER_PHOTO = frozenset({"kind", "dup_variant", "dup_of", "dup_back", "dup_quality", "dup_scale", "dup_crop"})


def plan_photo(index: int, *, seed: int, difficulty: str, templates: Mapping[str, Template], forced: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every random decision for photo ``index`` (a flat dict; see the keys for what can be forced).

    Values in ``forced`` replace the drawn ones after all draws are made (unknown keys
    raise :class:`SynthError` listing the known ones).
    """
    if difficulty not in PROFILES:
        raise SynthError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    prof = PROFILES[difficulty]
    rngs = _rngs(seed, index)
    r = rngs["plan"]
    template_weights = {tid: TEMPLATE_WEIGHTS.get(tid, 0.1) for tid in templates}
    plan: dict[str, Any] = {"index": index, "seed": seed, "difficulty": difficulty}
    plan["kind"] = _choice(r, KIND_WEIGHTS)
    plan["template"] = _choice(r, template_weights)
    row_sets = {tid: w for tid, w in ROW_SET_WEIGHTS.items() if tid in templates}
    rows_rng = rngs["rowset"]
    if row_sets and templates[plan["template"]].contest == "2021-maslikhat" and rows_rng.random() < ROW_SET_SHARE:
        plan["template"] = _choice(rows_rng, row_sets)
    plan["vote"] = _choice(r, VOTE_WEIGHTS)
    plan["party_draw"] = float(r.random())  # resolved against the template's options later
    plan["second_draw"] = float(r.random())
    plan["mark"] = _choice(r, MARK_WEIGHTS)
    plan["mark2"] = _choice(r, MARK_WEIGHTS)
    plan["pen"] = _choice(r, PEN_WEIGHTS)
    plan["stroke_mm"] = round(float(np.clip(r.normal(0.65, 0.18), 0.4, 1.2)), 2)
    plan["over_border"] = bool(r.random() < 0.15)
    plan["stray_dots"] = int(r.integers(1, 5)) if r.random() < 0.12 else 0
    plan["signature"] = "present" if r.random() < 0.7 else "absent"
    plan["stamp"] = bool(r.random() < 0.35)
    plan["other_kind"] = _choice(r, OTHER_WEIGHTS)
    plan["press"] = "house"
    # Camera.
    if r.random() < prof.p_any_angle:
        rot = float(r.uniform(-180, 180))
    elif r.random() < prof.p_quarter_turn:
        rot = float(r.choice([90, 180, 270], p=[0.4, 0.25, 0.35]) + r.normal(0, prof.jitter_deg / 2))
    else:
        rot = float(r.normal(0, prof.jitter_deg / 2))
    plan["rotation_deg"] = round(((rot + 180) % 360) - 180, 2)
    plan["tilt_deg"] = round(float(r.uniform(*prof.tilt_strong_deg) if r.random() < prof.p_tilt_strong else r.uniform(0, prof.tilt_mild_deg)), 2)
    plan["tilt_dir_deg"] = round(float(r.uniform(0, 360)), 1)
    # People frame the ballot to read it: large fills are commoner than small ones.
    plan["frame_fill"] = round(float(prof.fill[0] + (prof.fill[1] - prof.fill[0]) * r.beta(2.2, 1.4)), 3)
    plan["position"] = (float(r.uniform(0.1, 0.9)), float(r.uniform(0.1, 0.9)))
    oof = r.random() < prof.p_out_of_frame
    plan["out_of_frame"] = ("table" if r.random() < prof.p_table_cut else "margin") if oof else "none"
    plan["oof_side"] = str(r.choice(["top", "bottom", "left", "right"]))
    plan["oof_frac"] = float(r.uniform(0.15, 0.45) if plan["out_of_frame"] == "table" else r.uniform(0.03, 0.25))
    plan["background"] = _choice(r, BACKGROUND_WEIGHTS)
    plan["gradient"] = round(float(r.uniform(0, prof.gradient)), 3)
    plan["vignette"] = round(float(r.uniform(0, 0.25)), 3)
    plan["shadow"] = round(float(r.uniform(*prof.shadow)), 3) if r.random() < prof.p_shadow else 0.0
    plan["cast"] = str(r.choice(["warm", "cold"], p=[0.6, 0.4])) if r.random() < prof.p_cast else "none"
    plan["exposure"] = round(float(r.uniform(0.9, 1.08)), 3)
    blur_kind = str(r.choice(["defocus", "motion"], p=[0.55, 0.45])) if r.random() < prof.p_blur else "none"
    plan["blur"] = blur_kind
    plan["blur_1280_px"] = float(r.uniform(*(prof.defocus_px if blur_kind == "defocus" else prof.motion_px)))
    plan["blur_angle_deg"] = round(float(r.uniform(0, 180)), 1)
    plan["noise_1280"] = float(r.uniform(*prof.noise))
    plan["sharpen"] = round(float(r.uniform(0, 0.7)), 2)
    plan["fold"] = _choice(r, FOLD_WEIGHTS) if r.random() < prof.p_fold else "none"
    plan["curl"] = round(float(r.uniform(0.2, 1.0)), 2) if r.random() < prof.p_curl else 0.0
    plan["finger"] = bool(r.random() < prof.p_finger)
    plan["light_dir"] = (float(r.uniform(-0.5, 0.5)), float(r.uniform(-0.5, 0.5)), 1.0)
    # Delivery.
    plan["delivery"] = _choice(r, DELIVERY_WEIGHTS)
    plan["jpeg_quality"] = int(r.integers(prof.jpeg[0], prof.jpeg[1] + 1))
    plan["camera_quality"] = int(r.integers(88, 96))
    turned = abs(((plan["rotation_deg"] + 45) % 180) - 45) > 45  # ballot lies sideways in the photo
    plan["portrait"] = bool((not turned) if r.random() < 0.85 else turned)
    exif_p = {"original": 0.6}.get(plan["delivery"], 0.12)
    exif_draw = r.random()
    # (The tag is drawn only when used, which keeps every seed's photos as they always were.)
    exif_tag = int(r.choice([6, 8, 3], p=[0.5, 0.25, 0.25])) if exif_draw < exif_p else 6
    fmt_draw = r.random()

    def by_delivery(delivery: str) -> tuple[int, str]:
        """EXIF tag and file format follow how the photo was delivered (originals keep both)."""
        exif = exif_tag if exif_draw < (0.6 if delivery == "original" else 0.12) else 1
        if delivery == "original":
            return exif, "heic" if fmt_draw < 0.1 else "jpg"
        return exif, "png" if fmt_draw < 0.06 else "jpg"

    plan["exif_orientation"], plan["format"] = by_delivery(plan["delivery"])
    plan["dup_variant"] = str(r.choice(DUP_VARIANTS))
    plan["dup_back"] = int(r.integers(1, 41))
    plan["dup_of"] = -1  # the original's index; -1: an earlier photo chosen by dup_back
    plan["dup_quality"] = int(r.integers(60, 86))
    plan["dup_scale"] = float(r.uniform(0.5, 0.8))
    plan["dup_crop"] = tuple(float(v) for v in r.uniform(0, 0.08, 4))

    if forced:
        unknown = sorted(set(forced) - set(plan) - {"party", "second"} - _NOT_FORCEABLE) if forced else []
        unknown += sorted(set(forced) & _NOT_FORCEABLE)
        if unknown:
            raise SynthError(f"unknown condition(s) {', '.join(unknown)}; known: {', '.join(sorted(set(plan) - _NOT_FORCEABLE))}, party, second")
        plan.update(forced)
        if "delivery" in forced:
            # A forced delivery brings its own EXIF and format draws, unless those are forced too.
            exif, fmt = by_delivery(str(forced["delivery"]))
            plan["exif_orientation"] = forced.get("exif_orientation", exif)
            plan["format"] = forced.get("format", fmt)
    # A duplicate must copy the file its original really is, so it re-plans the original
    # with the same run-wide forcing.
    plan["run_forced"] = {k: v for k, v in (forced or {}).items() if k not in _PER_PHOTO}
    if plan["template"] not in templates:
        raise SynthError(f"unknown template {plan['template']!r}; known ids: {', '.join(templates)}")
    _resolve_parties(plan, templates[plan["template"]])
    _validate(plan)
    return plan


def _resolve_parties(plan: dict[str, Any], template: Template) -> None:
    ids = list(template.option_ids)
    if "party" not in plan:
        weights = np.asarray([PARTY_WEIGHTS.get(i, 0.1) for i in ids])
        cdf = np.cumsum(weights / weights.sum())
        plan["party"] = ids[int(min(np.searchsorted(cdf, plan["party_draw"]), len(ids) - 1))]
    if plan["party"] not in ids:
        raise SynthError(f"party {plan['party']!r} is not on template {template.id}; options: {', '.join(ids)}")
    others = [i for i in ids if i != plan["party"]]
    if "second" not in plan:
        plan["second"] = others[int(plan["second_draw"] * len(others)) % len(others)] if others else plan["party"]


def _validate(plan: Mapping[str, Any]) -> None:
    checks = {
        "kind": ("front", "back", "other", "duplicate"),
        "vote": tuple(VOTE_WEIGHTS),
        "mark": marks.MARK_SHAPES,
        "mark2": marks.MARK_SHAPES,
        "pen": tuple(PENS),
        "out_of_frame": ("none", "margin", "table"),
        "background": tuple(BACKGROUND_WEIGHTS),
        "cast": ("none", "warm", "cold"),
        "blur": ("none", "defocus", "motion"),
        "fold": ("none", *FOLD_WEIGHTS),
        "delivery": tuple(DELIVERY_WEIGHTS),
        "format": ("jpg", "png", "heic"),
        "exif_orientation": tuple(delivery.EXIF_QUARTER_TURNS),
        "other_kind": scenes.OTHER_KINDS,
        "dup_variant": DUP_VARIANTS,
        "signature": ("present", "absent"),
        "press": PRESSES,
    }
    for key, allowed in checks.items():
        if plan[key] not in allowed:
            raise SynthError(f"{key} must be one of {', '.join(map(str, allowed))}, got {plan[key]!r}")
    if not 0.05 <= float(plan["frame_fill"]) <= 1.5:
        raise SynthError(f"frame_fill must be within 0.05–1.5, got {plan['frame_fill']}")


def file_name(index: int, fmt: str) -> str:
    """Phone-like, and telling nothing about the content."""
    return f"IMG_{index:05d}.{fmt}"


# --------------------------------------------------------------------------------------
# Making one photo


@dataclass
class _Shot:
    """Intermediate result of photographing one sheet (upright view)."""

    view_bgr: np.ndarray
    squares_px: dict[str, np.ndarray]
    hidden: list[str]
    signature_px: np.ndarray | None
    signature_visible: bool
    finger_on: bool


def _scale_1280(view_wh: tuple[int, int]) -> float:
    return max(view_wh) / 1280.0


def _place(plan: Mapping[str, Any], deform: paper.Deformation, view_wh: tuple[int, int], keep_mm: list[Rect]) -> tuple[camera.Projector, float]:
    """The projector for this shot; a ``margin`` cut shrinks until every ``keep_mm`` rectangle is in frame, a ``table`` cut grows until one is not.

    Returns the projector and the overshoot fraction actually used (0 when in frame).
    """
    common = dict(
        view_wh=view_wh,
        rotation_deg=float(plan["rotation_deg"]),
        tilt_deg=float(plan["tilt_deg"]),
        tilt_dir_deg=float(plan["tilt_dir_deg"]),
        fill=float(plan["frame_fill"]),
        position=tuple(plan["position"]),
    )
    if plan["out_of_frame"] == "none":
        return camera.make_projector(deform, **common), 0.0
    frac = float(plan["oof_frac"])

    def kept(proj: camera.Projector) -> bool:
        return all(camera.quad_visible(proj.sheet_to_view(_corners(r)), view_wh, margin_px=3) for r in keep_mm)

    if plan["out_of_frame"] == "table":
        # Cut into what a margin cut keeps (the table): push further until it is cut.
        while True:
            proj = camera.make_projector(deform, overshoot=(plan["oof_side"], frac), **common)
            if not kept(proj) or frac >= 0.6:
                return proj, frac
            frac += 0.05
    for _ in range(6):
        proj = camera.make_projector(deform, overshoot=(plan["oof_side"], frac), **common)
        if kept(proj):
            return proj, frac
        frac *= 0.5
    return camera.make_projector(deform, **common), 0.0


def _corners(r: Rect) -> np.ndarray:
    """(4, 2) corners top-left, top-right, bottom-right, bottom-left (mm)."""
    return np.array([[r.x, r.y], [r.x2, r.y], [r.x2, r.y2], [r.x, r.y2]], float)


def _photograph(
    plan: Mapping[str, Any],
    sheet_bgr_fn,
    paper_mm: tuple[float, float],
    view_wh: tuple[int, int],
    rngs: dict[str, np.random.Generator],
    *,
    squares_mm: Mapping[str, Rect],
    signature_mm: Rect | None,
    keep_mm: list[Rect],
) -> _Shot:
    """Put a sheet in front of the camera; ``sheet_bgr_fn(px_per_mm)`` draws it at the resolution the shot needs.

    ``keep_mm``: what a ``margin`` cut must leave in frame (the table of a front, the
    signature field of a back).
    """
    deform = paper.random_deformation(paper_mm, rngs["paper"], fold=str(plan["fold"]), curl=float(plan["curl"]))
    proj, _ = _place(plan, deform, view_wh, keep_mm)
    local = proj.local_px_per_mm()
    # Draw the sheet a little finer than the photo needs (anti-aliasing), within reason.
    sheet_ppm = float(np.clip(1.25 * local, 2.5, 10.0))
    sheet = sheet_bgr_fn(sheet_ppm)
    bg = camera.background(plan["background"], view_wh, rngs["background"])
    if plan["background"] == "papers":
        page_ppm = float(np.clip(local, 1.5, 4.0))
        count = int(rngs["background"].integers(1, 4))
        pages = [scenes.document_page(rngs["background"], px_per_mm=page_ppm)[0] for _ in range(count)]
        bg = camera.add_papers(bg, proj.outline_px(), rngs["background"], pages=pages, page_ppm=page_ppm, px_per_mm=local)
    maps = camera.sheet_maps(proj, light_dir=tuple(plan["light_dir"]))
    view = camera.place_sheet(bg, sheet, sheet_ppm, proj, maps)
    squares_px = {k: proj.sheet_to_view(_corners(r)) for k, r in squares_mm.items()}
    signature_px = proj.sheet_to_view(_corners(signature_mm)) if signature_mm is not None else None
    finger_mask = None
    if plan["finger"]:
        view, finger_mask = _add_finger(view, proj, rngs["finger"], local)
    if plan["shadow"] > 0:
        view = camera.hard_shadow(view, rngs["camera"], strength=float(plan["shadow"]))
    view = camera.lighting(view, rngs["camera"], gradient=float(plan["gradient"]), vignette=float(plan["vignette"]), cast=str(plan["cast"]), exposure=float(plan["exposure"]))
    k = _scale_1280(view_wh)
    view = camera.blur(view, kind=str(plan["blur"]), size_px=float(plan["blur_1280_px"]) * k, angle_deg=float(plan["blur_angle_deg"]))
    view = camera.sensor_noise(view, rngs["noise"], sigma=float(plan["noise_1280"]) * np.sqrt(k), sharpen=float(plan["sharpen"]))

    def hidden_by_finger(q: np.ndarray) -> bool:
        return finger_mask is not None and camera.quad_overlaps_mask(q, finger_mask)

    hidden = [k_ for k_, q in squares_px.items() if not camera.quad_visible(q, view_wh) or hidden_by_finger(q)]
    sig_visible = signature_px is None or (camera.quad_visible(signature_px, view_wh) and not hidden_by_finger(signature_px))
    finger_on = finger_mask is not None and bool(finger_mask.any())
    return _Shot(view, squares_px, hidden, signature_px, sig_visible, finger_on)


def _add_finger(view: np.ndarray, proj: camera.Projector, rng: np.random.Generator, local_ppm: float) -> tuple[np.ndarray, np.ndarray]:
    """A finger holding the sheet: enters over one of its edges (mostly a side), tip 5–30 mm inside."""
    w, h = proj.paper_mm
    edge = str(rng.choice(["left", "right", "bottom", "top"], p=[0.35, 0.35, 0.2, 0.1]))
    t = rng.uniform(0.1, 0.9)
    depth = rng.uniform(5, 30)
    point, inward = {
        "left": (np.array([0.0, t * h]), np.array([1.0, 0.0])),
        "right": (np.array([w, t * h]), np.array([-1.0, 0.0])),
        "top": (np.array([t * w, 0.0]), np.array([0.0, 1.0])),
        "bottom": (np.array([t * w, h]), np.array([0.0, -1.0])),
    }[edge]
    a = np.deg2rad(rng.uniform(-30, 30))
    direction = np.array([inward[0] * np.cos(a) - inward[1] * np.sin(a), inward[0] * np.sin(a) + inward[1] * np.cos(a)])
    tip_mm = point + direction * depth
    base_mm = point - direction * 160  # towards the hand, mostly beyond the frame
    tip, base = proj.sheet_to_view(np.stack([tip_mm, base_mm]))
    width_px = rng.uniform(15, 20) * local_ppm
    return camera.draw_finger(view, tip, base, width_px, rng)


@dataclass(frozen=True)
class _Press:
    """How one sheet was printed: where each side's parts are, and how to draw a blank side."""

    geometry: Callable[[str], SideGeometry]  # side name -> printed geometry, mm
    blank: Callable[[str, float], np.ndarray]  # (side name, px/mm) -> the blank side, BGR
    truth: dict[str, str]  # truth.csv columns describing the print


def _press(plan: Mapping[str, Any], template: Template, rngs: Mapping[str, np.random.Generator]) -> _Press:
    """The printer of this photo's sheet (see :data:`PRESSES`)."""
    if plan["press"] == "second":
        from ballot_vision.synth import second_press

        press_style = second_press.random_press_style(rngs["press"])
        front = second_press.press_geometry(template, "front", press_style)
        rows = [r.h for r in front.rows_mm.values()]
        squares = [s.w for s in front.squares_mm.values()]
        return _Press(
            geometry=lambda side: second_press.press_geometry(template, side, press_style),
            blank=lambda side, ppm: second_press.press_side(template, side, px_per_mm=ppm, style=press_style),
            truth=dict(press="second", print_font=f"{press_style.title_family}/{press_style.body_family}",
                       print_scale=f"{press_style.scale:.4f}",
                       print_dx_mm=f"{press_style.offset_mm[0]:.2f}",
                       print_dy_mm=f"{press_style.offset_mm[1]:.2f}",
                       row_height_mm=f"{np.mean(rows):.2f}" if rows else "",
                       square_mm=f"{np.mean(squares):.2f}" if squares else "",
                       paper_shade=",".join(str(v) for v in press_style.paper_bgr[::-1])),
        )
    style = PrintStyle.random(rngs["style"], template).with_random_columns(rngs["columns"], template)
    return _Press(
        geometry=lambda side: side_geometry(template, side, style),
        blank=lambda side, ppm: render_side(template, side, px_per_mm=ppm, style=style).bgr,
        truth=dict(
            press="house",
            print_font=style.font,
            print_scale=f"{style.scale:.4f}",
            print_dx_mm=f"{style.offset_mm[0]:.2f}",
            print_dy_mm=f"{style.offset_mm[1]:.2f}",
            row_height_mm="" if style.row_height_mm is None else f"{style.row_height_mm:.2f}",
            square_mm="" if style.square_mm is None else f"{style.square_mm:.2f}",
            square_cell_mm="" if style.square_cell_mm is None else f"{style.square_cell_mm:.2f}",
            table_inset_mm=",".join(f"{v:.2f}" for v in style.table_inset_mm),
            paper_shade=",".join(str(v) for v in style.paper_rgb),
        ),
    )


def _draw_front(plan: Mapping[str, Any], template: Template, press: _Press, rng: np.random.Generator):
    """The function that draws the marked front at a given resolution, and the squares that carry ink."""
    squares = press.geometry("front").squares_mm
    pen = vary_pen(PENS[plan["pen"]], rng)
    width = float(plan["stroke_mm"]) * (1.3 if pen.pencil else 1.0)
    strokes = []
    marked: list[str] = []
    vote = plan["vote"]
    if vote in ("single", "overvote", "crossed_out"):
        first = plan["party"]
        strokes += marks.mark_strokes(plan["mark"], squares[first], rng, stroke_mm=width, pencil=pen.pencil, over_border=bool(plan["over_border"]))
        marked.append(first)
        if vote == "crossed_out":
            strokes += marks.crossing_out_strokes(squares[first], rng, stroke_mm=width)
        if vote in ("overvote", "crossed_out") and plan["second"] != first:
            strokes += marks.mark_strokes(plan["mark2"], squares[plan["second"]], rng, stroke_mm=width, pencil=pen.pencil)
            marked.append(plan["second"])
    dots = []
    n_dots = int(plan["stray_dots"])
    if n_dots:
        sheet_rect = Rect(0, 0, template.paper_w, template.paper_h)
        dots = marks.stray_dots(list(squares.values()), sheet_rect, rng, n=n_dots, stroke_mm=width)
        if rng.random() < 0.5:
            near = [k for k in squares if k not in marked] or list(squares)
            dots += marks.near_square_dot(squares[near[int(rng.integers(len(near)))]], rng, stroke_mm=width)
    seed = int(rng.integers(2**31))

    def draw(ppm: float) -> np.ndarray:
        sheet = press.blank("front", ppm)
        ink_rng = np.random.default_rng(seed)
        sheet = apply_ink(sheet, strokes, pen, px_per_mm=ppm, rng=ink_rng)
        dot_pen = pen if not pen.pencil else vary_pen(PENS["blue"], ink_rng)
        return apply_ink(sheet, dots, dot_pen, px_per_mm=ppm, rng=ink_rng)

    return draw, squares, marked, len(dots)


def _draw_back(plan: Mapping[str, Any], template: Template, press: _Press, rng: np.random.Generator):
    """The function that draws the back (signature and stamp as planned) at a given resolution."""
    geo = press.geometry("back")
    strokes = []
    pen = vary_pen(PENS[str(rng.choice(["blue", "black", "violet"], p=[0.6, 0.25, 0.15]))], rng)
    if plan["signature"] == "present" and geo.signature_line_mm is not None:
        strokes = marks.signature_strokes(geo.signature_line_mm, rng, stroke_mm=float(rng.uniform(0.4, 0.8)))
    stamp_spec = None
    if plan["stamp"]:
        centre = geo.stamp_mm.center if geo.stamp_mm is not None else (template.paper_w * 0.7, template.paper_h * 0.7)
        centre = (centre[0] + rng.uniform(-12, 12), centre[1] + rng.uniform(-12, 12))
        colour = (105, 60, 160) if rng.random() < 0.6 else (50, 80, 170)
        stamp_spec = (centre, float(rng.uniform(36, 42)), int(rng.integers(1, 800)), colour)
    seed = int(rng.integers(2**31))

    def draw(ppm: float) -> np.ndarray:
        sheet = press.blank("back", ppm)
        ink_rng = np.random.default_rng(seed)
        if stamp_spec is not None:
            centre, diameter, precinct, colour = stamp_spec
            cov, origin = marks.stamp_coverage(centre, diameter, precinct, ink_rng, px_per_mm=ppm)
            blend_coverage(sheet, cov, colour, origin_rc=origin)
        return apply_ink(sheet, strokes, pen, px_per_mm=ppm, rng=ink_rng)

    return draw, geo.signature_box_mm


def _fmt_quads(quads: Mapping[str, np.ndarray]) -> str:
    return ";".join(f"{k}:" + ",".join(f"{v:.1f}" for v in q.ravel()) for k, q in quads.items())


def parse_quads(text: str) -> dict[str, np.ndarray]:
    """Inverse of the ``squares_px`` format: id -> (4, 2) corners (TL, TR, BR, BL), px."""
    out = {}
    for part in filter(None, text.split(";")):
        k, _, values = part.partition(":")
        out[k] = np.array([float(v) for v in values.split(",")]).reshape(4, 2)
    return out


def _tags(plan: Mapping[str, Any], row: Mapping[str, Any]) -> list[str]:
    """The ';'-separated condition tags of a photo (for per-condition statistics)."""
    kind = row["kind"]
    tags: list[str] = [f"kind_{kind}"]
    if kind == "front":
        vote = plan["vote"]
        if vote == "blank":
            tags.append("blank")
        else:
            tags.append(f"mark_{plan['mark']}")
            if vote in ("overvote", "crossed_out"):
                tags += ["overvote", f"mark_{plan['mark2']}"]
            if vote == "crossed_out":
                tags.append("crossed_out")
            tags.append(f"pen_{plan['pen']}")
            if plan["pen"] == "pencil":
                tags.append("pencil")
            if plan["over_border"]:
                tags.append("mark_over_border")
        if int(row["stray_dots"] or 0):
            tags.append("stray_dot")
    if kind == "back":
        tags.append(f"signature_{plan['signature']}")
        if plan["stamp"]:
            tags.append("stamp")
    if kind == "other":
        tags.append(f"other_{plan['other_kind']}")
    if kind in ("front", "back"):
        tags.append("print_serif" if "serif" in row["print_font"].lower() else "print_sans")
        if plan["press"] != "house":
            tags.append(f"press_{plan['press']}")
        if kind == "front" and row["square_cell_mm"]:
            tags.append("print_columns_moved")
        if plan["fold"] != "none":
            tags += ["fold", f"fold_{plan['fold']}"]
        if plan["curl"]:
            tags.append("curl")
    if kind != "other" or plan["other_kind"] != "scene":
        rot = float(plan["rotation_deg"]) % 360
        nearest = int(round(rot / 90) * 90) % 360
        tags.append(f"rot_{nearest}" if abs(((rot - nearest + 180) % 360) - 180) <= 20 else "rot_other")
        if float(plan["tilt_deg"]) >= 10:
            tags.append("tilt")
        if plan["out_of_frame"] != "none":
            tags.append("out_of_frame")
            tags.append(f"out_of_frame_{plan['out_of_frame']}")
        if row["finger"] == "true":
            tags.append("finger")
        if row["hidden_squares"]:
            tags.append("square_hidden")
        tags.append(f"bg_{plan['background']}")
    if int(plan["exif_orientation"]) != 1:
        tags.append(f"exif_{plan['exif_orientation']}")
    if plan["blur"] != "none":
        tags.append(f"blur_{plan['blur']}")
    if plan["shadow"]:
        tags.append("shadow")
    if plan["cast"] != "none":
        tags.append(f"cast_{plan['cast']}")
    if float(plan["gradient"]) >= 0.15:
        tags.append("gradient")
    if float(row["noise_sigma"] or 0) >= 4:
        tags.append("noise")
    if plan["format"] == "jpg":
        tags.append(f"jpeg_q{int(plan['jpeg_quality']) // 5 * 5}")
    tags.append(f"format_{plan['format']}")
    tags.append({"chat_1280": "size_1280", "chat_2560": "size_2560", "original": "size_orig"}[plan["delivery"]])
    return tags


def generate_one(
    index: int,
    *,
    seed: int,
    difficulty: str = "normal",
    templates: Mapping[str, Template] | None = None,
    kind: str | None = None,
    **forced_conditions: Any,
) -> tuple[bytes, str, dict[str, str]]:
    """Make photo ``index`` of the run ``seed``.

    Parameters
    ----------
    index, seed : int
        The photo is a pure function of these (and of the other arguments).
    difficulty : ``easy``, ``normal`` or ``hard``
    templates : id -> Template, optional
        The templates to photograph (default: the shipped ones).
    kind : ``front``, ``back``, ``other`` or ``duplicate``, optional
        Force the kind of photo.
    **forced_conditions
        Any key of :func:`plan_photo` (e.g. ``mark="tick"``, ``rotation_deg=90``,
        ``template="kz2021-maslikhat-3"``, ``party="adal"``, ``vote="blank"``,
        ``delivery="chat_1280"``, ``finger=True``).

    Returns
    -------
    (data, extension, truth_row)
        The encoded file, its extension (``jpg``, ``png``, ``heic``) and its truth.csv
        row (every value a string, keys :data:`TRUTH_COLUMNS`).
    """
    templates = dict(templates) if templates is not None else load_templates()
    forced = dict(forced_conditions)
    if kind is not None:
        forced["kind"] = kind
    plan = plan_photo(index, seed=seed, difficulty=difficulty, templates=templates, forced=forced)
    if plan["kind"] == "duplicate":
        return _duplicate(plan, templates)
    return _make(plan, templates)


def _make(plan: Mapping[str, Any], templates: Mapping[str, Template]) -> tuple[bytes, str, dict[str, str]]:
    rngs = _rngs(plan["seed"], plan["index"])
    kind = plan["kind"]
    view_wh = delivery.view_size(plan["delivery"], rngs["camera"], portrait=bool(plan["portrait"]))
    row: dict[str, Any] = {c: "" for c in TRUTH_COLUMNS}
    row.update(kind=kind, difficulty=plan["difficulty"], index=plan["index"], seed=plan["seed"], duplicate_of="", must_review="false")
    shot: _Shot | None = None
    marked: list[str] = []
    if kind in ("front", "back"):
        template = templates[plan["template"]]
        press = _press(plan, template, rngs)
        row.update(template=template.id, **press.truth)
        if kind == "front":
            draw, squares, marked, n_dots = _draw_front(plan, template, press, rngs["marks"])
            table = press.geometry("front").table_mm
            shot = _photograph(plan, draw, (template.paper_w, template.paper_h), view_wh, rngs, squares_mm=squares, signature_mm=None, keep_mm=[table] if table else [])
            row.update(vote=plan["vote"], stray_dots=n_dots, over_border=str(bool(plan["over_border"])).lower())
            if plan["vote"] != "blank":
                row.update(mark=plan["mark"] if plan["vote"] == "single" else f"{plan['mark']};{plan['mark2']}", pen=plan["pen"], stroke_mm=plan["stroke_mm"])
        else:
            draw, sig_box = _draw_back(plan, template, press, rngs["marks"])
            shot = _photograph(plan, draw, (template.paper_w, template.paper_h), view_wh, rngs, squares_mm={}, signature_mm=sig_box, keep_mm=[sig_box] if sig_box else [])
            row.update(signature=plan["signature"], stamp=str(bool(plan["stamp"])).lower())
    else:
        row["other_kind"] = plan["other_kind"]
        shot = _photograph_other(plan, view_wh, rngs)
    view = shot.view_bgr
    if plan["delivery"] != "original":
        # The phone's JPEG first; the chat app then re-encodes (below): double compression.
        view = delivery.jpeg_round_trip(view, int(plan["camera_quality"]))
    fmt = plan["format"]
    if fmt == "heic" and not delivery.heic_available():
        fmt = "jpg"
    tag = int(plan["exif_orientation"])
    exif = tag if (plan["delivery"] == "original" or tag != 1) else None
    data = delivery.encode(delivery.to_stored(view, tag), fmt=fmt, quality=int(plan["jpeg_quality"]), exif_orientation=exif)
    row.update(
        file=file_name(plan["index"], fmt),
        format=fmt,
        width_px=view.shape[1],
        height_px=view.shape[0],
        rotation_deg=plan["rotation_deg"],
        exif_orientation=tag,
        tilt_deg=plan["tilt_deg"],
        frame_fill=plan["frame_fill"],
        out_of_frame=plan["out_of_frame"] if kind != "other" or plan["other_kind"] != "scene" else "none",
        background=plan["background"],
        gradient=plan["gradient"],
        shadow=plan["shadow"],
        cast=plan["cast"],
        blur="none" if plan["blur"] == "none" else f"{plan['blur']}:{plan['blur_1280_px'] * _scale_1280(view_wh):.2f}" + (f":{plan['blur_angle_deg']}" if plan["blur"] == "motion" else ""),
        noise_sigma=f"{plan['noise_1280'] * np.sqrt(_scale_1280(view_wh)):.2f}",
        fold=plan["fold"] if kind in ("front", "back") else "none",
        curl=plan["curl"] if kind in ("front", "back") else 0.0,
        finger=str(shot.finger_on).lower(),
        jpeg_quality=plan["jpeg_quality"] if fmt == "jpg" else "",
        delivery=plan["delivery"],
        squares_px=_fmt_quads(shot.squares_px),
        signature_px=_fmt_quads({"signature": shot.signature_px}) if shot.signature_px is not None else "",
        hidden_squares=";".join(shot.hidden),
    )
    _decide(row, plan, marked, shot)
    row["conditions"] = ";".join(_tags(plan, row))
    return data, fmt, {k: str(v) for k, v in row.items()}


def _decide(row: dict[str, Any], plan: Mapping[str, Any], marked: list[str], shot: _Shot) -> None:
    """Expected decision, party, marked squares and must_review, by the rules of truth.csv."""
    kind = row["kind"]
    if kind == "other":
        row.update(expected_decision="not_ballot", party="", marked="", must_review="false")
        return
    if kind == "back":
        # The signature cannot be judged if its field is out of frame or under a finger.
        row.update(expected_decision="back", party="", marked="", must_review=str(not shot.signature_visible).lower())
        return
    review = plan["pen"] == "pencil" and bool(marked) or plan["vote"] == "crossed_out"
    if shot.hidden:
        decision = "unreadable"
        review = True
    elif len(marked) == 0:
        decision = "blank"
    elif len(marked) == 1:
        decision = "vote"
    else:
        decision = "overvote"
    row.update(
        expected_decision=decision,
        party=marked[0] if decision == "vote" else "",
        marked=";".join(marked),
        must_review=str(bool(review)).lower(),
    )


def _photograph_other(plan: Mapping[str, Any], view_wh: tuple[int, int], rngs: dict[str, np.random.Generator]) -> _Shot:
    """A non-ballot: a document, the ballot-like form, a receipt, or a scene with no sheet."""
    r = rngs["scene"]
    other = plan["other_kind"]
    if other == "scene":
        backdrop = camera.background(plan["background"], view_wh, rngs["background"])
        view = scenes.scene(view_wh, r, backdrop)
        view = camera.lighting(view, rngs["camera"], gradient=float(plan["gradient"]), vignette=float(plan["vignette"]), cast=str(plan["cast"]), exposure=float(plan["exposure"]))
        k = _scale_1280(view_wh)
        view = camera.blur(view, kind=str(plan["blur"]), size_px=float(plan["blur_1280_px"]) * k, angle_deg=float(plan["blur_angle_deg"]))
        view = camera.sensor_noise(view, rngs["noise"], sigma=float(plan["noise_1280"]) * np.sqrt(k), sharpen=float(plan["sharpen"]))
        return _Shot(view, {}, [], None, True, False)
    if other == "receipt":
        page, paper_mm = scenes.receipt_page(r, px_per_mm=8.0)
        draw = lambda ppm: page  # noqa: E731 - a receipt is small: one resolution serves every shot
        fixed_ppm = 8.0
    else:
        paper_mm = (210.0, 297.0)
        fixed_ppm = None
        page_seed = int(r.integers(2**31))
        tick = other == "form" and r.random() < 0.5

        def draw(ppm: float) -> np.ndarray:
            pr = np.random.default_rng(page_seed)
            if other == "document":
                return scenes.document_page(pr, px_per_mm=ppm)[0]
            bgr, _, squares = scenes.form_page(pr, px_per_mm=ppm)
            if tick:  # the adversarial case: a ticked square on a non-ballot
                sq = list(squares.values())[int(pr.integers(len(squares)))]
                bgr = apply_ink(bgr, marks.mark_strokes("tick", sq, pr, stroke_mm=0.6), PENS["blue"], px_per_mm=ppm, rng=pr)
            return bgr

    plan_other = dict(plan)
    plan_other["out_of_frame"] = "none" if plan["out_of_frame"] == "none" else "table"
    if fixed_ppm is not None:
        # The camera asks for a resolution; a pre-drawn page answers with its own.
        shot = _photograph_fixed(plan_other, page, fixed_ppm, paper_mm, view_wh, rngs)
    else:
        shot = _photograph(plan_other, draw, paper_mm, view_wh, rngs, squares_mm={}, signature_mm=None, keep_mm=[])
    return _Shot(shot.view_bgr, {}, [], None, True, shot.finger_on)


def _photograph_fixed(plan: Mapping[str, Any], page: np.ndarray, page_ppm: float, paper_mm: tuple[float, float], view_wh: tuple[int, int], rngs: dict[str, np.random.Generator]) -> _Shot:
    """:func:`_photograph` for a page drawn at one fixed resolution (resampled to what the shot needs)."""

    def draw(ppm: float) -> np.ndarray:
        size = (int(round(paper_mm[0] * ppm)), int(round(paper_mm[1] * ppm)))
        return cv2.resize(page, size, interpolation=cv2.INTER_AREA if ppm < page_ppm else cv2.INTER_LINEAR)

    return _photograph(plan, draw, paper_mm, view_wh, rngs, squares_mm={}, signature_mm=None, keep_mm=[])


# --------------------------------------------------------------------------------------
# Duplicates


def _original_plan(plan: Mapping[str, Any], j: int, templates: Mapping[str, Template]) -> dict[str, Any]:
    """The plan of photo ``j`` of the same run (same seed, difficulty and run-wide forcing)."""
    return plan_photo(j, seed=plan["seed"], difficulty=plan["difficulty"], templates=templates, forced=plan["run_forced"])


def _original_index(plan: Mapping[str, Any], templates: Mapping[str, Template]) -> int:
    """An earlier photo of the same run that is not itself a duplicate."""
    index = int(plan["index"])
    if index == 0:
        raise SynthError("photo 0 cannot be a duplicate: there is no earlier photo")
    if int(plan["dup_of"]) >= 0:
        j = int(plan["dup_of"])
        if j >= index or _original_plan(plan, j, templates)["kind"] == "duplicate":
            raise SynthError(f"dup_of={j}: must be an earlier photo (< {index}) that is not itself a duplicate")
        return j
    j = max(0, index - int(plan["dup_back"]))
    for candidate in list(range(j, index)) + list(range(j - 1, -1, -1)):
        if _original_plan(plan, candidate, templates)["kind"] != "duplicate":
            return candidate
    raise SynthError(f"no earlier photo to duplicate for index {index}")


#: Originals made for duplicates, most recent last: the same original is often sent again soon.
#: Photos are pure functions of their plan, so the cache never changes a result.
_RECENT: OrderedDict[tuple, tuple[bytes, str, dict[str, str]]] = OrderedDict()


def _duplicate(plan: Mapping[str, Any], templates: Mapping[str, Template]) -> tuple[bytes, str, dict[str, str]]:
    """The same photo sent again: byte-identical, re-compressed, resized or cropped."""
    if int(plan["index"]) == 0:
        # Nothing came before: photo 0 is an ordinary front instead.
        return _make({**plan, "kind": "front"}, templates)
    j = _original_index(plan, templates)
    key = (plan["seed"], j, plan["difficulty"], repr(sorted(plan["run_forced"].items())), tuple((t.id, t.source) for t in templates.values()))
    if key in _RECENT:
        data, fmt, orig = _RECENT[key]
    else:
        data, fmt, orig = _make(_original_plan(plan, j, templates), templates)
        _RECENT[key] = (data, fmt, orig)
        while len(_RECENT) > 8:
            _RECENT.popitem(last=False)
    variant = plan["dup_variant"]
    row = dict(orig)
    row.update(file="", duplicate_of=orig["file"], dup_variant=variant, index=str(plan["index"]))
    quads = parse_quads(orig["squares_px"])
    sig = parse_quads(orig["signature_px"])
    if variant == "identical":
        out, out_fmt = data, fmt
    else:
        view = delivery.decode_view(data)
        h, w = view.shape[:2]
        if variant == "resized":
            s = float(plan["dup_scale"])
            if max(w, h) * s > 1280 and max(w, h) > 1280:
                s = 1280 / max(w, h)
            size = (max(1, int(round(w * s))), max(1, int(round(h * s))))
            view = cv2.resize(view, size, interpolation=cv2.INTER_AREA)
            sx, sy = size[0] / w, size[1] / h
            move = lambda q: np.stack([(q[:, 0] + 0.5) * sx - 0.5, (q[:, 1] + 0.5) * sy - 0.5], 1)  # noqa: E731
        elif variant == "cropped":
            left, top, right, bottom = _safe_crop(plan["dup_crop"], (w, h), list(quads.values()) + list(sig.values()))
            view = view[top : h - bottom, left : w - right]
            move = lambda q: q - np.array([left, top], float)  # noqa: E731
        else:
            move = lambda q: q  # noqa: E731
        out_fmt = "jpg"
        out = delivery.encode(view, fmt="jpg", quality=int(plan["dup_quality"]), exif_orientation=None)
        quads = {k: move(q) for k, q in quads.items()}
        sig = {k: move(q) for k, q in sig.items()}
        row.update(width_px=str(view.shape[1]), height_px=str(view.shape[0]), jpeg_quality=str(plan["dup_quality"]), format="jpg", exif_orientation="1")
        row["conditions"] = ";".join(t for t in orig["conditions"].split(";") if not t.startswith(("exif_", "jpeg_q", "format_")))
        row["conditions"] += f";jpeg_q{int(plan['dup_quality']) // 5 * 5};format_jpg"
    row["file"] = file_name(int(plan["index"]), out_fmt)
    row["squares_px"] = _fmt_quads(quads)
    row["signature_px"] = _fmt_quads(sig)
    row["conditions"] = f"{row['conditions']};duplicate;dup_{variant}"
    return out, out_fmt, row


def _safe_crop(fractions: tuple[float, ...], view_wh: tuple[int, int], keep: list[np.ndarray]) -> tuple[int, int, int, int]:
    """Pixels to cut (left, top, right, bottom): the planned fractions, but never into a kept quad (4 px margin)."""
    w, h = view_wh
    left, top, right, bottom = (int(f * d) for f, d in zip(fractions, (w, h, w, h)))
    if keep:
        pts = np.concatenate(keep)
        left = max(0, min(left, int(np.floor(pts[:, 0].min())) - 4))
        top = max(0, min(top, int(np.floor(pts[:, 1].min())) - 4))
        right = max(0, min(right, w - 1 - int(np.ceil(pts[:, 0].max())) - 4))
        bottom = max(0, min(bottom, h - 1 - int(np.ceil(pts[:, 1].max())) - 4))
    return left, top, right, bottom


# --------------------------------------------------------------------------------------
# A whole run


def _worker(args: tuple[int, int, str, str | None, dict[str, Any]]) -> tuple[int, bytes, str, dict[str, str]]:
    index, seed, difficulty, template_dir, forced = args
    templates = load_templates(template_dir)
    data, ext, row = generate_one(index, seed=seed, difficulty=difficulty, templates=templates, **forced)
    return index, data, ext, row


def generate(
    n: int,
    out_dir: str | Path,
    *,
    seed: int,
    difficulty: str = "normal",
    template_dir: str | Path | None = None,
    jobs: int = 1,
    progress=None,
    forced: Mapping[str, Any] | None = None,
) -> Path:
    """Write photos ``0 .. n-1`` and ``truth.csv`` into ``out_dir``; returns the truth file's path.

    ``jobs`` > 1 makes photos in that many processes (same bytes as ``jobs=1``);
    ``progress(done, n)`` is called after each photo, if given; ``forced`` conditions
    (keys of :func:`plan_photo`, e.g. ``{"delivery": "chat_1280"}``) apply to every photo.
    """
    if n < 0:
        raise SynthError(f"n must be >= 0, got {n}")
    if difficulty not in PROFILES:
        raise SynthError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    templates = load_templates(template_dir)  # fail early on a bad template folder
    forced = dict(forced or {})
    if n:
        plan_photo(0, seed=seed, difficulty=difficulty, templates=templates, forced=forced)  # ... or a bad condition
    tasks = [(i, seed, difficulty, None if template_dir is None else str(template_dir), forced) for i in range(n)]
    rows: dict[int, dict[str, str]] = {}

    def consume(results: Iterable[tuple[int, bytes, str, dict[str, str]]]) -> None:
        for index, data, _, row in results:
            (out / row["file"]).write_bytes(data)
            rows[index] = row
            if progress is not None:
                progress(len(rows), n)

    if jobs > 1 and n > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            consume(pool.map(_worker, tasks, chunksize=1))
    else:
        consume(map(_worker, tasks))
    truth = out / "truth.csv"
    write_truth(truth, [rows[i] for i in range(n)])
    return truth


def write_truth(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(TRUTH_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in TRUTH_COLUMNS})
    path.write_text(buf.getvalue(), encoding="utf-8")


def read_truth(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 4))
