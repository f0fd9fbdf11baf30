"""Typed values for every outcome and every reason.

The string values are written to CSV files that other tools read: they are a contract.
Add members freely; never rename or remove one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Side(StrEnum):
    """Which side of a ballot a photo shows. ``front`` is the side with the mark squares."""

    FRONT = "front"
    BACK = "back"
    UNKNOWN = "unknown"


class Decision(StrEnum):
    VOTE = "vote"  # exactly one option marked
    BLANK = "blank"  # ballot found, no option marked
    OVERVOTE = "overvote"  # more than one option marked (invalid by law)
    UNREADABLE = "unreadable"  # ballot found, marks not determinable
    NOT_BALLOT = "not_ballot"  # no ballot in the photo
    BACK = "back"  # the back of a ballot (no marks to read)
    ERROR = "error"  # the photo could not be read at all (see the error column)


class Reason(StrEnum):
    """Why a photo is sent to review (or why it was decided as it was)."""

    MARGINAL_MARK = "marginal_mark"  # a square scored between marginal and definite
    OVERVOTE = "overvote"
    BLANK = "blank"
    LOW_CONFIDENCE_REGISTRATION = "low_confidence_registration"
    SQUARE_NOT_VISIBLE = "square_not_visible"  # a square is out of frame or occluded
    BLUR = "blur"
    GLARE = "glare"
    PENCIL_SUSPECTED = "pencil_suspected"
    FAINT_MARK = "faint_mark"  # a blank whose square holds lines too faint to count as ink
    MARK_OUTSIDE_SQUARE = "mark_outside_square"
    # an overvote one of whose marks is in a square whose border was found at another size
    # than the ballot's other squares: a printed side or a shadow's edge may be that mark
    SQUARE_BORDER_DOUBTFUL = "square_border_doubtful"
    TEMPLATE_AMBIGUOUS = "template_ambiguous"
    BALLOT_UNCONFIRMED = "ballot_unconfirmed"  # no text on the photo confirmed it is a ballot
    LOW_CONFIDENCE = "low_confidence"
    SIGNATURE_MISSING = "signature_missing"
    SIGNATURE_UNKNOWN = "signature_unknown"
    NOT_BALLOT = "not_ballot"
    UNREADABLE = "unreadable"


class Signature(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = ""  # fronts and non-ballots


#: The CSV columns other tools rely on, in this order. Append new columns after them.
CONTRACT_COLUMNS: tuple[str, ...] = (
    "file",
    "sha256",
    "side",
    "template",
    "decision",
    "party",
    "confidence",
    "needs_review",
    "reasons",
    "scores",
    "signature",
    "error",
    "ms",
)


@dataclass(frozen=True)
class SquareScore:
    """Measurements of one mark square; the input of the decision policy.

    score : float
        0 is a blank square, 1 a clearly marked one (a 12 mm stroke, or half the square
        filled). See :mod:`ballot_vision.stages.score`.
    fill : float
        Share of the square's interior covered by ink, 0–1.
    stroke : float
        Total stroke length inside the square, in units of 12 mm.
    outside : float
        Score of ink in a band just outside the square's border (marks that miss the square).
    pencil : float
        Share of the ink that looks like pencil (grey, unsaturated, faint), 0–1.
    visible : bool
        False when the square is out of frame or occluded, so its score means nothing.
    shift_mm : float
        How far from where the registration put it the printed square was found (0 when it
        was where expected); a square found only by searching around is less certain.
    faint : float
        Length of lines inside the square too faint to be ink (a light pencil, a dry pen
        under blur), in units of 12 mm: they never make a mark, but a blank may hide one.
    odd_size : bool
        The printed border was found at another size than the ballot's other squares, and
        nowhere at theirs: a side taken for the border may lie inside the square.
    disputed : bool
        The printed border was found at another size than the ballot's other squares, and
        at theirs too, and the two finds disagree on whether the square is marked: in one
        of them a printed side (or the gap to a table rule) lies inside the square.
    """

    option: str
    score: float
    fill: float = 0.0
    stroke: float = 0.0
    outside: float = 0.0
    pencil: float = 0.0
    visible: bool = True
    shift_mm: float = 0.0
    faint: float = 0.0
    odd_size: bool = False
    disputed: bool = False


@dataclass(frozen=True)
class PhotoResult:
    """One CSV row: everything decided about one photo."""

    file: str
    sha256: str = ""
    side: Side = Side.UNKNOWN
    template: str = ""
    decision: Decision = Decision.ERROR
    party: str = ""
    confidence: float = 0.0
    needs_review: bool = False
    reasons: tuple[Reason, ...] = ()
    squares: tuple[SquareScore, ...] = ()
    signature: Signature = Signature.NOT_APPLICABLE
    error: str = ""
    ms: float = 0.0
    # Extra columns (not part of the contract, free to grow).
    rotation_deg: int | None = None
    registration: float | None = None  # 0–1 quality of the fit to the template
    sharpness: float | None = None
    blur_mm: float | None = None  # how far blur spreads a printed edge (score.border_blur_mm)
    glare: float | None = None
    width_px: int | None = None
    height_px: int | None = None
    extras: dict[str, str] = field(default_factory=dict)

    def to_row(self) -> dict[str, str]:
        """The CSV row: contract columns first, then the extra ones, all as strings."""
        row = {
            "file": self.file,
            "sha256": self.sha256,
            "side": str(self.side),
            "template": self.template,
            "decision": str(self.decision),
            "party": self.party,
            "confidence": f"{self.confidence:.4f}",
            "needs_review": "true" if self.needs_review else "false",
            "reasons": ";".join(str(r) for r in self.reasons),
            "scores": format_scores(self.squares),
            "signature": str(self.signature),
            "error": self.error,
            "ms": f"{self.ms:.1f}",
        }
        row["squares"] = format_square_details(self.squares)
        row["rotation_deg"] = _opt(self.rotation_deg)
        row["registration"] = _opt(self.registration)
        row["sharpness"] = _opt(self.sharpness)
        row["blur_mm"] = _opt(self.blur_mm)
        row["glare"] = _opt(self.glare)
        row["width_px"] = _opt(self.width_px)
        row["height_px"] = _opt(self.height_px)
        row.update(self.extras)
        return row


#: Every column :meth:`PhotoResult.to_row` writes, in order (extras excluded).
ALL_COLUMNS: tuple[str, ...] = CONTRACT_COLUMNS + (
    "squares",
    "rotation_deg",
    "registration",
    "sharpness",
    "blur_mm",
    "glare",
    "width_px",
    "height_px",
)


def _opt(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def format_scores(squares: tuple[SquareScore, ...]) -> str:
    """``npk=0.0123;nur_otan=0.9120`` (``?`` for a square that was not visible)."""
    return ";".join(f"{s.option}={s.score:.4f}" if s.visible else f"{s.option}=?" for s in squares)


def format_square_details(squares: tuple[SquareScore, ...]) -> str:
    """Every measurement the decision uses, so that it can be re-run without the photo."""
    parts = []
    for s in squares:
        parts.append(
            f"{s.option}:score={s.score:.4f},fill={s.fill:.4f},stroke={s.stroke:.4f},"
            f"outside={s.outside:.4f},pencil={s.pencil:.4f},visible={int(s.visible)},shift_mm={s.shift_mm:.1f},"
            f"faint={s.faint:.4f},odd_size={int(s.odd_size)},disputed={int(s.disputed)}"
        )
    return ";".join(parts)


def parse_square_details(text: str) -> tuple[SquareScore, ...]:
    """Inverse of :func:`format_square_details`."""
    squares = []
    for part in filter(None, text.split(";")):
        option, _, fields = part.partition(":")
        values = dict(kv.split("=", 1) for kv in fields.split(","))
        squares.append(
            SquareScore(
                option=option,
                score=float(values["score"]),
                fill=float(values.get("fill", 0)),
                stroke=float(values.get("stroke", 0)),
                outside=float(values.get("outside", 0)),
                pencil=float(values.get("pencil", 0)),
                visible=values.get("visible", "1") == "1",
                shift_mm=float(values.get("shift_mm", 0)),
                faint=float(values.get("faint", 0)),
                odd_size=values.get("odd_size", "0") == "1",
                disputed=values.get("disputed", "0") == "1",
            )
        )
    return tuple(squares)
