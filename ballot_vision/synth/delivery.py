"""How a photo reaches us: the phone's frame size, its JPEG, the chat app's resize, the file format.

Photos sent through a chat app arrive re-encoded with their long side at 1280 or 2560
px; photos sent "as a file" arrive as the phone's original (about 12 MP, sometimes
HEIC, with an EXIF Orientation tag instead of rotated pixels). Only the Orientation tag
is ever written: the people who send these photos must not be exposed by metadata.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

#: Delivery -> long side of the photo in px (None: the camera's own size).
DELIVERIES: dict[str, int | None] = {"chat_1280": 1280, "chat_2560": 2560, "original": None}

#: Sensor sizes of common phone main cameras (long, short), px.
ORIGINAL_SIZES: tuple[tuple[int, int], ...] = ((4000, 3000), (4032, 3024), (4080, 3060), (3264, 2448), (4624, 3468))

#: EXIF Orientation value -> number of counter-clockwise quarter turns applied to the
#: upright picture to get the stored pixels (a viewer honouring the tag undoes them).
EXIF_QUARTER_TURNS: dict[int, int] = {1: 0, 6: 1, 3: 2, 8: 3}

EXIF_ORIENTATION_TAG = 0x0112

_FORMATS = {"jpg": "JPEG", "png": "PNG", "heic": "HEIF"}


def view_size(delivery: str, rng: np.random.Generator, *, portrait: bool) -> tuple[int, int]:
    """(W, H) of the upright photo for a delivery; 4:3 mostly, sometimes 16:9."""
    long_side = DELIVERIES[delivery]
    if long_side is None:
        long_side, short = ORIGINAL_SIZES[rng.integers(len(ORIGINAL_SIZES))]
    else:
        short = int(round(long_side * (9 / 16 if rng.random() < 0.12 else 3 / 4)))
    return (short, long_side) if portrait else (long_side, short)


def to_stored(view_bgr: np.ndarray, exif_orientation: int) -> np.ndarray:
    """The pixels a camera stores for an upright picture ``view_bgr`` with this Orientation tag."""
    return np.ascontiguousarray(np.rot90(view_bgr, EXIF_QUARTER_TURNS[exif_orientation]))


def heic_available() -> bool:
    """True when pillow-heif can encode HEIC here."""
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        buf = io.BytesIO()
        Image.new("RGB", (16, 16)).save(buf, format="HEIF", quality=80)
        return buf.tell() > 0
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def encode(stored_bgr: np.ndarray, *, fmt: str, quality: int, exif_orientation: int | None) -> bytes:
    """Encode stored pixels (H, W, 3) uint8 BGR as ``jpg``, ``png`` or ``heic``.

    ``exif_orientation`` None writes no EXIF at all; otherwise the only EXIF field is
    Orientation. JPEG uses 4:2:0 chroma subsampling, as phones and chat apps do; HEIC's
    ``quality`` is given on the JPEG scale.
    """
    if fmt not in _FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(_FORMATS)}")
    image = Image.fromarray(np.ascontiguousarray(stored_bgr[..., ::-1]))
    kwargs: dict = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION_TAG] = int(exif_orientation)
        kwargs["exif"] = exif.tobytes()
    buf = io.BytesIO()
    if fmt == "jpg":
        image.save(buf, format="JPEG", quality=int(quality), subsampling=2, **kwargs)
    elif fmt == "png":
        image.save(buf, format="PNG", compress_level=6, **kwargs)
    else:
        import pillow_heif

        pillow_heif.register_heif_opener()
        # x265 at JPEG-like quality numbers makes files several times larger than a phone's;
        # phones' HEIC is about half a JPEG's size, which quality - 25 roughly matches.
        # The fastest preset keeps a 12 MP encode to a few seconds.
        image.save(buf, format="HEIF", quality=max(30, int(quality) - 25), enc_params={"preset": "ultrafast"}, **kwargs)
    return buf.getvalue()


def decode_view(data: bytes) -> np.ndarray:
    """Decode a delivered photo as a viewer shows it (EXIF Orientation applied): (H, W, 3) uint8 BGR."""
    from PIL import ImageOps

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        pass
    with Image.open(io.BytesIO(data)) as im:
        upright = ImageOps.exif_transpose(im).convert("RGB")
    return np.ascontiguousarray(np.asarray(upright)[..., ::-1])


def jpeg_round_trip(view_bgr: np.ndarray, quality: int) -> np.ndarray:
    """The picture after one JPEG encode/decode (the phone's own JPEG before the chat app re-encodes it)."""
    data = encode(view_bgr, fmt="jpg", quality=quality, exif_orientation=None)
    with Image.open(io.BytesIO(data)) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB"))[..., ::-1])
