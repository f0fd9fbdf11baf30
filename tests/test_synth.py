"""The synthetic generator: deterministic, covering every condition, and geometrically true.

Photos are forced to the cheap chat size (1280 px) wherever the test is not about size,
so the file runs in well under a minute on two cores.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

from ballot_vision.cli import app
from ballot_vision.synth import generate as gen
from ballot_vision.synth.delivery import decode_view
from ballot_vision.synth.generate import TRUTH_COLUMNS, file_name, generate, generate_one, parse_quads, plan_photo, read_truth
from ballot_vision.templates import load_templates

TEMPLATES = load_templates()
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FAST = {"delivery": "chat_1280", "format": "jpg"}
#: For measuring ink: a crease line or a shadow edge through a square is not ink (folds are covered below).
PLAIN = {"fold": "none", "shadow": 0.0, "finger": False, "out_of_frame": "none"}

#: The columns truth.csv must start with, exactly (the contract with evaluate.py and users).
REQUIRED = (
    "file kind template expected_decision party marked duplicate_of signature must_review conditions mark pen stroke_mm "
    "rotation_deg exif_orientation tilt_deg frame_fill out_of_frame background gradient shadow cast blur noise_sigma fold "
    "curl finger jpeg_quality delivery print_font print_scale print_dx_mm print_dy_mm row_height_mm square_mm paper_shade "
    "difficulty squares_px"
).split()


def make(index: int, seed: int = 5, difficulty: str = "easy", **forced):
    return generate_one(index, seed=seed, difficulty=difficulty, templates=TEMPLATES, **{**FAST, **forced})


# --------------------------------------------------------------------------------------
# Measuring ink inside a square of the final photo


def inner(quad: np.ndarray, frac: float = 0.72) -> np.ndarray:
    """The quad shrunk about its centre: the square's inside without its printed border band."""
    c = quad.mean(0)
    return c + (quad - c) * frac


def ink_share(view_bgr: np.ndarray, quad: np.ndarray) -> float:
    """Share of pixels inside ``quad`` that are ink: much darker than the paper there, or coloured."""
    mask = np.zeros(view_bgr.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(quad).astype(np.int32)], 1)
    px = view_bgr[mask.astype(bool)].astype(float)
    gray, sat = px.mean(1), px.max(1) - px.min(1)
    paper = np.percentile(gray, 90)
    return float(((gray < 0.7 * paper) | (sat > 0.25 * paper + 25)).mean())


def ink_by_square(data: bytes, row: dict[str, str]) -> dict[str, float]:
    view = decode_view(data)
    assert (view.shape[1], view.shape[0]) == (int(row["width_px"]), int(row["height_px"]))
    return {k: ink_share(view, inner(q)) for k, q in parse_quads(row["squares_px"]).items()}


INKED, CLEAN = 0.008, 0.004  # a 3 mm dash still covers ~1 % of the inside; a clean square ~0 %


@pytest.mark.parametrize(
    ("index", "mark", "pen", "exif"),
    [(0, "tick", "blue", 1), (1, "cross", "black", 6), (2, "plus", "violet", 3), (3, "fill", "blue", 8), (4, "circle", "black", 1), (5, "scribble", "violet", 6), (6, "dash", "blue", 8), (7, "tick", "violet", 3)],
)
def test_ink_is_in_the_square_truth_names_and_nowhere_else(index: int, mark: str, pen: str, exif: int) -> None:
    data, _, row = make(index, kind="front", vote="single", mark=mark, pen=pen, stray_dots=0, over_border=False, exif_orientation=exif, **PLAIN)
    assert row["expected_decision"] == "vote" and row["party"] == row["marked"] and row["must_review"] == "false"
    ink = ink_by_square(data, row)
    assert set(ink) == set(TEMPLATES[row["template"]].option_ids)
    assert ink[row["party"]] > INKED, f"{mark}: no ink in the named square {row['party']}: {ink}"
    assert all(v < CLEAN for k, v in ink.items() if k != row["party"]), f"{mark}: ink in another square: {ink}"


def test_overvote_blank_and_crossed_out_ink_matches_truth() -> None:
    data, _, row = make(10, kind="front", vote="overvote", party="npk", second="adal", template="kz2021-mazhilis", stray_dots=0, pen="black", **PLAIN)
    assert (row["expected_decision"], row["party"], row["marked"], row["must_review"]) == ("overvote", "", "npk;adal", "false")
    ink = ink_by_square(data, row)
    assert ink["npk"] > INKED and ink["adal"] > INKED and max(ink["nur_otan"], ink["auyl"], ink["ak_zhol"]) < CLEAN, ink

    data, _, row = make(11, kind="front", vote="blank", stray_dots=0, **PLAIN)
    assert (row["expected_decision"], row["marked"], row["pen"]) == ("blank", "", "")
    assert max(ink_by_square(data, row).values()) < CLEAN

    data, _, row = make(12, kind="front", vote="crossed_out", party="auyl", second="ak_zhol", template="kz2021-mazhilis", stray_dots=0, pen="blue", **PLAIN)
    assert (row["expected_decision"], row["marked"], row["must_review"]) == ("overvote", "auyl;ak_zhol", "true")
    assert "crossed_out" in row["conditions"].split(";")
    ink = ink_by_square(data, row)
    assert ink["auyl"] > INKED and ink["ak_zhol"] > INKED


def test_pencil_is_a_vote_that_must_be_reviewed() -> None:
    data, _, row = make(13, kind="front", vote="single", pen="pencil", mark="cross", party="nur_otan", stray_dots=0, over_border=False, template="kz2021-mazhilis", **PLAIN)
    assert (row["expected_decision"], row["party"], row["must_review"]) == ("vote", "nur_otan", "true")
    assert {"pencil", "pen_pencil"} <= set(row["conditions"].split(";"))
    view = decode_view(data)
    quad = inner(parse_quads(row["squares_px"])["nur_otan"])
    mask = np.zeros(view.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(quad).astype(np.int32)], 1)
    px = view[mask.astype(bool)].astype(float)
    dark = px[px.mean(1) < np.percentile(px.mean(1), 90) * 0.85]
    assert len(dark) > 20, "pencil mark not visible"
    assert np.median(dark.max(1) - dark.min(1)) < 35, "pencil must be grey, not coloured"


def test_square_out_of_frame_makes_the_front_unreadable() -> None:
    _, _, row = make(14, kind="front", vote="single", out_of_frame="table", oof_side="right", oof_frac=0.3, rotation_deg=0.0, tilt_deg=0.0)
    w, h = int(row["width_px"]), int(row["height_px"])
    quads = parse_quads(row["squares_px"])
    outside = [k for k, q in quads.items() if (q[:, 0] < 0).any() or (q[:, 0] > w - 1).any() or (q[:, 1] < 0).any() or (q[:, 1] > h - 1).any()]
    assert outside and set(outside) <= set(row["hidden_squares"].split(";"))
    assert (row["expected_decision"], row["must_review"], row["party"]) == ("unreadable", "true", "")
    assert {"out_of_frame", "square_hidden"} <= set(row["conditions"].split(";"))


def test_finger_over_a_square_makes_the_front_unreadable() -> None:
    rows = [make(i, kind="front", finger=True, difficulty="normal")[2] for i in range(20, 23)]
    assert all(r["finger"] == "true" and "finger" in r["conditions"] for r in rows)
    for r in rows:
        hidden = bool(r["hidden_squares"])
        assert (r["expected_decision"] == "unreadable") == hidden and (not hidden or r["must_review"] == "true")


# --------------------------------------------------------------------------------------
# EXIF, privacy, formats


@pytest.mark.parametrize("exif", [6, 8, 3])
def test_exif_orientation_is_written_and_only_it(exif: int) -> None:
    data, ext, row = make(30, kind="front", exif_orientation=exif, stray_dots=0, **PLAIN)
    w, h = int(row["width_px"]), int(row["height_px"])
    with Image.open(io.BytesIO(data)) as im:
        assert dict(im.getexif()) == {0x0112: exif}, "only the Orientation tag may be written"
        stored = im.size
        upright = ImageOps.exif_transpose(im).size
    assert upright == (w, h)
    assert stored == ((h, w) if exif in (6, 8) else (w, h))
    # The ink check on the transposed picture proves the orientation matches squares_px.
    ink = ink_by_square(data, row)
    if row["expected_decision"] == "vote":
        assert ink[row["party"]] > INKED


def test_chat_photos_without_rotation_have_no_exif_and_png_heic_decode() -> None:
    data, ext, _ = make(31, kind="other", exif_orientation=1)
    with Image.open(io.BytesIO(data)) as im:
        assert ext == "jpg" and len(im.getexif()) == 0
    for fmt in ("png", "heic"):
        data, ext, row = make(32, kind="other", other_kind="scene", format=fmt)
        assert ext == fmt and row["file"].endswith("." + fmt) and f"format_{fmt}" in row["conditions"]
        assert decode_view(data).shape[:2] == (int(row["height_px"]), int(row["width_px"]))


# --------------------------------------------------------------------------------------
# Determinism


def test_same_seed_same_bytes_whatever_n_and_jobs(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate(2, a, seed=16, jobs=2)
    generate(1, b, seed=16, jobs=1)
    rows_a, rows_b = read_truth(a / "truth.csv"), read_truth(b / "truth.csv")
    assert rows_a[:1] == rows_b
    for row in rows_b:
        assert (a / row["file"]).read_bytes() == (b / row["file"]).read_bytes()
    one = make(40, kind="front")
    assert make(40, kind="front") == one
    assert make(41, kind="front")[0] != one[0]


def test_forcing_one_condition_leaves_the_others_alone() -> None:
    plain = plan_photo(7, seed=2, difficulty="normal", templates=TEMPLATES)
    forced = plan_photo(7, seed=2, difficulty="normal", templates=TEMPLATES, forced={"rotation_deg": 90.0})
    # run_forced is bookkeeping: what a duplicate needs to re-plan its original.
    assert {k for k in plain if plain[k] != forced[k]} - {"run_forced"} == {"rotation_deg"}
    with pytest.raises(gen.SynthError, match="unknown condition"):
        plan_photo(7, seed=2, difficulty="normal", templates=TEMPLATES, forced={"rotaton": 90})


# --------------------------------------------------------------------------------------
# Duplicates


def _cheap_original(seed: int, before: int) -> int:
    """An index < ``before`` whose natural plan is a small chat photo (cheap to regenerate)."""
    for j in range(before):
        p = plan_photo(j, seed=seed, difficulty="easy", templates=TEMPLATES)
        if p["kind"] != "duplicate" and p["delivery"] == "chat_1280" and p["format"] == "jpg":
            return j
    raise AssertionError("no cheap original")


def test_duplicates_name_their_original_and_keep_geometry() -> None:
    j = _cheap_original(5, 30)
    original, _, orig_row = generate_one(j, seed=5, difficulty="easy", templates=TEMPLATES)
    for variant in gen.DUP_VARIANTS:
        data, ext, row = make(30, kind="duplicate", dup_variant=variant, dup_of=j)
        assert row["duplicate_of"] == orig_row["file"] == file_name(j, orig_row["format"])
        assert row["file"] == file_name(30, ext) and {"duplicate", f"dup_{variant}"} <= set(row["conditions"].split(";"))
        assert row["expected_decision"] == orig_row["expected_decision"] and row["kind"] == orig_row["kind"]
        if variant == "identical":
            assert data == original
            continue
        assert data != original
        view = decode_view(data)
        assert (view.shape[1], view.shape[0]) == (int(row["width_px"]), int(row["height_px"]))
        if orig_row["kind"] == "front" and orig_row["expected_decision"] == "vote":
            assert ink_by_square(data, row)[orig_row["party"]] > INKED, variant


# --------------------------------------------------------------------------------------
# Coverage of every listed condition


#: One photo per entry, each forcing several conditions; the tags must show them all.
COVERAGE = [
    ({"kind": "front", "mark": "tick", "pen": "blue", "rotation_deg": 90.0, "exif_orientation": 6, "tilt_deg": 25.0, "blur": "motion", "fold": "half", "shadow": 0.4, "cast": "warm", "background": "wood", "noise_1280": 6.0, "stray_dots": 2, "jpeg_quality": 72},
     {"mark_tick", "pen_blue", "rot_90", "exif_6", "tilt", "blur_motion", "fold", "fold_half", "shadow", "cast_warm", "bg_wood", "noise", "stray_dot", "jpeg_q70", "size_1280"}),
    ({"kind": "front", "mark": "cross", "pen": "black", "rotation_deg": 180.0, "exif_orientation": 3, "blur": "defocus", "fold": "thirds", "curl": 0.8, "cast": "cold", "background": "cloth", "over_border": True, "gradient": 0.3},
     {"mark_cross", "pen_black", "rot_180", "exif_3", "blur_defocus", "fold_thirds", "curl", "cast_cold", "bg_cloth", "mark_over_border", "gradient"}),
    ({"kind": "front", "mark": "plus", "pen": "violet", "rotation_deg": 270.0, "exif_orientation": 8, "background": "papers", "finger": True, "vote": "single"},
     {"mark_plus", "pen_violet", "rot_270", "exif_8", "bg_papers", "finger"}),
    ({"kind": "front", "mark": "fill", "rotation_deg": 33.0, "background": "table", "out_of_frame": "margin", "oof_side": "top"}, {"mark_fill", "rot_other", "bg_table", "out_of_frame", "out_of_frame_margin"}),
    ({"kind": "front", "mark": "circle", "vote": "overvote", "mark2": "scribble"}, {"mark_circle", "mark_scribble", "overvote"}),
    ({"kind": "front", "mark": "dash", "vote": "crossed_out", "pen": "pencil"}, {"mark_dash", "crossed_out", "pencil"}),
    ({"kind": "front", "vote": "blank", "out_of_frame": "table", "oof_side": "bottom", "fold": "quarters"}, {"blank", "out_of_frame_table", "fold_quarters"}),
    ({"kind": "back", "signature": "present", "stamp": True, "format": "png"}, {"kind_back", "signature_present", "stamp", "format_png"}),
    ({"kind": "back", "signature": "absent", "stamp": False}, {"signature_absent"}),
    ({"kind": "other", "other_kind": "document", "delivery": "chat_2560"}, {"kind_other", "other_document", "size_2560"}),
    ({"kind": "other", "other_kind": "form"}, {"other_form"}),
    ({"kind": "other", "other_kind": "receipt", "format": "heic"}, {"other_receipt", "format_heic"}),
    ({"kind": "other", "other_kind": "scene", "delivery": "original"}, {"other_scene", "size_orig"}),
]


@pytest.mark.parametrize(("forced", "tags"), COVERAGE, ids=[f"{i}" for i in range(len(COVERAGE))])
def test_each_listed_condition_shows_in_truth(forced: dict, tags: set[str]) -> None:
    data, ext, row = generate_one(50 + COVERAGE.index((forced, tags)), seed=9, difficulty="normal", templates=TEMPLATES, **{**FAST, **forced})
    got = set(row["conditions"].split(";"))
    assert tags <= got, f"missing {tags - got} in {sorted(got)}"
    assert list(row)[: len(REQUIRED)] == REQUIRED
    expected = {"front": {"vote", "blank", "overvote", "unreadable"}, "back": {"back"}, "other": {"not_ballot"}}[row["kind"]]
    assert row["expected_decision"] in expected
    if row["kind"] == "front":
        assert set(parse_quads(row["squares_px"])) == set(TEMPLATES[row["template"]].option_ids)
        assert row["print_font"] and row["paper_shade"] and row["difficulty"] == "normal"
    if row["kind"] == "back":
        assert row["signature"] == forced["signature"]


def test_n200_plan_covers_every_condition_in_the_listed_mix() -> None:
    """The natural mix of 200 photos (plans only: the pixels are tested above)."""
    plans = [plan_photo(i, seed=1, difficulty="normal", templates=TEMPLATES) for i in range(200)]
    kinds = Counter(p["kind"] for p in plans)
    assert 110 <= kinds["front"] <= 150 and 25 <= kinds["back"] <= 55 and kinds["other"] >= 6 and kinds["duplicate"] >= 6
    fronts = [p for p in plans if p["kind"] == "front"]

    def seen(key: str, values) -> None:
        have = {p[key] for p in plans}
        assert set(values) <= have, f"{key}: missing {set(values) - have}"

    seen("mark", gen.MARK_WEIGHTS)
    seen("pen", ("blue", "black", "violet", "pencil"))
    assert {p["vote"] for p in fronts} == set(gen.VOTE_WEIGHTS)
    assert "kz2023-mazhilis-a5" not in {p["template"] for p in plans}
    assert {p["template"] for p in fronts} == {t for t in TEMPLATES if t.startswith("kz2021")}
    quarter = {int(round(p["rotation_deg"] / 90)) % 4 for p in plans}
    assert quarter == {0, 1, 2, 3}
    seen("exif_orientation", (1, 3, 6, 8))
    assert max(p["tilt_deg"] for p in plans) > 20
    fills = [p["frame_fill"] for p in plans]
    assert min(fills) < 0.4 and max(fills) > 0.9
    seen("out_of_frame", ("none", "margin", "table"))
    seen("background", gen.BACKGROUND_WEIGHTS)
    seen("cast", ("none", "warm", "cold"))
    seen("blur", ("none", "defocus", "motion"))
    seen("fold", ("none", "half", "thirds"))
    seen("delivery", gen.DELIVERY_WEIGHTS)
    seen("format", ("jpg", "png"))
    seen("other_kind", ("document", "form", "receipt", "scene"))
    seen("signature", ("present", "absent"))
    assert any(p["shadow"] for p in plans) and any(p["curl"] for p in plans) and any(p["finger"] for p in plans)
    assert any(p["stray_dots"] for p in fronts) and any(p["over_border"] for p in fronts)
    deliveries = Counter(p["delivery"] for p in plans)
    assert deliveries["chat_1280"] > deliveries["chat_2560"] > deliveries["original"] > 10
    duplicates = [p for p in plans if p["kind"] == "duplicate"]
    assert len({p["dup_variant"] for p in duplicates}) >= 3


# --------------------------------------------------------------------------------------
# CLI, and the committed samples


def _seed_with_early_duplicate(n: int) -> int:
    """A seed whose first ``n`` photos are small chat photos and include a duplicate (found from plans, cheaply)."""
    for seed in range(500):
        plans = [plan_photo(i, seed=seed, difficulty="normal", templates=TEMPLATES) for i in range(n)]
        if any(p["kind"] == "duplicate" for p in plans[1:]) and all(p["delivery"] == "chat_1280" and p["format"] == "jpg" for p in plans):
            return seed
    raise AssertionError("no seed with an early duplicate")


def test_cli_synth_writes_photos_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "set"
    seed = _seed_with_early_duplicate(5)
    result = CliRunner().invoke(app, ["synth", "--n", "5", "--out", str(out), "--seed", str(seed), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    header = (out / "truth.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[: len(REQUIRED)] == REQUIRED and tuple(header) == TRUTH_COLUMNS
    rows = read_truth(out / "truth.csv")
    assert len(rows) == 5 and all((out / r["file"]).is_file() for r in rows)
    dups = [r for r in rows if r["duplicate_of"]]
    assert dups
    assert all((out / r["duplicate_of"]).is_file() for r in dups)
    bad = CliRunner().invoke(app, ["synth", "--n", "1", "--out", str(out), "--difficulty", "extreme"])
    assert bad.exit_code == 2 and "easy, normal, hard" in bad.output


@pytest.mark.skipif(not (SAMPLES / "truth.csv").is_file(), reason="samples/ not generated yet")
def test_samples_show_every_kind_and_duplicates_point_to_existing_files() -> None:
    rows = read_truth(SAMPLES / "truth.csv")
    photos = SAMPLES / "photos"
    assert all((photos / r["file"]).is_file() for r in rows)
    assert all((photos / r["duplicate_of"]).is_file() for r in rows if r["duplicate_of"])
    assert sorted(p.name for p in photos.iterdir()) == sorted(r["file"] for r in rows)  # photos only
    decisions = {r["expected_decision"] for r in rows}
    assert {"vote", "blank", "overvote", "back", "not_ballot"} <= decisions
    assert {r["signature"] for r in rows if r["kind"] == "back"} == {"present", "absent"}
    assert any(r["duplicate_of"] for r in rows) and any("pencil" in r["conditions"] for r in rows)
    # Every 2021 contest with each of its row counts (3 to 5; the row sets of one count look alike).
    def form(tid: str) -> tuple[str, int]:
        return TEMPLATES[tid].contest, len(TEMPLATES[tid].options)
    assert {form(r["template"]) for r in rows if r["kind"] == "front"} >= {
        form(t) for t in TEMPLATES if t.startswith("kz2021") and len(TEMPLATES[t].options) >= 3}
    assert sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file()) < 10 * 2**20


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("BV_SYNTH_FULL") != "1", reason="about 2–3 minutes on 2 cores; set BV_SYNTH_FULL=1")
def test_full_n200_run_covers_every_condition(tmp_path: Path) -> None:
    truth = generate(200, tmp_path, seed=1, difficulty="normal", jobs=2)
    tags = Counter(t for r in read_truth(truth) for t in r["conditions"].split(";"))
    needed = set().union(*(t for _, t in COVERAGE)) - {"format_heic", "format_png", "jpeg_q70"}
    assert not needed - set(tags), f"never seen: {sorted(needed - set(tags))}"
