"""make eval's report tables, on a hand-made truth and result table."""

import pandas as pd

from ballot_vision.evaluate import calibration_by_decision, figures, join, review_load_line, review_reasons

TRUTH = pd.DataFrame({
    "file": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"],
    "kind": ["front", "front", "front", "back"],
    "expected_decision": ["vote", "vote", "unreadable", "back"],
    "party": ["adal", "npk", "", ""],
    "must_review": ["false", "false", "true", "false"],
    "conditions": ["", "", "", ""],
})
RESULTS = pd.DataFrame({
    "file": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"],
    "side": ["front", "front", "front", "back"],
    "decision": ["vote", "overvote", "unreadable", "back"],
    "party": ["adal", "", "", ""],
    "confidence": ["0.99", "0.9", "0.4", "0.55"],
    "needs_review": ["false", "true", "true", "true"],
    "reasons": ["", "overvote;low_confidence_registration", "square_not_visible", "ballot_unconfirmed"],
})


def test_review_reasons_count_fronts_per_reason_split_by_must_review():
    table = review_reasons(join(TRUTH, RESULTS)).set_index("reason")
    assert table.loc["overvote"].tolist() == [0, 1, 0.333]
    assert table.loc["square_not_visible"].tolist() == [1, 0, 0.333]
    assert "ballot_unconfirmed" not in table.index  # a back, not a front


def test_calibration_by_decision_compares_stated_and_observed():
    table = calibration_by_decision(join(TRUTH, RESULTS))
    assert table.loc["overvote", "observed"] == 0.0 and table.loc["overvote", "stated"] == 0.9
    assert table.loc["vote", "observed"] == 1.0 and table.loc["back", "photos"] == 1


def test_figures_count_review_and_silent_errors():
    f = figures(join(TRUTH, RESULTS))
    assert (f.fronts, f.fronts_auto, f.silent_errors) == (3, 1, 0)
    assert f.review_rate == 2 / 3 and f.auto_accuracy == 1.0


def test_review_load_counts_every_kind_of_photo():
    line = review_load_line(join(TRUTH, RESULTS))
    assert line == "sent to review: fronts 66.7% of 3, backs 100.0% of 1; all photos 75.0%"


def test_a_count_on_the_wrong_form_is_a_silent_error():
    truth = TRUTH.assign(template=["kz2021-mazhilis"] * 3 + [""])
    results = RESULTS.assign(template=["kz2021-maslikhat-5", "kz2021-mazhilis", "kz2021-mazhilis", ""])
    merged = join(truth, results)
    assert merged["right"].tolist() == [False, False, True, True]
    f = figures(merged)
    assert (f.silent_errors, f.wrong_form, f.auto_accuracy) == (1, 1, 0.0)


def test_review_splits_into_the_floor_that_must_be_reviewed_and_the_rest():
    f = figures(join(TRUTH, RESULTS))
    assert f.must_review_share == 1 / 3  # c.jpg: no reader can spare it review
    assert f.avoidable_review_rate == 1 / 3  # b.jpg: reviewed, though it need not have been
    assert f.review_rate == f.must_review_share + f.avoidable_review_rate


def test_a_non_ballot_counted_as_an_overvote_or_blank_is_counted_like_a_vote():
    truth = pd.concat([TRUTH, pd.DataFrame({"file": ["e.jpg", "f.jpg"], "kind": ["other", "other"],
                                            "expected_decision": ["not_ballot"] * 2, "party": ["", ""],
                                            "must_review": ["false"] * 2, "conditions": ["", ""]})])
    results = pd.concat([RESULTS, pd.DataFrame({"file": ["e.jpg", "f.jpg"], "side": ["front", "front"],
                                                "decision": ["blank", "unreadable"], "party": ["", ""],
                                                "confidence": ["0.99", "0.5"], "needs_review": ["false", "true"],
                                                "reasons": ["", "ballot_unconfirmed"]})])
    assert figures(join(truth, results)).not_ballot_as_vote == 1
