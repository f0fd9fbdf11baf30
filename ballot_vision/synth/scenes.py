"""Photos that are not ballots: other documents, an adversarial form, receipts, scenes.

Voters send the chat-bot all sorts of pictures. Documents, forms and receipts are flat
sheets, returned here as images with their size in mm and photographed by the same
camera as ballots; a *scene* has no sheet at all. The form is deliberately ballot-like
(a ruled table with mark squares, even a tick in one) so that the reader must tell it
from a ballot by more than "a table with squares".
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ballot_vision.render import FONT_DIR, FONT_FILES, PrintStyle, get_font, render_side
from ballot_vision.templates import Rect, Template, parse_template

OTHER_KINDS = ("document", "form", "receipt", "scene")

_WORDS = (
    "және облыс қаласы аудан туралы бойынша жылғы жоспары есеп комиссия мектеп ата-аналар жиналысы "
    "кезекті шешім хаттама мәселе қаралды ұсыныс бекітілсін қатысты орындау мерзімі "
    "договор аренды помещения стороны обязуются оплата производится ежемесячно согласно "
    "акт выполненных работ расписка в получении справка выдана для предъявления по месту "
    "требования заявление прошу рассмотреть возможность предоставить отпуск сотрудник отдела"
).split()


def _words(rng: np.random.Generator, n: int) -> str:
    return " ".join(_WORDS[i] for i in rng.integers(len(_WORDS), size=n))


def document_page(rng: np.random.Generator, *, px_per_mm: float) -> tuple[np.ndarray, tuple[float, float]]:
    """An A4 page of prose (a letter, a statement, minutes) with a heading. Returns (bgr, paper_mm)."""
    w_mm, h_mm = 210.0, 297.0
    ppm = px_per_mm
    family = list(FONT_FILES)[rng.integers(len(FONT_FILES))]
    img = Image.new("L", (int(w_mm * ppm), int(h_mm * ppm)), 255)
    draw = ImageDraw.Draw(img)
    ink = int(rng.uniform(10, 60))
    y = rng.uniform(18, 30)
    head = get_font(family, True, max(6, int(5.0 * ppm)))
    draw.text((w_mm / 2 * ppm, y * ppm), _words(rng, int(rng.integers(2, 5))).upper(), fill=ink, font=head, anchor="ms")
    y += 14
    body = get_font(family, False, max(5, int(rng.uniform(3.8, 4.8) * ppm)))
    pitch = rng.uniform(5.5, 7.5)
    margin = rng.uniform(18, 30)
    while y < h_mm - 25:
        if rng.random() < 0.15:
            y += pitch  # paragraph break
        line = _words(rng, 30)
        while body.getlength(line) > (w_mm - 2 * margin) * ppm:
            line = line.rsplit(" ", 1)[0]
        draw.text((margin * ppm, y * ppm), line, fill=ink, font=body, anchor="ls")
        y += pitch
    gray = np.asarray(img)
    paper = np.array([rng.uniform(235, 250), rng.uniform(238, 252), rng.uniform(238, 252)])
    bgr = (gray[..., None].astype(np.float32) / 255 * paper).astype(np.uint8)
    return bgr, (w_mm, h_mm)


def form_template(rng: np.random.Generator) -> Template:
    """A ballot-like questionnaire: title, instruction, a ruled table of statements with squares."""
    n = int(rng.integers(3, 8))
    # Quarter millimetres are exact in binary, so stacked rows meet without float overlap.
    top = round(rng.uniform(70, 100) * 4) / 4
    row_h = np.floor(min(rng.uniform(16, 28), (285 - top) / n) * 4) / 4
    sq = round(min(rng.uniform(8, 18), row_h - 5) * 4) / 4
    rows = []
    statements = [_words(rng, int(rng.integers(3, 7))).capitalize() for _ in range(n)]
    for i, text in enumerate(statements):
        y = top + i * row_h
        rows.append({
            "id": f"q{i + 1}",
            "kaz": text,
            "rus": _words(rng, int(rng.integers(3, 6))).capitalize(),
            "box_mm": [12, y, 186, row_h],
            "square_mm": [183 - sq / 2, y + (row_h - sq) / 2, sq, sq],
        })
    title = ["САУАЛНАМА", "АНКЕТА", "ОПРОСНЫЙ ЛИСТ", "ӨТІНІШ-САУАЛНАМА"][rng.integers(4)]
    data = {
        "id": "form",
        "election": "not a ballot",
        "date": "",
        "paper_mm": {"width": 210, "height": 297},
        "sides": [{
            "name": "front",
            "texts": [
                {"role": "title", "box_mm": [12, 25, 186, 14], "text": [title, _words(rng, 5).upper()], "size_mm": 3.4, "bold": True},
                {"role": "instruction", "box_mm": [14, 45, 182, 16], "text": [_words(rng, 12), _words(rng, 10)], "size_mm": 2.2},
            ],
            "table": {"box_mm": [12, top, 186, n * row_h], "separator_x_mm": 168, "rows": rows},
        }],
    }
    return parse_template(data, source="<synthetic form>")


def form_page(rng: np.random.Generator, *, px_per_mm: float) -> tuple[np.ndarray, tuple[float, float], dict[str, Rect]]:
    """The form of :func:`form_template`, printed plainly. Returns (bgr, paper_mm, squares_mm)."""
    template = form_template(rng)
    style = replace(PrintStyle.random(rng), guilloche_strength=0.0, row_height_mm=None, square_mm=None)
    side = render_side(template, "front", px_per_mm=px_per_mm, style=style)
    return side.bgr, side.paper_mm, side.squares_mm


def receipt_page(rng: np.random.Generator, *, px_per_mm: float) -> tuple[np.ndarray, tuple[float, float]]:
    """A till receipt: narrow thermal paper, monospaced lines, prices, a total and a barcode."""
    w_mm = float(rng.choice([58.0, 80.0]))
    n_items = int(rng.integers(3, 12))
    h_mm = 60.0 + 9.0 * n_items + rng.uniform(20, 60)
    ppm = px_per_mm
    img = Image.new("L", (int(w_mm * ppm), int(h_mm * ppm)), 255)
    draw = ImageDraw.Draw(img)
    size = max(5, int(2.9 * ppm))
    mono = ImageFont.truetype(str(FONT_DIR / "dejavu/DejaVuSansMono.ttf"), size)
    bold = ImageFont.truetype(str(FONT_DIR / "dejavu/DejaVuSansMono-Bold.ttf"), size)
    ink = int(rng.uniform(40, 110))  # thermal print is greyish
    cols = int((w_mm - 6) * ppm / mono.getlength("0"))
    y = 8.0
    lines = [("ТОО «" + _words(rng, 1).upper() + "»", bold), ("БСН 0" + "".join(str(d) for d in rng.integers(0, 10, 11)), mono), ("-" * cols, mono)]
    total = 0
    for _ in range(n_items):
        price = int(rng.integers(150, 9000))
        total += price
        name = _words(rng, 2)[: cols - 9]
        lines.append((f"{name:<{cols - 8}}{price:>8}", mono))
    lines += [("-" * cols, mono), (f"{'ИТОГО':<{cols - 8}}{total:>8}", bold), (f"ФП {rng.integers(10**9, 10**10)}", mono)]
    for text, font in lines:
        draw.text((3 * ppm, y * ppm), text[:cols], fill=ink, font=font, anchor="ls")
        y += 4.6
    x = 6.0
    while x < w_mm - 6 and y + 14 < h_mm:  # barcode
        bar = rng.uniform(0.3, 1.0)
        draw.rectangle([x * ppm, (y + 2) * ppm, (x + bar) * ppm, (y + 12) * ppm], fill=ink)
        x += bar + rng.uniform(0.3, 1.0)
    gray = np.asarray(img).astype(np.float32) / 255
    paper = np.array([rng.uniform(230, 245), rng.uniform(232, 247), rng.uniform(232, 247)])
    return (gray[..., None] * paper).astype(np.uint8), (w_mm, h_mm)


def scene(view_wh: tuple[int, int], rng: np.random.Generator, backdrop_bgr: np.ndarray) -> np.ndarray:
    """A photo with no sheet in it: objects on a desk, or a room/street with a wall and a floor/sky.

    ``backdrop_bgr`` (H, W, 3) is a surface texture (see :func:`.camera.background`).
    """
    import cv2

    w, h = view_wh
    out = backdrop_bgr.copy()
    if rng.random() < 0.5:  # a room or a street: two large regions and some blocks
        horizon = int(h * rng.uniform(0.35, 0.7))
        top = np.array(rng.choice([[230, 200, 160], [200, 210, 215], [180, 190, 200], [120, 150, 190]]), float)
        grad = np.linspace(1.05, 0.85, horizon)[:, None, None]
        out[:horizon] = np.clip(top * grad, 0, 255).astype(np.uint8)
        for _ in range(int(rng.integers(2, 7))):
            x0 = int(rng.uniform(0, w))
            bw = int(rng.uniform(0.05, 0.3) * w)
            y0 = int(rng.uniform(0.1, 0.6) * horizon)
            colour = tuple(int(c) for c in rng.uniform(40, 200, 3))
            cv2.rectangle(out, (x0, y0), (x0 + bw, horizon + int(rng.uniform(0, 0.2) * h)), colour, -1)
    n = int(rng.integers(2, 6))
    for _ in range(n):  # desk objects: a phone, a cup, a notebook
        kind = rng.integers(3)
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        s = int(rng.uniform(0.08, 0.3) * min(w, h))
        colour = tuple(int(c) for c in rng.uniform(20, 230, 3))
        if kind == 0:
            box = cv2.boxPoints(((cx, cy), (s * 0.5, s), float(rng.uniform(0, 180))))
            cv2.fillPoly(out, [np.round(box).astype(np.int32)], (25, 25, 28), cv2.LINE_AA)
        elif kind == 1:
            cv2.ellipse(out, (cx, cy), (s // 2, s // 3), 0, 0, 360, colour, -1, cv2.LINE_AA)
            cv2.ellipse(out, (cx, cy), (int(s * 0.4), int(s * 0.25)), 0, 0, 360, tuple(int(c * 0.6) for c in colour), -1, cv2.LINE_AA)
        else:
            box = cv2.boxPoints(((cx, cy), (s, s * 1.4), float(rng.uniform(0, 180))))
            cv2.fillPoly(out, [np.round(box).astype(np.int32)], colour, cv2.LINE_AA)
    return out
