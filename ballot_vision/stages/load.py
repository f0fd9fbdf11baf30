"""Load stage: one photo file in, an upright BGR image at working size out.

The file is read once; its SHA-256 is taken from those bytes (so a row always names the exact
content it describes). Dimensions are checked from the header before anything is decoded, so a
decompression bomb is refused without allocating it. Large JPEGs are decoded at 1/2, 1/4 or 1/8
size by libjpeg itself (OpenCV's reduced decoding), which is several times faster than decoding
at full size and resizing; other formats are decoded by Pillow and resized with area averaging.

EXIF orientation is applied here, so every later stage sees the photo as a person would.
Nothing from EXIF other than the orientation is used, and nothing is ever written back.
"""

from __future__ import annotations

import errno
import hashlib
import io
import math
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageFile

from ..config import LoadLimits

pillow_heif.register_heif_opener()

#: Image formats we read, by Pillow's name for them. HEIF covers HEIC (iPhone originals).
SUPPORTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "TIFF", "HEIF")

#: A phone photo is at most a few tens of megabytes; anything far larger is a video or an archive
#: sent by mistake. Refusing it before reading keeps one stray file from exhausting a worker's memory.
MAX_FILE_BYTES = 1 << 30

_EXIF_ORIENTATION_TAG = 0x0112


class LoadError(Exception):
    """The file cannot be read as a photo; ``str(error)`` is a one-line reason for the CSV.

    Attributes
    ----------
    sha256 : str
        Hex SHA-256 of the file's bytes when they could be read, else ``""``.
    """

    def __init__(self, message: str, *, sha256: str = "") -> None:
        super().__init__(message)
        self.sha256 = sha256


@dataclass(frozen=True)
class LoadedPhoto:
    """A decoded photo, upright, at working size.

    Attributes
    ----------
    bgr : (M, N, 3) ndarray of uint8
        The image, rows top to bottom as a viewer sees it (EXIF orientation applied).
    sha256 : str
        Hex SHA-256 of the file's bytes.
    original_size : (int, int)
        Width and height in pixels of the full-resolution image, upright.
    scale : float
        Decoded pixels per original pixel (≤ 1): ``bgr`` long side / original long side.
    exif_orientation : int
        The EXIF orientation tag found in the file, 1–8 (1 when absent or invalid).
    format : str
        ``JPEG``, ``PNG``, ``WEBP``, ``TIFF`` or ``HEIF``.
    """

    bgr: np.ndarray
    sha256: str
    original_size: tuple[int, int]
    scale: float
    exif_orientation: int
    format: str


def load_photo(path: str | Path, *, limits: LoadLimits) -> LoadedPhoto:
    """Read one photo file into an upright BGR image no larger than needed.

    Parameters
    ----------
    path : str or Path
        The photo file.
    limits : LoadLimits
        ``max_pixels``: refuse larger images (checked from the header, before decoding).
        ``work_long_side_px``: images with a longer long side are reduced to about this size.

    Returns
    -------
    LoadedPhoto

    Raises
    ------
    LoadError
        For anything that is not a readable photo: missing, empty, a folder, unreadable,
        not an image, an unsupported format, too large, truncated or corrupt. The message is
        one line and names no path.
    """
    data = _read_bytes(Path(path))
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        if not data:
            raise LoadError("file is empty")
        return _decode(data, sha256, limits)
    except LoadError as exc:
        exc.sha256 = sha256
        raise
    except Image.DecompressionBombError:
        # Only reachable when max_pixels is set above Pillow's own hard limit.
        raise LoadError("image too large: exceeds Pillow's decompression bomb limit", sha256=sha256) from None
    except MemoryError:
        raise LoadError("image too large: out of memory while decoding", sha256=sha256) from None


def jpeg_reduction_factor(long_side_px: int, work_long_side_px: int) -> int:
    """The JPEG reduced-decoding factor to use: 8, 4, 2 or 1.

    The largest factor that still leaves the decoded long side (``ceil(long / factor)``, as
    libjpeg rounds) at least ``work_long_side_px``, so no detail the stages need is lost.

    Examples
    --------
    >>> jpeg_reduction_factor(4000, 1800)
    2
    >>> jpeg_reduction_factor(1280, 1800)
    1
    """
    for factor in (8, 4, 2):
        if math.ceil(long_side_px / factor) >= work_long_side_px:
            return factor
    return 1


def apply_exif_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an image stored with EXIF orientation ``orientation`` upright.

    Parameters
    ----------
    image : (M, N) or (M, N, C) ndarray
        Pixels as stored in the file.
    orientation : int
        EXIF tag 0x0112: 1 upright, 2 mirrored left-right, 3 rotated 180°, 4 mirrored
        top-bottom, 5 transposed, 6 needs 90° clockwise, 7 transversed, 8 needs 90°
        counter-clockwise. Other values are treated as 1.

    Returns
    -------
    ndarray
        A contiguous upright copy (or ``image`` itself for orientation 1).
    """
    # Transposing swaps rows and columns; flips then finish each case.
    axes = (1, 0) + tuple(range(2, image.ndim))
    if orientation == 2:
        out = image[:, ::-1]
    elif orientation == 3:
        out = image[::-1, ::-1]
    elif orientation == 4:
        out = image[::-1]
    elif orientation == 5:
        out = image.transpose(axes)
    elif orientation == 6:
        out = image.transpose(axes)[:, ::-1]
    elif orientation == 7:
        out = image[::-1, ::-1].transpose(axes)
    elif orientation == 8:
        out = image.transpose(axes)[::-1]
    else:
        return image
    return np.ascontiguousarray(out)


def _read_bytes(path: Path) -> bytes:
    # stat first: opening a FIFO would block forever, and a folder or a huge file should be
    # refused before any read.
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise LoadError("is a folder, not a photo")
        if not stat.S_ISREG(st.st_mode):
            raise LoadError("not a regular file (a device, pipe or socket)")
        if st.st_size > MAX_FILE_BYTES:
            raise LoadError(f"file too large for a photo: {st.st_size / 2**20:,.0f} MB")
        with open(path, "rb") as f:
            data = f.read()
    except LoadError:
        raise
    except PermissionError:
        raise LoadError("permission denied") from None
    except FileNotFoundError:
        raise LoadError("file not found (removed or a broken link)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LoadError("symlink loop") from None
        raise LoadError(f"cannot read the file: {exc.strerror or exc}") from None
    return data


def _decode(data: bytes, sha256: str, limits: LoadLimits) -> LoadedPhoto:
    header = _open_header(data)
    fmt = header.format
    width, height = header.size
    if width <= 0 or height <= 0:
        raise LoadError(f"corrupt {fmt}: image size {width}×{height} px")
    if width * height > limits.max_pixels:
        raise LoadError(
            f"image too large: {width}×{height} px exceeds the {limits.max_pixels / 1e6:g} MP limit"
            " (possible decompression bomb)"
        )
    orientation = _file_orientation(header)
    if fmt == "JPEG":
        stored = _decode_jpeg(data, width, height, limits.work_long_side_px)
        stored_size, to_apply = (width, height), orientation
    else:
        full = _decode_with_pil(header)
        # Pillow's TIFF plugin and pillow-heif turn the image upright while decoding and clear
        # the tag; read it again so that no orientation is applied twice.
        stored_size, to_apply = (full.shape[1], full.shape[0]), _exif_orientation(header)
        # Shrunk as a JPEG of the same size is decoded, so a photo's format never changes
        # the size it is read at (nor, with it, what can be read on a small ballot).
        factor = jpeg_reduction_factor(max(width, height), limits.work_long_side_px)
        stored = _fit(full, math.ceil(max(full.shape[:2]) / factor))
    bgr = apply_exif_orientation(stored, to_apply)
    upright_size = stored_size[::-1] if to_apply in (5, 6, 7, 8) else stored_size
    return LoadedPhoto(
        bgr=bgr,
        sha256=sha256,
        original_size=upright_size,
        scale=max(bgr.shape[:2]) / max(width, height),
        exif_orientation=orientation,
        format=fmt,
    )


def _open_header(data: bytes) -> ImageFile.ImageFile:
    """Parse only the header, with the format's own Pillow plugin.

    ``Image.open`` would apply Pillow's global decompression-bomb check first and fail with a
    message that hides the dimensions (or pass images our own, configurable, limit refuses).
    Calling the registered plugin does the same header parsing without that check; ours follows.
    """
    Image.init()
    prefix = data[:16]
    for fmt in SUPPORTED_FORMATS:
        factory, accept = Image.OPEN[fmt]
        # accept() may return a warning string for a plugin that cannot run: not ours then.
        if accept is not None and accept(prefix) is not True:
            continue
        try:
            image = factory(io.BytesIO(data))
        except (SyntaxError, ValueError, IndexError, TypeError, struct.error, EOFError, OSError) as exc:
            raise LoadError(f"corrupt {fmt}: {_one_line(exc)}") from None
        # MPO (several JPEGs in one file, common on phones) is still a JPEG to us.
        if image.format == "MPO":
            image.format = "JPEG"
        return image
    raise LoadError(_describe_non_image(data))


def _file_orientation(image: Image.Image) -> int:
    """The orientation the file declares (reported), even when the decoder applies it."""
    # pillow-heif hands the rotation to libheif and keeps the file's tag here.
    value = image.info.get("original_orientation")
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    return _exif_orientation(image)


def _exif_orientation(image: Image.Image) -> int:
    """The orientation still to apply to the pixels Pillow decodes."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - malformed EXIF is common and must not lose the photo
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _decode_jpeg(data: bytes, width: int, height: int, work_long_side_px: int) -> np.ndarray:
    if _jpeg_end(data) is None:
        # libjpeg would decode what is there and paint the rest grey; a half photo must not be read.
        raise LoadError("truncated JPEG (the file ends before the image does)")
    factor = jpeg_reduction_factor(max(width, height), work_long_side_px)
    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
             8: cv2.IMREAD_REDUCED_COLOR_8}[factor]
    # We apply the orientation ourselves (from the same EXIF we report), so OpenCV must not.
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise LoadError("corrupt JPEG: cannot be decoded")
    return bgr


def _jpeg_end(data: bytes) -> int | None:
    """Offset just past the main image's EOI marker, or None when the file ends before it.

    Walks the marker segments up to the first scan, then looks for EOI. Looking only at the last
    two bytes would not do: phones append data after EOI (motion-photo videos, multi-picture
    JPEGs, vendor trailers), and an embedded EXIF thumbnail has its own EOI before the main
    image's. Inside the scans, 0xFF is always followed by 0x00 (byte stuffing) or a marker, and
    table segments between progressive scans hold no 0xFF 0xD9 pair, so the first one found
    after the first scan starts is the image's end.
    """
    n = len(data)
    i = 2  # after SOI
    while True:
        i = data.find(b"\xff", i)
        if i < 0:
            return None
        k = i + 1
        while k < n and data[k] == 0xFF:  # fill bytes
            k += 1
        if k >= n:
            return None
        marker = data[k]
        if marker == 0xD9:  # EOI before any scan: an image without pixels
            return k + 1
        if marker == 0x00 or marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length field
            i = k + 1
            continue
        if k + 3 > n:
            return None
        i = k + 1 + int.from_bytes(data[k + 1:k + 3], "big")
        if i > n:
            return None
        if marker == 0xDA:  # start of scan
            end = data.find(b"\xff\xd9", i)
            return None if end < 0 else end + 2


def _decode_with_pil(image: ImageFile.ImageFile) -> np.ndarray:
    fmt = image.format
    try:
        image.seek(0)  # the first page / frame of a multi-image TIFF or HEIF
        image.load()
        return _to_bgr(image)
    except OSError as exc:
        text = _one_line(exc)
        if "truncated" in text.lower():
            raise LoadError(f"truncated {fmt} (the file ends before the image does)") from None
        raise LoadError(f"corrupt {fmt}: {text}") from None
    except (SyntaxError, ValueError, IndexError, TypeError, struct.error, EOFError) as exc:
        raise LoadError(f"corrupt {fmt}: {_one_line(exc)}") from None


def _to_bgr(image: Image.Image) -> np.ndarray:
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        # 16-bit or float greyscale (scanners, some TIFFs): scale to 8 bits.
        gray = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode.startswith("I;16") or gray.max() > 255 else 255.0
        gray8 = np.clip(gray * (255.0 / top), 0, 255).astype(np.uint8)
        return cv2.cvtColor(gray8, cv2.COLOR_GRAY2BGR)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent pixels would come out black; a photo of paper reads better on white.
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    else:
        rgb = np.asarray(image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _fit(bgr: np.ndarray, work_long_side_px: int) -> np.ndarray:
    """Shrink with area averaging so that the long side is ``work_long_side_px``; never enlarge."""
    height, width = bgr.shape[:2]
    long_side = max(height, width)
    if long_side <= work_long_side_px:
        return bgr
    ratio = work_long_side_px / long_side
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)


def _describe_non_image(data: bytes) -> str:
    head = data[:16]
    if head.startswith(b"%PDF"):
        return "not an image (looks like a PDF document)"
    if head.startswith(b"PK\x03\x04"):
        return "not an image (looks like a ZIP archive or an Office document)"
    if head[4:8] == b"ftyp":
        if head[8:12] in (b"avif", b"avis"):
            return "unsupported image format AVIF (convert it to JPEG or PNG)"
        return "not an image (looks like a video)"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "unsupported image format GIF (convert it to JPEG or PNG)"
    if head.startswith(b"BM"):
        return "unsupported image format BMP (convert it to JPEG or PNG)"
    if _looks_like_text(data[:4096]):
        return "not an image (looks like text)"
    return "not an image (unrecognised format)"


def _looks_like_text(sample: bytes) -> bool:
    text = sample.decode("utf-8", errors="replace")
    if not text:
        return False
    printable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
    return printable / len(text) >= 0.95


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
