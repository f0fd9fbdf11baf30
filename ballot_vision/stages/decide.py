"""The decision policy: a pure function of stored measurements and thresholds.

Nothing here looks at pixels, so ``rescore`` and ``calibrate`` can re-decide a whole run
from its CSV. Every reason that applies is computed; the configuration says which of them
send a photo to review.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import Config
from ..results import Decision, Reason, SquareScore


@dataclass(frozen=True)
class FrontEvidence:
    """Everything the policy needs about a front, all of it stored in the CSV row."""

    squares: tuple[SquareScore, ...]
    registration: float  # 0–1
    sharpness: float | None
    glare: float | None
    blur_mm: float | None = None  # how far blur spreads a printed edge (mm)
    template_certain: bool = True
    ballot_confirmed: bool = True
    #: With ``template_certain`` false: where only these options' rows are in doubt (forms
    #: of one contest listing different parties, see
    #: :attr:`~ballot_vision.stages.identify.Identification.open_options`), the form matters
    #: only to a vote for one of them. None: the form itself is in doubt.
    open_options: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    party: str
    confidence: float
    needs_review: bool
    reasons: tuple[Reason, ...]
    #: What the marks say when the photo is not confirmed to be a ballot ("vote:adal",
    #: "blank", ...): shown to the reviewer, never counted.
    tentative: str = ""


#: Reasons that send a photo to review whatever its confidence.
ALWAYS_REVIEW = frozenset({
    Reason.MARGINAL_MARK,
    Reason.SQUARE_NOT_VISIBLE,
    Reason.PENCIL_SUSPECTED,
    Reason.FAINT_MARK,
    Reason.MARK_OUTSIDE_SQUARE,
    Reason.SQUARE_BORDER_DOUBTFUL,
    Reason.LOW_CONFIDENCE_REGISTRATION,
    Reason.TEMPLATE_AMBIGUOUS,
    Reason.BALLOT_UNCONFIRMED,
    Reason.LOW_CONFIDENCE,
    Reason.BLUR,
    Reason.GLARE,
})


def p_marked(score: float, config: Config) -> float:
    """Probability that a square with this score carries a mark.

    A logistic curve centred between the two thresholds: 0.95 at ``definite`` and 0.05 at
    ``marginal``, so that the thresholds keep their meaning in the confidence too.
    """
    lo, hi = config.marks.marginal, config.marks.definite
    centre = (lo + hi) / 2
    width = max(1e-3, (hi - lo) / 2) / math.log(19)  # logit(0.95) = ln 19
    return 1.0 / (1.0 + math.exp(-(score - centre) / width))


def decide_front(evidence: FrontEvidence, config: Config) -> Verdict:
    """Decide a front from its square scores and quality measures."""
    marks = config.marks
    squares = evidence.squares
    reasons: list[Reason] = []
    hidden = [s for s in squares if not s.visible]
    visible = [s for s in squares if s.visible]
    marked = [s for s in visible if s.score >= marks.definite]
    marginal = [s for s in visible if marks.marginal <= s.score < marks.definite]

    if hidden:
        reasons.append(Reason.SQUARE_NOT_VISIBLE)
    if marginal:
        reasons.append(Reason.MARGINAL_MARK)
    if any(s.outside >= marks.outside and s.score < marks.definite for s in visible):
        reasons.append(Reason.MARK_OUTSIDE_SQUARE)
    if any(s.pencil >= marks.pencil for s in marked + marginal):
        reasons.append(Reason.PENCIL_SUSPECTED)
    searched = any(s.shift_mm > 0 for s in marked + marginal)
    if evidence.registration < config.review.min_registration or searched:
        # (A mark in a square found only by searching around its expected place: the
        # registration was off there, so a person confirms which square it is.)
        reasons.append(Reason.LOW_CONFIDENCE_REGISTRATION)
    if evidence.sharpness is not None and evidence.sharpness < config.review.min_sharpness:
        reasons.append(Reason.BLUR)
    if evidence.glare is not None and evidence.glare > config.review.max_glare:
        reasons.append(Reason.GLARE)
    if not evidence.ballot_confirmed:
        reasons.append(Reason.BALLOT_UNCONFIRMED)

    if hidden and not marked:
        decision, party = Decision.UNREADABLE, ""
    elif hidden and len(marked) == 1:
        # The hidden square may hold a second mark: we cannot call it a vote.
        decision, party = Decision.UNREADABLE, ""
    elif len(marked) >= 2:
        decision, party = Decision.OVERVOTE, ""
        reasons.append(Reason.OVERVOTE)
        if any(s.odd_size for s in marked):
            # One "mark" may be a printed side (see SquareScore.odd_size). Votes are not
            # doubted so: a mark often moves its own square's measured border.
            reasons.append(Reason.SQUARE_BORDER_DOUBTFUL)
    elif len(marked) == 1:
        decision, party = Decision.VOTE, marked[0].option
    else:
        decision, party = Decision.BLANK, ""
        reasons.append(Reason.BLANK)
    if any(s.disputed for s in marked) and Reason.SQUARE_BORDER_DOUBTFUL not in reasons:
        # A mark one find of its square's border saw and the other did not may be a printed
        # side (see SquareScore.disputed): a vote's as much as an overvote's.
        reasons.append(Reason.SQUARE_BORDER_DOUBTFUL)
    # Where only some rows' parties are in doubt, a blank, an overvote or a vote in another
    # row is the same on every form that may be this one.
    form_in_doubt = not evidence.template_certain and (
        evidence.open_options is None or (decision == Decision.VOTE and party in evidence.open_options))
    if form_in_doubt:
        reasons.append(Reason.TEMPLATE_AMBIGUOUS)
    def softer_than(max_blur_mm: float) -> bool:
        """Less sharp than ``review.min_sharpness_blank``, or edges spread over more than this."""
        return (evidence.sharpness is not None and evidence.sharpness < config.review.min_sharpness_blank) \
            or (evidence.blur_mm is not None and evidence.blur_mm > max_blur_mm)

    # A blank read through blur may be a thin stroke the blur washed out.
    blurred_blank = decision == Decision.BLANK and softer_than(config.review.max_blur_mm_blank)
    if blurred_blank and Reason.BLUR not in reasons:
        reasons.append(Reason.BLUR)
    # A light pencil or a dry pen can stay below the stroke threshold: a blank whose
    # squares hold long faint lines may be a missed vote; and through blur heavy enough to
    # wash a pen stroke out, a vote with them in another square a missed second mark (a
    # defocused cross read 0.10 beside a vote, counted as that vote: make eval seed
    # 3221853415, IMG_00628). Lighter blur leaves a pen stroke a stroke; what faint lines
    # it shows on a sharp, grainy photo are sensor noise.
    washed_out = softer_than(config.review.max_blur_mm_vote_faint)
    faint_unmarked = (decision == Decision.BLANK or (decision == Decision.VOTE and washed_out)) and any(
        s.faint >= marks.faint for s in visible if s not in marked)
    if faint_unmarked:
        reasons.append(Reason.FAINT_MARK)
    # Pencil is light: a pencil dash can leave only a speck of stroke, too short to score as
    # a mark but as grey as graphite (a pencil vote was decided blank, score 0.083, on a
    # set drawn from altered templates; on 21 make eval sets, 3 of 454 decided blanks held
    # such a speck, all of them blank).
    grey_speck = decision == Decision.BLANK and any(
        0 < s.score and s.pencil >= marks.pencil for s in visible)
    if grey_speck and Reason.PENCIL_SUSPECTED not in reasons:
        reasons.append(Reason.PENCIL_SUSPECTED)

    # Probability that every square is in the state the decision assumes, times a
    # penalty for a doubtful fit. Squares are treated as independent.
    confidence = 1.0
    for s in visible:
        p = p_marked(s.score, config)
        confidence *= p if s in marked else 1.0 - p
    confidence *= min(1.0, 0.5 + evidence.registration)
    if hidden or blurred_blank or faint_unmarked or grey_speck:
        confidence *= 0.5
    if form_in_doubt:
        confidence *= 0.9
    confidence = max(0.0, min(1.0, confidence))
    if confidence < config.review.min_confidence and Reason.MARGINAL_MARK not in reasons:
        reasons.append(Reason.LOW_CONFIDENCE)

    needs_review = any(r in ALWAYS_REVIEW for r in reasons) or (
        decision == Decision.BLANK and config.review.review_blank
    ) or (
        decision == Decision.OVERVOTE and (config.review.review_overvote
                                           or min(s.score for s in marked) < config.review.min_overvote_mark
                                           or max(s.stroke for s in marked) >= config.review.max_overvote_stroke
                                           or max(s.fill for s in marked) >= config.review.max_overvote_fill)
    )
    tentative = ""
    if not evidence.ballot_confirmed and decision in (Decision.VOTE, Decision.BLANK, Decision.OVERVOTE):
        # Nothing proved this is a ballot (a look-alike questionnaire reads just the same):
        # its marks must not be counted until a person has looked.
        tentative = decision.value + (f":{party}" if party else "")
        decision, party = Decision.UNREADABLE, ""
        # "Undeterminable" is right only where the marks' own reading is wrong: the more
        # certain that reading, the less likely this placeholder decision is right.
        confidence = 1.0 - confidence
    return Verdict(decision, party, round(confidence, 4), needs_review, tuple(reasons), tentative)
