"""Thresholds and parameters: frozen, validated, loaded from YAML (never hard-coded).

The defaults live in ``ballot_vision/defaults.yaml``; ``--config FILE`` overrides any
subset of them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")


class ConfigError(ValueError):
    """A configuration value is missing or out of range; the message names it."""


@dataclass(frozen=True)
class MarkThresholds:
    definite: float
    marginal: float
    outside: float
    pencil: float
    faint: float

    def __post_init__(self) -> None:
        if not 0 <= self.marginal <= self.definite <= 1:
            raise ConfigError(
                f"marks: need 0 <= marginal <= definite <= 1, got marginal={self.marginal}, definite={self.definite}"
            )
        for name in ("outside", "pencil"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"marks.{name}: must be within 0–1, got {getattr(self, name)}")
        if not self.faint >= 0:
            raise ConfigError(f"marks.faint: must be at least 0, got {self.faint}")


@dataclass(frozen=True)
class ReviewPolicy:
    min_confidence: float
    min_registration: float
    min_sharpness: float
    min_sharpness_blank: float
    max_blur_mm_blank: float
    max_blur_mm_vote_faint: float
    max_edge_width_not_ballot: float
    max_sheet_blur_mm_not_ballot: float
    max_glare: float
    review_blank: bool
    review_overvote: bool
    min_overvote_mark: float
    max_overvote_stroke: float
    max_overvote_fill: float
    confirm_by_layout: bool

    def __post_init__(self) -> None:
        for name in ("min_confidence", "min_registration", "max_glare", "min_overvote_mark"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"review.{name}: must be within 0–1, got {getattr(self, name)}")


@dataclass(frozen=True)
class LoadLimits:
    max_pixels: int
    work_long_side_px: int

    def __post_init__(self) -> None:
        if self.max_pixels <= 0 or self.work_long_side_px <= 0:
            raise ConfigError("load: max_pixels and work_long_side_px must be > 0")


@dataclass(frozen=True)
class OcrSettings:
    languages: str
    enabled: bool
    retry_languages: str  # a second reading of a back's label strip ("" for none)


@dataclass(frozen=True)
class OutcomeConfidence:
    """Confidence (probability of being right) of decisions that no square scores back."""

    back_confirmed: float
    back_unconfirmed: float
    back_sheet_only: float
    unreadable_structure: float
    not_ballot: float
    not_ballot_blurred: float

    def __post_init__(self) -> None:
        for f in fields(self):
            if not 0 <= getattr(self, f.name) <= 1:
                raise ConfigError(f"confidence.{f.name}: must be within 0–1, got {getattr(self, f.name)}")


@dataclass(frozen=True)
class Config:
    marks: MarkThresholds
    review: ReviewPolicy
    load: LoadLimits
    ocr: OcrSettings
    confidence: OutcomeConfidence


_SECTIONS = {"marks": MarkThresholds, "review": ReviewPolicy, "load": LoadLimits, "ocr": OcrSettings,
             "confidence": OutcomeConfidence}


def _build(section: str, cls: type, data: dict[str, Any], source: str):
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ConfigError(f"{source}: {section}: unknown key(s) {sorted(unknown)}")
    missing = set(known) - set(data)
    if missing:
        raise ConfigError(f"{source}: {section}: missing key(s) {sorted(missing)}")
    values = {}
    for name, f in known.items():
        value = data[name]
        want = f.type if isinstance(f.type, str) else f.type.__name__
        if want == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{source}: {section}.{name}: expected true/false, got {value!r}")
        if want in ("float", "int") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{source}: {section}.{name}: expected a number, got {value!r}")
        if want == "str" and not isinstance(value, str):
            raise ConfigError(f"{source}: {section}.{name}: expected text, got {value!r}")
        values[name] = int(value) if want == "int" else float(value) if want == "float" else value
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections")
    return data


def load_config(path: str | Path | None = None) -> Config:
    """The default configuration, with the sections and keys of ``path`` laid over it."""
    data = _read(DEFAULTS_FILE)
    if path is not None:
        override = _read(Path(path))
        unknown = set(override) - set(_SECTIONS)
        if unknown:
            raise ConfigError(f"{path}: unknown section(s) {sorted(unknown)}")
        for section, values in override.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: {section}: expected a mapping")
            data[section] = {**data.get(section, {}), **values}
    source = str(path or DEFAULTS_FILE)
    return Config(**{name: _build(name, cls, data.get(name, {}), source) for name, cls in _SECTIONS.items()})


def with_marks(config: Config, **changes: float) -> Config:
    """A copy of ``config`` with some mark thresholds changed (used by calibrate)."""
    return replace(config, marks=replace(config.marks, **changes))
