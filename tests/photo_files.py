"""Writers of small test photo files, good and broken, built in the test run (no binary fixtures).

Each helper names the defect it makes, so a test reads as the list of cases it covers.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

#: EXIF tag 0x0112.
ORIENTATION_TAG = 0x0112


def noise_bgr(height: int, width: int, seed: int) -> np.ndarray:
    """Random colour noise: different for each seed, so files never collide by accident."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def write_jpeg(path: Path, bgr: np.ndarray, quality: int = 90) -> Path:
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def write_with_orientation(path: Path, bgr: np.ndarray, fmt: str, orientation: int) -> Path:
    """Save ``bgr`` as stored pixels, tagged with EXIF ``orientation``, in Pillow format ``fmt``."""
    image = Image.fromarray(bgr[:, :, ::-1].copy())
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    if fmt == "TIFF":
        image.save(path, fmt, tiffinfo={ORIENTATION_TAG: orientation})
    elif fmt in ("JPEG", "WEBP", "HEIF"):
        image.save(path, fmt, exif=exif.tobytes(), quality=95)
    else:
        image.save(path, fmt, exif=exif.tobytes())
    return path


def write_truncated_jpeg(path: Path, bgr: np.ndarray, keep: float = 0.6) -> Path:
    """A JPEG cut short, as an interrupted upload leaves it."""
    ok, buf = cv2.imencode(".jpg", bgr)
    assert ok
    data = buf.tobytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_bomb_png(path: Path, width: int = 30000, height: int = 30000) -> Path:
    """A valid PNG header claiming ``width`` × ``height`` px with a tiny IDAT (a few hundred bytes).

    Decoding it would need width × height × 3 bytes; the loader must refuse it from the header.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
                     + _png_chunk(b"IEND", b""))
    return path


def plain_bgr(index: int, height: int = 90, width: int = 120) -> np.ndarray:
    """A flat-coloured image, different for each index. Flat images take the vision stages
    little time (they find no ballot quickly), which keeps batch tests fast."""
    colour = ((37 * index) % 256, (91 * index + 40) % 256, (53 * index + 90) % 256)
    bgr = np.empty((height, width, 3), np.uint8)
    bgr[:] = colour
    bgr[: height // 2, : width // 2] = 255 - np.array(colour, np.uint8)
    return bgr


def write_plain_photos(folder: Path, count: int, *, start: int = 0, prefix: str = "photo") -> list[Path]:
    """``count`` distinct small JPEGs named ``{prefix}-{index:03d}.jpg``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write_jpeg(folder / f"{prefix}-{i:03d}.jpg", plain_bgr(i)) for i in range(start, start + count)]
