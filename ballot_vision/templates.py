"""Ballot layout templates: declarative YAML files, validated on load.

All geometry is in millimetres from the top-left corner of the sheet, x to the right,
y down. A rectangle is ``[x, y, width, height]``. A template describes one ballot form:
paper size, its sides, and on the marks side a table of option rows each with its
mark square; a file's ``row_sets`` derive further forms from its table (see
:func:`with_options`). The file format is described in the README ("Synthetic photos and
templates") and by the shipped files themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

#: Where the shipped templates live (override with $BALLOT_VISION_TEMPLATES or --templates).
DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates_ballots"

OPTION_KINDS = ("party", "against_all", "yes", "no", "candidate")
TEXT_ALIGNS = ("left", "center", "right")


class TemplateError(ValueError):
    """A template file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in millimetres."""

    x: float
    y: float
    w: float
    h: float

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def contains(self, other: Rect, tol: float = 1e-6) -> bool:
        return (
            other.x >= self.x - tol
            and other.y >= self.y - tol
            and other.x2 <= self.x2 + tol
            and other.y2 <= self.y2 + tol
        )

    def overlaps(self, other: Rect) -> bool:
        return not (
            other.x >= self.x2 or other.x2 <= self.x or other.y >= self.y2 or other.y2 <= self.y
        )

    def grown(self, dx: float, dy: float) -> Rect:
        """This rectangle with ``dx`` mm added on its left and right, ``dy`` on top and bottom."""
        return Rect(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def shifted(self, dx: float, dy: float) -> Rect:
        """This rectangle moved by ``dx`` mm right and ``dy`` mm down."""
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def as_list(self) -> list[float]:
        return [self.x, self.y, self.w, self.h]


@dataclass(frozen=True)
class TextBlock:
    """A block of printed text; ``lines`` are laid out top to bottom inside ``box``."""

    role: str
    box: Rect
    lines: tuple[str, ...]
    size_mm: float  # cap height of the type, roughly
    bold: bool = False
    align: str = "center"


@dataclass(frozen=True)
class Option:
    """One row of the table: a party (or "against all", Yes, No) with its mark square."""

    id: str
    kind: str
    kaz: str
    rus: str
    row: Rect
    square: Rect


@dataclass(frozen=True)
class Table:
    box: Rect
    separator_x: float  # x of the vertical rule between the names and the squares
    line_mm: float  # weight of the table rules
    square_line_mm: float  # weight of the mark squares' borders
    options: tuple[Option, ...]


@dataclass(frozen=True)
class SignatureField:
    """Where the issuing commission member signs (a label and a line)."""

    box: Rect
    label: tuple[str, ...]
    line_y: float  # y of the signature line, inside box


@dataclass(frozen=True)
class Emblem:
    center: tuple[float, float]
    diameter: float


@dataclass(frozen=True)
class SideLayout:
    """One printed side. ``front`` is, by this project's convention, the side with the table."""

    name: str
    emblem: Emblem | None
    texts: tuple[TextBlock, ...]
    table: Table | None
    signature: SignatureField | None
    stamp: Emblem | None  # where a precinct stamp may be, if anywhere


@dataclass(frozen=True)
class Template:
    id: str
    election: str
    date: str
    paper_w: float
    paper_h: float
    title: dict[str, str]  # language -> title text
    keywords: tuple[str, ...]  # words of the title that tell this form from others (for OCR)
    sides: tuple[SideLayout, ...]
    source: str = ""  # file it was loaded from
    # Further title words that tell this form from the other forms, but that ordinary
    # documents carry too (a kind of place, "Republic"): they choose among templates that
    # fit a ballot already found, and never confirm that a photo is a ballot.
    form_words: tuple[str, ...] = ()
    # What the ballot elects ("2021-mazhilis", "2021-maslikhat"): forms of one contest differ only in
    # which options they list, so a vote for a party reads the same on any of them. Default:
    # the id (every form a contest of its own).
    contest: str = ""

    @property
    def front(self) -> SideLayout:
        """The side with the option table."""
        return next(s for s in self.sides if s.table is not None)

    @property
    def back(self) -> SideLayout | None:
        return next((s for s in self.sides if s.table is None), None)

    @property
    def table(self) -> Table:
        table = self.front.table
        assert table is not None
        return table

    @property
    def options(self) -> tuple[Option, ...]:
        return self.table.options

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)


# --------------------------------------------------------------------------------------
# Loading and validation


class _Reader:
    """Reads fields from a parsed YAML mapping, naming file and field in every error."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, message: str) -> TemplateError:
        return TemplateError(f"{self.source}: {path}: {message}")

    def get(self, data: Any, key: str, path: str, kind: type | tuple[type, ...], default: Any = ...):
        if not isinstance(data, dict):
            raise self.fail(path, "expected a mapping")
        if key not in data:
            if default is ...:
                raise self.fail(f"{path}.{key}" if path else key, "missing")
            return default
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(f"{path}.{key}" if path else key, f"expected {_kind_name(kind)}, got {value!r}")
        return value

    def words(self, data: Any, key: str) -> tuple[str, ...]:
        """An optional top-level list of strings (empty when absent)."""
        value = self.get(data, key, "", list, [])
        if not all(isinstance(k, str) for k in value):
            raise self.fail(key, "expected a list of strings")
        return tuple(value)

    def number(self, data: Any, key: str, path: str, default: Any = ..., positive: bool = False) -> float:
        value = self.get(data, key, path, (int, float), default)
        if value is None:
            return value
        if positive and value <= 0:
            raise self.fail(f"{path}.{key}", f"must be > 0, got {value}")
        return float(value)

    def rect(self, data: Any, key: str, path: str) -> Rect:
        value = self.get(data, key, path, list)
        full = f"{path}.{key}" if path else key
        if len(value) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise self.fail(full, f"expected [x, y, width, height] in mm, got {value!r}")
        rect = Rect(*(float(v) for v in value))
        if rect.w <= 0 or rect.h <= 0:
            raise self.fail(full, f"width and height must be > 0, got {value!r}")
        return rect

    def point(self, data: Any, key: str, path: str) -> tuple[float, float]:
        value = self.get(data, key, path, list)
        if len(value) != 2 or not all(isinstance(v, (int, float)) for v in value):
            raise self.fail(f"{path}.{key}", f"expected [x, y] in mm, got {value!r}")
        return (float(value[0]), float(value[1]))


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}
    if isinstance(kind, tuple):
        return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kind))
    return names.get(kind, kind.__name__)


def _lines(r: _Reader, data: dict, key: str, path: str) -> tuple[str, ...]:
    value = r.get(data, key, path, (str, list))
    lines = [value] if isinstance(value, str) else value
    if not lines or not all(isinstance(x, str) for x in lines):
        raise r.fail(f"{path}.{key}", "expected a string or a list of strings")
    return tuple(lines)


def _parse_side(r: _Reader, data: Any, path: str, paper: Rect) -> SideLayout:
    name = r.get(data, "name", path, str)
    if name not in ("front", "back"):
        raise r.fail(f"{path}.name", f"must be 'front' or 'back', got {name!r}")
    emblem = None
    if data.get("emblem") is not None:
        e = r.get(data, "emblem", path, dict)
        emblem = Emblem(r.point(e, "center_mm", f"{path}.emblem"), r.number(e, "diameter_mm", f"{path}.emblem", positive=True))
    stamp = None
    if data.get("stamp") is not None:
        s = r.get(data, "stamp", path, dict)
        stamp = Emblem(r.point(s, "center_mm", f"{path}.stamp"), r.number(s, "diameter_mm", f"{path}.stamp", positive=True))
    texts = []
    for i, t in enumerate(r.get(data, "texts", path, list, [])):
        tp = f"{path}.texts[{i}]"
        align = r.get(t, "align", tp, str, "center")
        if align not in TEXT_ALIGNS:
            raise r.fail(f"{tp}.align", f"must be one of {TEXT_ALIGNS}, got {align!r}")
        block = TextBlock(
            role=r.get(t, "role", tp, str),
            box=r.rect(t, "box_mm", tp),
            lines=_lines(r, t, "text", tp),
            size_mm=r.number(t, "size_mm", tp, positive=True),
            bold=r.get(t, "bold", tp, bool, False),
            align=align,
        )
        if not paper.contains(block.box):
            raise r.fail(f"{tp}.box_mm", f"{block.box.as_list()} lies outside the paper")
        texts.append(block)
    table = None
    if data.get("table") is not None:
        table = _parse_table(r, r.get(data, "table", path, dict), f"{path}.table", paper)
    signature = None
    if data.get("signature") is not None:
        s = r.get(data, "signature", path, dict)
        sp = f"{path}.signature"
        box = r.rect(s, "box_mm", sp)
        line_y = r.number(s, "line_y_mm", sp)
        if not (box.y <= line_y <= box.y2):
            raise r.fail(f"{sp}.line_y_mm", f"{line_y} is not inside box_mm {box.as_list()}")
        if not paper.contains(box):
            raise r.fail(f"{sp}.box_mm", f"{box.as_list()} lies outside the paper")
        signature = SignatureField(box=box, label=_lines(r, s, "label", sp), line_y=line_y)
    return SideLayout(name=name, emblem=emblem, texts=tuple(texts), table=table, signature=signature, stamp=stamp)


def _parse_table(r: _Reader, data: dict, path: str, paper: Rect) -> Table:
    box = r.rect(data, "box_mm", path)
    if not paper.contains(box):
        raise r.fail(f"{path}.box_mm", f"{box.as_list()} lies outside the paper")
    separator_x = r.number(data, "separator_x_mm", path)
    if not (box.x < separator_x < box.x2):
        raise r.fail(f"{path}.separator_x_mm", f"{separator_x} is not inside the table")
    options: list[Option] = []
    rows = r.get(data, "rows", path, list)
    if not rows:
        raise r.fail(f"{path}.rows", "a table needs at least one row")
    for i, o in enumerate(rows):
        op = f"{path}.rows[{i}]"
        kind = r.get(o, "kind", op, str, "party")
        if kind not in OPTION_KINDS:
            raise r.fail(f"{op}.kind", f"must be one of {OPTION_KINDS}, got {kind!r}")
        option = Option(
            id=r.get(o, "id", op, str),
            kind=kind,
            kaz=r.get(o, "kaz", op, str, ""),
            rus=r.get(o, "rus", op, str, ""),
            row=r.rect(o, "box_mm", op),
            square=r.rect(o, "square_mm", op),
        )
        if not box.contains(option.row):
            raise r.fail(f"{op}.box_mm", f"row {option.row.as_list()} lies outside the table {box.as_list()}")
        if not option.row.contains(option.square):
            raise r.fail(f"{op}.square_mm", f"square {option.square.as_list()} lies outside its row {option.row.as_list()}")
        if option.square.x < separator_x:
            raise r.fail(f"{op}.square_mm", f"square starts left of the separator at x={separator_x}")
        for j, prev in enumerate(options):
            if prev.id == option.id:
                raise r.fail(f"{op}.id", f"duplicate option id {option.id!r}")
            if prev.square.overlaps(option.square):
                raise r.fail(f"{op}.square_mm", f"overlaps the square of rows[{j}] ({prev.id})")
            if prev.row.overlaps(option.row):
                raise r.fail(f"{op}.box_mm", f"overlaps rows[{j}] ({prev.id})")
        options.append(option)
    ys = [o.row.y for o in options]
    if ys != sorted(ys):
        raise r.fail(f"{path}.rows", "rows must be listed top to bottom")
    return Table(
        box=box,
        separator_x=separator_x,
        line_mm=r.number(data, "line_mm", path, 0.4, positive=True),
        square_line_mm=r.number(data, "square_line_mm", path, 1.0, positive=True),
        options=tuple(options),
    )


def parse_template(data: Any, source: str = "<template>") -> Template:
    """Build a :class:`Template` from parsed YAML, raising :class:`TemplateError` on any fault."""
    r = _Reader(source)
    if not isinstance(data, dict):
        raise r.fail("(top level)", "expected a mapping")
    paper_data = r.get(data, "paper_mm", "", dict)
    paper = Rect(0, 0, r.number(paper_data, "width", "paper_mm", positive=True), r.number(paper_data, "height", "paper_mm", positive=True))
    title = r.get(data, "title", "", dict, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in title.items()):
        raise r.fail("title", "expected language: text pairs")
    keywords = r.words(data, "keywords")
    form_words = r.words(data, "form_words")
    sides_data = r.get(data, "sides", "", list)
    sides = tuple(_parse_side(r, s, f"sides[{i}]", paper) for i, s in enumerate(sides_data))
    names = [s.name for s in sides]
    if len(set(names)) != len(names):
        raise r.fail("sides", f"side names must be unique, got {names}")
    with_table = [s.name for s in sides if s.table is not None]
    if len(with_table) != 1:
        raise r.fail("sides", f"exactly one side must carry the option table, found {len(with_table)}")
    if with_table[0] != "front":
        raise r.fail("sides", "the side with the option table must be named 'front'")
    template_id = r.get(data, "id", "", str)
    return Template(
        id=template_id,
        election=r.get(data, "election", "", str),
        date=str(r.get(data, "date", "", (str, object))),
        paper_w=paper.w,
        paper_h=paper.h,
        title=dict(title),
        keywords=keywords,
        sides=sides,
        source=source,
        form_words=form_words,
        contest=r.get(data, "contest", "", str, template_id),
    )


def _row_sets(r: _Reader, data: dict, template: Template) -> list[Template]:
    """The forms a file's ``row_sets`` derive from its table (see :func:`with_options`)."""
    sets = r.get(data, "row_sets", "", dict, {})
    derived = []
    for set_id, ids in sets.items():
        path = f"row_sets.{set_id}"
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise r.fail(path, "expected a list of option ids")
        unknown = [i for i in ids if i not in template.option_ids]
        if unknown:
            raise r.fail(path, f"{', '.join(unknown)} not in the table; options: {', '.join(template.option_ids)}")
        order = [template.option_ids.index(i) for i in ids]
        if order != sorted(set(order)):
            raise r.fail(path, "options must keep the table's order, each once")
        derived.append(with_options(template, str(set_id), ids))
    return derived


def with_options(template: Template, new_id: str, option_ids: list[str] | tuple[str, ...]) -> Template:
    """``template`` listing only ``option_ids``: their rows stacked from the table's top, each
    keeping its height and its square's place within it, the table shortened to fit.

    Maslikhat ballots list only the parties running there, in the same order and layout
    (BALLOTS-2021.md): one file describes the print, its ``row_sets`` the forms.
    """
    table = template.table
    y = table.box.y
    options = []
    for option in (o for o in template.options if o.id in option_ids):
        dy = y - option.row.y
        options.append(replace(option, row=option.row.shifted(0, dy), square=option.square.shifted(0, dy)))
        y += option.row.h
    box = Rect(table.box.x, table.box.y, table.box.w, y - table.box.y)
    front = replace(template.front, table=replace(table, box=box, options=tuple(options)))
    sides = tuple(front if s.table is not None else s for s in template.sides)
    names = ", ".join(o.id for o in options)
    return replace(template, id=new_id, sides=sides, election=f"{template.election.split(' (')[0]} ({names})")


def load_template(path: str | Path) -> Template:
    """Load and validate one template file (without the forms its ``row_sets`` derive; see
    :func:`load_forms`)."""
    return load_forms(path)[0]


def load_forms(path: str | Path) -> list[Template]:
    """The template a file describes, then the forms its ``row_sets`` derive from it."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from exc
    template = parse_template(data, source=str(path))
    return [template, *_row_sets(_Reader(str(path)), data, template)]


def template_dir(override: str | Path | None = None) -> Path:
    return Path(override or os.environ.get("BALLOT_VISION_TEMPLATES") or DEFAULT_TEMPLATE_DIR)


def load_templates(directory: str | Path | None = None) -> dict[str, Template]:
    """Every ``*.yaml`` template in ``directory``, by id (ids must be unique)."""
    directory = template_dir(directory)
    if not directory.is_dir():
        raise TemplateError(f"{directory}: template folder not found")
    templates: dict[str, Template] = {}
    for path in sorted(directory.glob("*.yaml")):
        for t in load_forms(path):
            if t.id in templates:
                raise TemplateError(f"{path}: id: {t.id!r} is already used by {templates[t.id].source}")
            templates[t.id] = t
    if not templates:
        raise TemplateError(f"{directory}: no *.yaml templates found")
    return templates
