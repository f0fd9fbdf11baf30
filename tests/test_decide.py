"""The decision policy is a pure function of stored scores: exact answers on hand-made inputs."""

import dataclasses

import pytest

from ballot_vision.config import ConfigError, MarkThresholds, load_config, with_marks
from ballot_vision.results import Decision, Reason, SquareScore, format_square_details, parse_square_details
from ballot_vision.stages.decide import FrontEvidence, decide_front, p_marked

CONFIG = load_config()
DEF, MARG = CONFIG.marks.definite, CONFIG.marks.marginal


def evidence(*scores, registration=0.9, sharpness=200.0, blur_mm=0.5, **square_fields):
    squares = []
    for i, s in enumerate(scores):
        extra = square_fields.get(f"s{i}", {})
        squares.append(SquareScore(option=f"p{i}", score=s, **extra))
    return FrontEvidence(squares=tuple(squares), registration=registration, sharpness=sharpness, glare=0.0,
                         blur_mm=blur_mm)


def test_one_clear_mark_is_a_confident_vote():
    v = decide_front(evidence(0.01, 0.95, 0.02), CONFIG)
    assert (v.decision, v.party, v.needs_review) == (Decision.VOTE, "p1", False)
    assert v.confidence > 0.95
    assert v.reasons == ()


def test_no_mark_is_blank_and_two_marks_an_overvote():
    assert decide_front(evidence(0.0, 0.01, 0.02), CONFIG).decision == Decision.BLANK
    v = decide_front(evidence(0.9, 0.01, 0.8), CONFIG)
    assert v.decision == Decision.OVERVOTE and v.party == "" and Reason.OVERVOTE in v.reasons


def test_marginal_square_goes_to_review_with_its_reason():
    v = decide_front(evidence(0.9, (DEF + MARG) / 2, 0.0), CONFIG)
    assert v.needs_review and Reason.MARGINAL_MARK in v.reasons
    assert v.confidence < 0.9


def test_hidden_square_makes_the_ballot_unreadable_even_with_a_clear_mark():
    v = decide_front(evidence(0.95, 0.0, 0.0, s2={"visible": False}), CONFIG)
    assert v.decision == Decision.UNREADABLE and v.needs_review
    assert Reason.SQUARE_NOT_VISIBLE in v.reasons


def test_pencil_and_mark_outside_square_are_flagged():
    v = decide_front(evidence(0.9, 0.0, s0={"pencil": 0.9}), CONFIG)
    assert v.decision == Decision.VOTE and v.needs_review and Reason.PENCIL_SUSPECTED in v.reasons
    v = decide_front(evidence(0.02, 0.0, s0={"outside": 0.8}), CONFIG)
    assert v.needs_review and Reason.MARK_OUTSIDE_SQUARE in v.reasons


def test_a_pencil_dash_a_little_over_half_grey_is_flagged_by_the_shipped_thresholds():
    """Make eval seed 3145934902 (hard), IMG_00273: a pencil dash, 56 % of its ink grey,
    was counted as a valid vote for Ak Zhol without review."""
    v = decide_front(evidence(0.375, 0.0, 0.0, s0={"pencil": 0.562}), CONFIG)
    assert v.decision == Decision.VOTE and v.needs_review and Reason.PENCIL_SUSPECTED in v.reasons


def test_poor_registration_and_blur_send_to_review():
    assert Reason.LOW_CONFIDENCE_REGISTRATION in decide_front(evidence(0.9, 0.0, registration=0.1), CONFIG).reasons
    assert Reason.BLUR in decide_front(evidence(0.9, 0.0, sharpness=1.0), CONFIG).reasons


def test_thresholds_are_configuration():
    # A score between the defaults: marginal by default, a mark once `definite` is lowered.
    score = (DEF + MARG) / 2
    assert decide_front(evidence(score, 0.0), CONFIG).decision == Decision.BLANK
    lowered = with_marks(CONFIG, definite=score - 0.01)
    assert decide_front(evidence(score, 0.0), lowered).decision == Decision.VOTE


def test_thresholds_are_validated():
    with pytest.raises(ConfigError, match="marginal <= definite"):
        MarkThresholds(definite=0.1, marginal=0.2, outside=0.3, pencil=0.5, faint=0.3)


def test_p_marked_is_monotone_and_anchored_at_the_thresholds():
    assert p_marked(DEF, CONFIG) == pytest.approx(0.95, abs=1e-6)
    assert p_marked(MARG, CONFIG) == pytest.approx(0.05, abs=1e-6)
    values = [p_marked(s / 20, CONFIG) for s in range(21)]
    assert values == sorted(values)


def test_square_details_round_trip_so_decisions_rerun_without_photos():
    squares = (SquareScore("npk", 0.0123, 0.01, 0.02, 0.0, 0.0, True, faint=0.4167),
               SquareScore("adal", 0.9, 0.3, 1.2, 0.1, 0.0, False, odd_size=True))
    parsed = parse_square_details(format_square_details(squares))
    assert [dataclasses.astuple(s) for s in parsed] == [dataclasses.astuple(s) for s in squares]


def test_config_file_overrides_and_names_bad_keys(tmp_path):
    good = tmp_path / "c.yaml"
    good.write_text("marks:\n  definite: 0.4\n")
    assert load_config(good).marks.definite == 0.4
    bad = tmp_path / "bad.yaml"
    bad.write_text("marks:\n  definit: 0.4\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(bad)


def test_marks_on_an_unconfirmed_ballot_are_never_counted():
    v = decide_front(dataclasses.replace(evidence(0.0, 0.95, 0.0), ballot_confirmed=False), CONFIG)
    assert (v.decision, v.party, v.tentative) == (Decision.UNREADABLE, "", "vote:p1")
    assert v.needs_review and Reason.BALLOT_UNCONFIRMED in v.reasons


def test_the_placeholder_unreadable_of_an_unconfirmed_ballot_has_a_low_confidence():
    """A clear mark makes "undeterminable" unlikely: its confidence is the reading's complement."""
    confirmed = decide_front(evidence(0.0, 0.95, 0.0), CONFIG)
    v = decide_front(dataclasses.replace(evidence(0.0, 0.95, 0.0), ballot_confirmed=False), CONFIG)
    assert confirmed.confidence > 0.9
    assert v.confidence == pytest.approx(1 - confirmed.confidence, abs=1e-3)


def test_a_mark_found_only_by_searching_around_goes_to_review():
    v = decide_front(evidence(0.0, 0.95, 0.0, s1={"shift_mm": 6.0}), CONFIG)
    assert v.decision == Decision.VOTE and v.needs_review
    assert Reason.LOW_CONFIDENCE_REGISTRATION in v.reasons


def test_a_blank_on_a_blurred_photo_goes_to_review():
    """Blur erases faint marks: a blank read from a soft photo must be looked at."""
    soft = decide_front(evidence(0.0, 0.0, 0.0, sharpness=CONFIG.review.min_sharpness_blank - 5), CONFIG)
    sharp = decide_front(evidence(0.0, 0.0, 0.0, sharpness=CONFIG.review.min_sharpness_blank + 50), CONFIG)
    assert soft.decision == sharp.decision == Decision.BLANK
    assert soft.needs_review and Reason.BLUR in soft.reasons and soft.confidence < sharp.confidence
    assert not sharp.needs_review
    # A clear vote on the same soft photo is not held back for it.
    assert not decide_front(evidence(0.9, 0.0, 0.0, sharpness=CONFIG.review.min_sharpness_blank - 5), CONFIG).needs_review


def test_a_blank_with_faint_lines_in_a_square_goes_to_review():
    """A light pencil below the stroke threshold leaves faint lines: the blank may be a vote."""
    faint = CONFIG.marks.faint
    hint = decide_front(evidence(0.0, 0.0, 0.0, s1={"faint": faint + 0.1}), CONFIG)
    clean = decide_front(evidence(0.0, 0.0, 0.0, s1={"faint": faint - 0.1}), CONFIG)
    assert hint.decision == clean.decision == Decision.BLANK
    assert hint.needs_review and Reason.FAINT_MARK in hint.reasons and hint.confidence < clean.confidence
    assert not clean.needs_review
    # Faint lines beside a clear mark on a sharp photo change nothing: the vote is read
    # from the mark, and a second pen mark would have read as one.
    vote = decide_front(evidence(0.9, 0.0, 0.0, s1={"faint": faint + 0.1}), CONFIG)
    assert vote.decision == Decision.VOTE and not vote.needs_review


def test_a_blank_with_a_grey_speck_in_a_square_goes_to_review_as_pencil():
    """A light pencil dash can leave a speck too short to be a mark: a blank must not be
    decided over it (a pencil vote read as a blank, score 0.083, faint 0.24)."""
    pencil = CONFIG.marks.pencil
    speck = decide_front(evidence(0.0, 0.083, 0.0, s1={"pencil": 1.0, "faint": 0.24}), CONFIG)
    assert speck.decision == Decision.BLANK and speck.needs_review
    assert Reason.PENCIL_SUSPECTED in speck.reasons
    assert speck.confidence < 0.9
    # A speck of pen ink, or grey print with no stroke at all, leaves the blank decided.
    for squares in ({"s1": {"pencil": pencil - 0.2}}, {"s0": {"pencil": 1.0}}):
        clean = decide_front(evidence(0.0, 0.083 if "s1" in squares else 0.0, 0.0, **squares), CONFIG)
        assert clean.decision == Decision.BLANK and not clean.needs_review, squares
    # On a vote, a speck in another square is no second mark (51 of them on decided votes
    # of 21 make eval sets, none a mark).
    vote = decide_front(evidence(0.9, 0.083, 0.0, s1={"pencil": 1.0}), CONFIG)
    assert vote.decision == Decision.VOTE and not vote.needs_review


def test_a_vote_through_blur_with_faint_lines_in_another_square_goes_to_review():
    """Blur washes a second pen mark down to faint lines: the vote may be an overvote
    (make eval seed 3221853415, IMG_00628: a defocused cross scored 0.10, faint 0.82)."""
    faint = CONFIG.marks.faint
    soft = dict(blur_mm=1.50, sharpness=18.7)  # that photo's
    held = decide_front(evidence(0.39, 0.097, 0.0, s1={"faint": 0.82}, **soft), CONFIG)
    assert held.decision == Decision.VOTE and held.party == "p0"
    assert held.needs_review and Reason.FAINT_MARK in held.reasons
    # Either measure of the blur alone is enough.
    for alone in (dict(blur_mm=1.50, sharpness=400.0), dict(blur_mm=0.5, sharpness=18.7)):
        assert Reason.FAINT_MARK in decide_front(evidence(0.39, 0.097, 0.0, s1={"faint": 0.82}, **alone),
                                                 CONFIG).reasons, alone
    # The voted square's own faint lines (the mark's blurred edges) are no second mark.
    own = decide_front(evidence(0.9, 0.0, 0.0, s0={"faint": faint + 0.5}, **soft), CONFIG)
    assert not own.needs_review


def test_a_vote_on_a_sharp_grainy_photo_is_not_held_for_noise_in_another_square():
    """Edges spread 0.9-1.2 mm on a sharp chat photo (its pixels are that coarse) wash no pen
    stroke out; the faint lines beside its vote were the sensor's grain (make eval seed
    2290483117, IMG_00598: faint 0.65 in a blank square, blur_mm 0.94, sharpness 116)."""
    grainy = dict(blur_mm=0.94, sharpness=116.0)
    vote = decide_front(evidence(0.9, 0.0, 0.0, s1={"faint": 0.65}, **grainy), CONFIG)
    assert (vote.decision, vote.party, vote.needs_review) == (Decision.VOTE, "p0", False), vote.reasons
    # A blank on the same photo is still held: blur of 0.9 mm erases a pencil line.
    blank = decide_front(evidence(0.0, 0.0, 0.0, s1={"faint": 0.65}, **grainy), CONFIG)
    assert blank.needs_review and Reason.FAINT_MARK in blank.reasons


def test_a_blank_through_spread_edges_goes_to_review_even_when_noise_makes_it_look_sharp():
    """Sensor noise raises the Laplacian; the borders' edge width still shows the blur."""
    limit = CONFIG.review.max_blur_mm_blank
    noisy_soft = decide_front(evidence(0.0, 0.0, 0.0, sharpness=400.0, blur_mm=limit + 0.3), CONFIG)
    crisp = decide_front(evidence(0.0, 0.0, 0.0, sharpness=400.0, blur_mm=limit - 0.5), CONFIG)
    assert noisy_soft.decision == crisp.decision == Decision.BLANK
    assert noisy_soft.needs_review and Reason.BLUR in noisy_soft.reasons
    assert not crisp.needs_review
    assert not decide_front(evidence(0.9, 0.0, 0.0, blur_mm=limit + 0.3), CONFIG).needs_review


LENIENT = dataclasses.replace(CONFIG, review=dataclasses.replace(CONFIG.review, review_overvote=False))
STRICT = dataclasses.replace(CONFIG, review=dataclasses.replace(CONFIG.review, review_overvote=True))


def test_every_overvote_goes_to_review_when_configured():
    v = decide_front(evidence(0.9, 0.01, 0.8), STRICT)
    assert v.decision == Decision.OVERVOTE and Reason.OVERVOTE in v.reasons and v.needs_review
    assert not decide_front(evidence(0.9, 0.01, 0.0), STRICT).needs_review  # a single clear vote is not held


def test_two_clear_marks_are_decided_without_review_by_default():
    assert CONFIG.review.review_overvote is False
    v = decide_front(evidence(0.9, 0.01, 0.8), CONFIG)
    assert v.decision == Decision.OVERVOTE and Reason.OVERVOTE in v.reasons and not v.needs_review


def test_an_overvote_whose_second_mark_is_short_goes_to_review_all_the_same():
    """A short stroke may be the pen slipping, a crease or a shadow's edge: a person looks."""
    weak = LENIENT.review.min_overvote_mark - 0.1
    assert weak >= LENIENT.marks.definite
    v = decide_front(evidence(0.9, 0.01, weak), LENIENT)
    assert v.decision == Decision.OVERVOTE and v.needs_review


def test_an_overvote_with_a_mark_scribbled_over_goes_to_review_all_the_same():
    """A mark scribbled over may be a voter's correction, which a commission judges."""
    heavy = LENIENT.review.max_overvote_stroke + 1.0
    v = decide_front(evidence(0.9, 0.01, 1.0, s2={"stroke": heavy, "fill": 0.5}), LENIENT)
    assert v.decision == Decision.OVERVOTE and v.needs_review
    plain = decide_front(evidence(0.9, 0.01, 1.0, s2={"stroke": 1.5, "fill": 0.1}), LENIENT)
    assert not plain.needs_review


def test_an_overvote_with_a_dense_mark_goes_to_review_even_where_blur_shortened_its_strokes():
    """A square blacked out or scribbled dense may be a cancelled mark; through blur a dense
    scribble's strokes merge and measure short (make eval seed 912480635, IMG_00694: a
    crossed-out mark, fill 0.35, stroke 2.79, decided an overvote without review)."""
    crossed = decide_front(evidence(0.9, 0.01, 1.0, s2={"stroke": 2.79, "fill": 0.35}), LENIENT)
    assert crossed.decision == Decision.OVERVOTE and crossed.needs_review
    # Ticks, crosses and circles fill a fifth of a square at most.
    plain = decide_front(evidence(0.9, 0.01, 1.0, s0={"fill": 0.2}, s2={"stroke": 2.4, "fill": 0.19}), LENIENT)
    assert not plain.needs_review


def test_an_overvote_with_a_mark_in_a_square_found_at_another_size_goes_to_review():
    """The "mark" may be the square's own printed side, taken inside by a shadow's edge."""
    odd = decide_front(evidence(0.9, 0.01, 1.0, s2={"odd_size": True}), LENIENT)
    assert odd.decision == Decision.OVERVOTE and odd.needs_review
    assert Reason.SQUARE_BORDER_DOUBTFUL in odd.reasons
    vote = decide_front(evidence(0.9, 0.01, 0.0, s0={"odd_size": True}), LENIENT)
    assert vote.decision == Decision.VOTE and not vote.needs_review  # a mark often moves its own border


def test_confidences_without_squares_are_configuration_and_validated(tmp_path):
    override = tmp_path / "c.yaml"
    override.write_text("confidence:\n  back_unconfirmed: 0.4\n")
    assert load_config(override).confidence.back_unconfirmed == 0.4
    override.write_text("confidence:\n  not_ballot: 1.5\n")
    with pytest.raises(ConfigError, match="confidence.not_ballot"):
        load_config(override)


def test_a_form_in_doubt_sends_every_decision_to_review():
    """Mazhilis or five-party maslikhat, title unread: any reading goes into an unknown tally."""
    for scores in ((0.9, 0.0, 0.0), (0.0, 0.0, 0.0), (0.9, 0.9, 0.0)):
        v = decide_front(dataclasses.replace(evidence(*scores), template_certain=False), CONFIG)
        assert v.needs_review and Reason.TEMPLATE_AMBIGUOUS in v.reasons


def test_rows_whose_party_is_in_doubt_matter_only_to_a_vote_in_them():
    """Forms of one contest listing different parties (Ak Zhol or Auyl in the second row of a
    three-party maslikhat): a vote elsewhere, a blank or an overvote reads the same on each."""
    def decided(*scores):
        return decide_front(dataclasses.replace(evidence(*scores), template_certain=False, open_options=("p1",)),
                            CONFIG)

    v = decided(0.0, 0.9, 0.0)
    assert (v.decision, v.party, v.needs_review) == (Decision.VOTE, "p1", True)
    assert Reason.TEMPLATE_AMBIGUOUS in v.reasons
    for scores, decision in (((0.0, 0.0, 0.9), Decision.VOTE), ((0.0, 0.0, 0.0), Decision.BLANK),
                             ((0.9, 0.0, 0.9), Decision.OVERVOTE)):
        v = decided(*scores)
        assert v.decision == decision and Reason.TEMPLATE_AMBIGUOUS not in v.reasons
    certain = decide_front(evidence(0.0, 0.0, 0.9), CONFIG)
    assert (decided(0.0, 0.0, 0.9).confidence, decided(0.0, 0.0, 0.9).needs_review) == (certain.confidence, False)


def test_a_mark_in_a_disputed_square_goes_to_review_for_a_vote_too():
    """Two finds of the square's border disagreed on whether it is marked: the mark may be
    a printed side (a blank ballot would be counted as a vote)."""
    v = decide_front(evidence(0.9, 0.01, 0.0, s0={"disputed": True}), CONFIG)
    assert v.decision == Decision.VOTE and v.needs_review and Reason.SQUARE_BORDER_DOUBTFUL in v.reasons
    unmarked = decide_front(evidence(0.9, 0.01, 0.0, s1={"disputed": True}), CONFIG)
    assert not unmarked.needs_review and Reason.SQUARE_BORDER_DOUBTFUL not in unmarked.reasons
    square = SquareScore("adal", 0.9, disputed=True)
    assert parse_square_details(format_square_details((square,))) == (square,)
