"""``make eval``: accuracy, review rate and silent errors on a freshly generated set.

A new synthetic set is generated with a seed that was never used during development
(random unless ``--seed`` is given, and printed so a run can be repeated), read by the
batch engine, and compared with its truth.csv. The figures are the reading-pipeline
targets:

- of fronts not sent to review, the share with the right decision and party;
- silent errors: photos decided wrong *and* not flagged, as a share of all photos;
- the share of fronts sent to review;
- non-ballots counted as votes and backs read as fronts (both must be zero);

then a table by condition (blur, rotation, fold, pen, ...) so weaknesses show.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .synth.generate import PRESSES
from .templates import load_templates


@dataclass(frozen=True)
class Figures:
    photos: int
    fronts: int
    fronts_auto: int
    auto_accuracy: float  # right decision and party among fronts not sent to review
    review_rate: float  # fronts sent to review / fronts
    silent_errors: int
    silent_error_rate: float  # / all photos
    not_ballot_as_vote: int
    back_as_front: int
    must_review_flagged: float  # share of fronts that must be reviewed and were
    errors: int
    wrong_form: int = 0  # fronts counted, without review, on another form than theirs
    must_review_share: float = float("nan")  # fronts that must be reviewed / fronts: the floor of review_rate
    avoidable_review_rate: float = float("nan")  # fronts sent to review that need not have been / fronts


#: Decisions that enter a form's tally (and so must be on the right form).
COUNTED = ("vote", "blank", "overvote")


def join(truth: pd.DataFrame, results: pd.DataFrame, contests: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per photo with truth and result columns side by side (results suffixed _r).

    ``contests``: template id -> what it elects (default: the shipped templates'); a vote
    read on another form of the same contest (a maslikhat ballot listing other parties)
    goes into the same tally, so only the contest must be right.
    """
    if contests is None:
        contests = {t.id: t.contest for t in load_templates().values()}
    truth = truth.fillna("").astype(str)
    results = results.fillna("").astype(str)
    merged = truth.merge(results, on="file", how="left", suffixes=("", "_r"), indicator=True)
    merged["decision_r"] = merged["decision"].where(merged["_merge"] == "both", "missing")
    merged["party_r"] = merged["party_r"] if "party_r" in merged else ""
    merged["review_r"] = merged["needs_review"].eq("true")
    merged["right"] = (merged["decision_r"] == merged["expected_decision"]) & (
        (merged["expected_decision"] != "vote") | (merged["party_r"] == merged["party"])
    )
    # A counted front goes into its form's tally: a Mazhilis vote read off a maslikhat
    # ballot is a wrong count even with the right party.
    merged["wrong_form"] = False
    if "template" in truth and "template_r" in merged:
        contest = {**{t: t for t in set(merged["template"]) | set(merged["template_r"])}, **contests}
        merged["wrong_form"] = merged["decision_r"].isin(COUNTED) & (
            merged["template_r"].map(contest) != merged["template"].map(contest))
    merged["right"] &= ~merged["wrong_form"]
    return merged


def figures(merged: pd.DataFrame) -> Figures:
    fronts = merged[merged["kind"] == "front"]
    auto = fronts[~fronts["review_r"]]
    wrong_silent = merged[~merged["right"] & ~merged["review_r"]]
    must = fronts[fronts["must_review"] == "true"]
    return Figures(
        photos=len(merged),
        fronts=len(fronts),
        fronts_auto=len(auto),
        auto_accuracy=float(auto["right"].mean()) if len(auto) else float("nan"),
        review_rate=float(fronts["review_r"].mean()) if len(fronts) else float("nan"),
        silent_errors=len(wrong_silent),
        silent_error_rate=len(wrong_silent) / max(1, len(merged)),
        not_ballot_as_vote=int(((merged["kind"] == "other") & merged["decision_r"].isin(COUNTED)).sum()),
        back_as_front=int(((merged["kind"] == "back") & (merged["side"] == "front")).sum()),
        must_review_flagged=float(must["review_r"].mean()) if len(must) else float("nan"),
        errors=int((merged["decision_r"] == "error").sum()),
        wrong_form=int(auto["wrong_form"].sum()),
        must_review_share=len(must) / len(fronts) if len(fronts) else float("nan"),
        avoidable_review_rate=float((fronts["review_r"] & (fronts["must_review"] != "true")).mean())
        if len(fronts) else float("nan"),
    )


def by_condition(merged: pd.DataFrame) -> pd.DataFrame:
    """Per condition tag: photos, accuracy (all), review rate, silent errors."""
    rows = []
    tags = merged["conditions"].str.split(";").explode()
    tags = tags[tags != ""]
    for tag in sorted(tags.unique()):
        sub = merged.loc[tags[tags == tag].index.unique()]
        rows.append({
            "condition": tag,
            "photos": len(sub),
            "right": round(float(sub["right"].mean()), 3),
            "review": round(float(sub["review_r"].mean()), 3),
            "silent_errors": int((~sub["right"] & ~sub["review_r"]).sum()),
        })
    return pd.DataFrame(rows).sort_values(["right", "photos"], ascending=[True, False])


def confusion(merged: pd.DataFrame) -> pd.DataFrame:
    return pd.crosstab(merged["expected_decision"], merged["decision_r"], margins=True)


def calibration(merged: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Mean stated confidence against the observed share right, per confidence bin."""
    fronts = merged[(merged["kind"] == "front") & (merged["confidence"] != "")].copy()
    fronts["conf"] = fronts["confidence"].astype(float)
    fronts["bin"] = pd.cut(fronts["conf"], np.linspace(0, 1, bins + 1), include_lowest=True)
    return fronts.groupby("bin", observed=True).agg(photos=("conf", "size"), stated=("conf", "mean"),
                                                    observed=("right", "mean")).round(3)


def review_reasons(merged: pd.DataFrame) -> pd.DataFrame:
    """Why fronts went to review: per reason, the share of all fronts carrying it, for fronts
    that must be reviewed (hidden squares, pencil, ...) and for the others. A front often
    carries several reasons, so shares add up to more than the review rate."""
    fronts = merged[merged["kind"] == "front"]
    reviewed = fronts[fronts["review_r"]]
    tags = reviewed["reasons"].str.split(";").explode()
    tags = tags[tags != ""]
    must = reviewed["must_review"].eq("true")
    rows = [{"reason": reason,
             "must_review": int(must[idx].sum()),
             "others": int((~must[idx]).sum()),
             "share_of_fronts": round(len(idx) / max(1, len(fronts)), 3)}
            for reason, idx in ((r, tags[tags == r].index.unique()) for r in tags.unique())]
    if not rows:
        return pd.DataFrame(columns=["reason", "must_review", "others", "share_of_fronts"])
    return pd.DataFrame(rows).sort_values("share_of_fronts", ascending=False)


def calibration_by_decision(merged: pd.DataFrame) -> pd.DataFrame:
    """Mean stated confidence against the observed share right, per decision (all photos)."""
    rows = merged[merged["confidence"] != ""].copy()
    rows["conf"] = rows["confidence"].astype(float)
    return rows.groupby("decision_r").agg(photos=("conf", "size"), stated=("conf", "mean"),
                                          observed=("right", "mean")).round(3)


def backs_line(merged: pd.DataFrame) -> str:
    """How backs were read: recognised as backs, and the signature among those decided without review."""
    backs = merged[merged["kind"] == "back"]
    if backs.empty:
        return "backs: none in this set"
    as_back = backs[backs["decision_r"] == "back"]
    auto = as_back[~as_back["review_r"]]
    right = (auto["signature_r"] == auto["signature"]).mean() if len(auto) else float("nan")
    return (f"backs: {len(backs)}, read as backs {len(as_back) / len(backs):.1%}, "
            f"signature right where not sent to review {right:.1%} ({len(auto)} backs)")


def review_load_line(merged: pd.DataFrame) -> str:
    """Share of each kind of photo sent to review: the people's work, fronts or not."""
    parts = []
    for kind, label in (("front", "fronts"), ("back", "backs"), ("other", "other photos"), ("duplicate", "re-sent")):
        sub = merged[merged["kind"] == kind]
        if len(sub):
            parts.append(f"{label} {sub['review_r'].mean():.1%} of {len(sub)}")
    return f"sent to review: {', '.join(parts)}; all photos {merged['review_r'].mean():.1%}"


def report(merged: pd.DataFrame, title: str) -> str:
    f = figures(merged)
    lines = [
        f"== {title} ==",
        f"photos {f.photos}, fronts {f.fronts}, errors {f.errors}",
        f"fronts decided without review: {f.fronts_auto}, right: {f.auto_accuracy:.2%} (target >= 99.5 %)",
        f"fronts sent to review: {f.review_rate:.2%} (target <= 5 % at normal difficulty): "
        f"{f.must_review_share:.2%} of fronts must be (crossed out, pencil, a hidden square...: "
        f"the floor), and {f.avoidable_review_rate:.2%} went that need not have",
        f"silent errors: {f.silent_errors} = {f.silent_error_rate:.3%} of photos (target <= 0.1 %), "
        f"of which counted on the wrong form: {f.wrong_form}",
        f"non-ballots counted (vote, blank or overvote): {f.not_ballot_as_vote} (must be 0); "
        f"backs read as fronts: {f.back_as_front} (must be 0)",
        f"fronts that must be reviewed and were: {f.must_review_flagged:.1%}",
        "",
        "decisions (truth rows × result columns):",
        confusion(merged).to_string(),
        "",
        "by condition (worst first):",
        by_condition(merged).to_string(index=False),
        "",
        backs_line(merged),
        review_load_line(merged),
        "",
        "why fronts went to review (fronts carrying each reason):",
        review_reasons(merged).to_string(index=False),
        "",
        "confidence calibration (fronts):",
        calibration(merged).to_string(),
        "",
        "confidence by decision (all photos):",
        calibration_by_decision(merged).to_string(),
        "",
    ]
    wrong = merged[~merged["right"] & ~merged["review_r"]]
    if len(wrong):
        lines.append("silent errors (first 15):")
        cols = ["file", "expected_decision", "party", "decision_r", "party_r", "confidence", "conditions"]
        if "template_r" in wrong:
            cols[3:3] = ["template", "template_r"]
        lines.append(wrong[cols].head(15).to_string(index=False))
    return "\n".join(lines)


def _complete_set(photos: Path, n: int) -> bool:
    """Whether ``photos`` holds a finished generated set of ``n`` photos (truth.csv is written last)."""
    truth = photos / "truth.csv"
    if not truth.is_file():
        return False
    return len(pd.read_csv(truth, dtype=str, keep_default_na=False)) == n


def run_set(n: int, difficulty: str, seed: int, out_dir: Path, workers: int, press: str = "house") -> pd.DataFrame:
    """Generate a set (printed by ``press``), read it with the batch engine, return the joined table."""
    from .batch.runner import run
    from .pipeline import PipelineContext
    from .synth.generate import generate

    name = f"{difficulty}-{seed}" if press == "house" else f"{difficulty}-{press}-{seed}"
    photos = out_dir / name
    started = time.perf_counter()
    if _complete_set(photos, n):
        # Same seed, size and difficulty give the same photos: a kept --out set is reused.
        print(f"reusing the {n} {difficulty} photos (seed {seed}) in {photos}", flush=True)
    else:
        generate(n=n, out_dir=photos, seed=seed, difficulty=difficulty, jobs=workers,
                 forced={"press": press} if press != "house" else None)
        print(f"generated {n} {difficulty} photos (seed {seed}) in {time.perf_counter() - started:.0f} s", flush=True)
    results_csv = out_dir / f"results-{name}.csv"
    started = time.perf_counter()
    run(photos, results_csv, context=PipelineContext.default(), workers=workers, overwrite=True, progress=False)
    print(f"read them in {time.perf_counter() - started:.0f} s", flush=True)
    truth = pd.read_csv(photos / "truth.csv", dtype=str, keep_default_na=False)
    results = pd.read_csv(results_csv, dtype=str, keep_default_na=False)
    return join(truth, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=int(os.environ.get("EVAL_N", 2000)), help="photos at normal difficulty")
    parser.add_argument("--n-hard", type=int, default=int(os.environ.get("EVAL_N_HARD", 500)), help="photos at hard difficulty")
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh random seed, printed")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=None, help="keep photos and CSVs here (default: a temp folder)")
    parser.add_argument("--report", type=Path, default=Path("out/eval-report.txt"), help="where to write the report")
    parser.add_argument("--press", choices=PRESSES, default="house",
                        help="who prints the sheets: house (the renderer the reader was developed with) or "
                             "second (a print designed apart from it, to see how the reader copes with the unseen)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    with tempfile.TemporaryDirectory(prefix="bv-eval-") as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        texts = []
        for difficulty, n in (("normal", args.n), ("hard", args.n_hard)):
            if n <= 0:
                continue
            merged = run_set(n, difficulty, seed, out, args.workers, args.press)
            printed = "" if args.press == "house" else f", {args.press} press"
            text = report(merged, f"{difficulty} difficulty, {n} photos, seed {seed}{printed}")
            print(text, flush=True)
            texts.append(text)
        report_path = args.report
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
        print(f"report written to {report_path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
