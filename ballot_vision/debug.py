"""Debug pictures: the rectified ballot with each square, its score and the decision.

Drawn only when ``--debug DIR`` is given (nothing here runs otherwise).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .results import PhotoResult
from .stages.register import Registration, rectify
from .stages.score import CellImage
from .templates import Rect

DEBUG_PX_PER_MM = 4.0


def debug_path(debug_dir: Path, name: str) -> Path:
    """``photos/a/b.jpg`` → ``DEBUG/a__b.jpg.png`` (flat, no clashes between folders)."""
    return debug_dir / (name.replace("/", "__") + ".png")


def draw_front(bgr: np.ndarray, registration: Registration, cells: list[CellImage], result: PhotoResult) -> np.ndarray:
    """The marks side rectified, each square outlined and labelled with its score.

    Green: counted as a mark; orange: marginal; grey: blank; red cross: not visible.
    """
    t = registration.template
    page = Rect(0, 0, t.paper_w, t.paper_h)
    canvas = rectify(bgr, registration.photo_to_mm, page, px_per_mm=DEBUG_PX_PER_MM)
    ppm = DEBUG_PX_PER_MM
    scores = {s.option: s for s in result.squares}
    # The rule between names and squares where the registration put it (the print's own,
    # measured, or the template's): a wrong one shows as squares off their cells' centres.
    sep = int(round(registration.separator_x * ppm))
    table = t.table.box
    cv2.line(canvas, (sep, int(table.y * ppm)), (sep, int(table.y2 * ppm)), (255, 160, 0), 1)
    for index, option in enumerate(t.options):
        s = scores.get(option.id)
        r = registration.square(index)
        p0 = (int(r.x * ppm), int(r.y * ppm))
        p1 = (int(r.x2 * ppm), int(r.y2 * ppm))
        if s is None or not s.visible:
            colour = (0, 0, 255)
            cv2.line(canvas, p0, p1, colour, 2)
            label = "hidden"
        else:
            colour = (0, 170, 0) if option.id == result.party or s.score >= 0.3 else (
                (0, 140, 255) if s.score >= 0.12 else (150, 150, 150))
            label = f"{s.score:.2f}"
        cv2.rectangle(canvas, p0, p1, colour, 2)
        cv2.putText(canvas, f"{option.id} {label}", (int((t.table.box.x + 2) * ppm), int((option.row.y2 - 2) * ppm)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    banner = f"{result.decision} {result.party} conf={result.confidence:.2f} " + ("REVIEW " if result.needs_review else "")
    banner += ",".join(result.reasons)
    cv2.rectangle(canvas, (0, 0), (canvas.shape[1], 22), (255, 255, 255), -1)
    cv2.putText(canvas, banner[:110], (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    strip = _cell_strip(cells, height=canvas.shape[0])
    return np.hstack([canvas, strip]) if strip is not None else canvas


def _cell_strip(cells: list[CellImage], *, height: int) -> np.ndarray | None:
    """The rectified square cells stacked, with the ink that was counted tinted red."""
    tiles = []
    for c in cells:
        if c.bgr.shape[0] < 2:
            continue
        tile = c.bgr.copy()
        il, it, ir, ib = c.interior_px
        tile[c.ink] = (0.5 * tile[c.ink] + [0, 0, 127]).astype(np.uint8)
        cv2.rectangle(tile, (il, it), (ir, ib), (255, 0, 0), 1)
        if c.frame_px is not None:
            cv2.rectangle(tile, c.frame_px[:2], c.frame_px[2:], (0, 200, 0), 1)
        tiles.append(tile)
    if not tiles:
        return None
    width = max(t.shape[1] for t in tiles)
    tiles = [cv2.copyMakeBorder(t, 2, 2, 0, width - t.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)) for t in tiles]
    strip = np.vstack(tiles)
    if strip.shape[0] < height:
        strip = cv2.copyMakeBorder(strip, 0, height - strip.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    return strip[:height]


def draw_photo(bgr: np.ndarray, result: PhotoResult) -> np.ndarray:
    """For photos with no registered front: the photo, shrunk, with the decision written on it."""
    scale = 900 / max(bgr.shape[:2])
    small = cv2.resize(bgr, None, fx=min(1.0, scale), fy=min(1.0, scale), interpolation=cv2.INTER_AREA)
    text = f"{result.decision} {result.signature} " + ",".join(result.reasons) + (f" {result.error}" if result.error else "")
    cv2.rectangle(small, (0, 0), (small.shape[1], 22), (255, 255, 255), -1)
    cv2.putText(small, text[:100], (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return small


def write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
