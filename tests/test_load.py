"""The load stage: formats, EXIF orientation, reduced decoding, and every kind of bad file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from ballot_vision.config import LoadLimits
from ballot_vision.stages.load import (
    LoadError,
    apply_exif_orientation,
    jpeg_reduction_factor,
    load_photo,
)
from photo_files import noise_bgr, write_bomb_png, write_jpeg, write_truncated_jpeg, write_with_orientation

LIMITS = LoadLimits(max_pixels=80_000_000, work_long_side_px=1800)

RED, GREEN, GREY = (0, 0, 255), (0, 255, 0), (128, 128, 128)

#: Where the stored image's top-left (red) and top-right (green) corners must end up once upright,
#: from the EXIF definitions: e.g. 6 means "rotate 90° clockwise to view", so the stored top-left
#: goes to the top-right and the stored top-right to the bottom-right.
UPRIGHT_CORNERS = {
    1: ("top-left", "top-right"),
    2: ("top-right", "top-left"),
    3: ("bottom-right", "bottom-left"),
    4: ("bottom-left", "bottom-right"),
    5: ("top-left", "bottom-left"),
    6: ("top-right", "bottom-right"),
    7: ("bottom-right", "top-right"),
    8: ("bottom-left", "top-left"),
}


def _stored_image() -> np.ndarray:
    """60×40 px, grey, with a red block at the top-left and a green one at the top-right."""
    bgr = np.full((40, 60, 3), GREY, np.uint8)
    bgr[:16, :16] = RED
    bgr[:16, -16:] = GREEN
    return bgr


def _corner_colour(bgr: np.ndarray, corner: str) -> tuple[int, int, int]:
    height, width = bgr.shape[:2]
    row = 5 if corner.startswith("top") else height - 6
    col = 5 if corner.endswith("left") else width - 6
    return tuple(int(v) for v in bgr[row, col])


def _assert_colour(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> None:
    # Lossy formats move values by a few levels; the three colours differ by more than 100.
    assert max(abs(a - e) for a, e in zip(actual, expected)) <= 12, (actual, expected)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "HEIF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_loads_upright(tmp_path: Path, fmt: str, orientation: int) -> None:
    path = write_with_orientation(tmp_path / f"photo.{fmt.lower()}", _stored_image(), fmt, orientation)

    photo = load_photo(path, limits=LIMITS)

    transposed = orientation >= 5
    assert photo.bgr.shape == ((60, 40, 3) if transposed else (40, 60, 3))
    assert photo.bgr.dtype == np.uint8
    assert photo.original_size == ((40, 60) if transposed else (60, 40))
    assert photo.exif_orientation == orientation
    assert photo.format == fmt
    red_at, green_at = UPRIGHT_CORNERS[orientation]
    _assert_colour(_corner_colour(photo.bgr, red_at), RED)
    _assert_colour(_corner_colour(photo.bgr, green_at), GREEN)
    other = {"top-left", "top-right", "bottom-left", "bottom-right"} - {red_at, green_at}
    for corner in other:
        _assert_colour(_corner_colour(photo.bgr, corner), GREY)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_apply_exif_orientation_is_undone_by_its_inverse(orientation: int) -> None:
    # Exact check on a tiny labelled array: the stored layout of orientation o, turned upright,
    # must be the identity pattern.
    upright = np.arange(6).reshape(2, 3)
    inverse_of = {
        1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
        5: lambda a: a.T, 6: lambda a: np.rot90(a, 1), 7: lambda a: a[::-1, ::-1].T, 8: lambda a: np.rot90(a, -1),
    }
    stored = inverse_of[orientation](upright)
    np.testing.assert_array_equal(apply_exif_orientation(stored, orientation), upright)


@pytest.mark.parametrize(
    ("long_side", "work", "factor"),
    [(4000, 1800, 2), (4000, 1000, 4), (4000, 500, 8), (4000, 2001, 1), (1280, 1800, 1), (8000, 1000, 8),
     (3599, 1800, 2), (3598, 1800, 1), (16000, 1800, 8)],
)
def test_jpeg_reduction_factor_keeps_the_working_size(long_side: int, work: int, factor: int) -> None:
    assert jpeg_reduction_factor(long_side, work) == factor


@pytest.mark.parametrize(("work", "factor"), [(100, 8), (101, 4), (200, 4), (201, 2), (400, 2), (401, 1)])
def test_large_jpeg_is_decoded_reduced(tmp_path: Path, work: int, factor: int) -> None:
    path = write_jpeg(tmp_path / "big.jpg", noise_bgr(600, 800, seed=1))

    photo = load_photo(path, limits=LoadLimits(max_pixels=80_000_000, work_long_side_px=work))

    assert photo.bgr.shape == (600 // factor, 800 // factor, 3)
    assert photo.scale == pytest.approx(1 / factor)
    assert photo.original_size == (800, 600)


def test_reduced_decoding_keeps_orientation(tmp_path: Path) -> None:
    stored = cv2.resize(_stored_image(), (600, 400), interpolation=cv2.INTER_NEAREST)
    path = write_with_orientation(tmp_path / "rotated.jpg", stored, "JPEG", 6)

    photo = load_photo(path, limits=LoadLimits(max_pixels=80_000_000, work_long_side_px=150))

    assert photo.bgr.shape == (150, 100, 3)  # 600×400 / 4, then turned portrait
    assert photo.original_size == (400, 600)
    _assert_colour(_corner_colour(photo.bgr, "top-right"), RED)
    _assert_colour(_corner_colour(photo.bgr, "bottom-right"), GREEN)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "HEIF"])
@pytest.mark.parametrize(("work", "shape"), [(250, (150, 250, 3)), (120, (75, 125, 3)), (251, (300, 500, 3))])
def test_other_formats_are_shrunk_as_a_jpeg_is_decoded(tmp_path: Path, fmt: str, work: int, shape) -> None:
    """The same size whatever the format: a 500-px photo is read at 500 px when halving it would
    go below the working size, as a JPEG's reduced decoding would do."""
    path = write_with_orientation(tmp_path / f"big.{fmt.lower()}", noise_bgr(300, 500, seed=2), fmt, 1)

    photo = load_photo(path, limits=LoadLimits(max_pixels=80_000_000, work_long_side_px=work))

    assert photo.bgr.shape == shape
    assert photo.scale == pytest.approx(shape[1] / 500)
    assert photo.original_size == (500, 300)


def test_sha256_is_of_the_file_bytes(tmp_path: Path) -> None:
    path = write_jpeg(tmp_path / "a.jpg", noise_bgr(20, 30, seed=3))
    assert load_photo(path, limits=LIMITS).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_jpeg_with_data_after_the_image_is_accepted(tmp_path: Path) -> None:
    # Motion photos and multi-picture JPEGs carry more data after the image's EOI marker.
    path = write_jpeg(tmp_path / "motion.jpg", noise_bgr(40, 60, seed=4))
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    assert load_photo(path, limits=LIMITS).bgr.shape == (40, 60, 3)


def _load_error(path: Path, limits: LoadLimits = LIMITS) -> LoadError:
    with pytest.raises(LoadError) as info:
        load_photo(path, limits=limits)
    return info.value


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    error = _load_error(path)
    assert str(error) == "file is empty"
    # An empty file was read (0 bytes): its hash names it like any other content.
    assert error.sha256 == hashlib.sha256(b"").hexdigest()


def test_truncated_jpeg(tmp_path: Path) -> None:
    path = write_truncated_jpeg(tmp_path / "cut.jpg", noise_bgr(120, 160, seed=5))
    error = _load_error(path)
    assert str(error).startswith("truncated JPEG")
    assert error.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_truncated_png(tmp_path: Path) -> None:
    path = write_with_orientation(tmp_path / "cut.png", noise_bgr(120, 160, seed=6), "PNG", 1)
    path.write_bytes(path.read_bytes()[:3000])
    assert "PNG" in str(_load_error(path))


def test_text_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "note.jpg"
    path.write_text("Сайлау учаскесі №12: hello, this is not a photo\n" * 20, encoding="utf-8")
    error = _load_error(path)
    assert str(error) == "not an image (looks like text)"
    assert len(error.sha256) == 64


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7\n" + bytes(200), "not an image (looks like a PDF document)"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(200), "not an image (looks like a video)"),
        (b"GIF89a" + bytes(200), "unsupported image format GIF (convert it to JPEG or PNG)"),
        (bytes(range(256)) * 4, "not an image (unrecognised format)"),
    ],
)
def test_other_non_images(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(content)
    assert str(_load_error(path)) == message


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    path = write_bomb_png(tmp_path / "bomb.png", 30000, 30000)
    assert path.stat().st_size < 2000
    assert str(_load_error(path)) == (
        "image too large: 30000×30000 px exceeds the 80 MP limit (possible decompression bomb)"
    )


def test_pixel_limit_comes_from_the_config(tmp_path: Path) -> None:
    path = write_jpeg(tmp_path / "a.jpg", noise_bgr(100, 100, seed=7))
    error = _load_error(path, LoadLimits(max_pixels=9_999, work_long_side_px=1800))
    assert str(error).startswith("image too large: 100×100 px exceeds the 0.009999 MP limit")


def test_folder(tmp_path: Path) -> None:
    assert str(_load_error(tmp_path)) == "is a folder, not a photo"


def test_missing_file(tmp_path: Path) -> None:
    assert str(_load_error(tmp_path / "gone.jpg")) == "file not found (removed or a broken link)"


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").symlink_to(tmp_path / "b.jpg")
    (tmp_path / "b.jpg").symlink_to(tmp_path / "a.jpg")
    assert str(_load_error(tmp_path / "a.jpg")) == "symlink loop"


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jpeg(tmp_path / "secret.jpg", noise_bgr(20, 20, seed=8))
    if os.geteuid() == 0:
        # root reads anything regardless of mode bits: simulate the refusal instead.
        real_open = open

        def refusing_open(file, *args, **kwargs):
            if Path(file) == path:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr("builtins.open", refusing_open)
    else:
        path.chmod(0)
    assert str(_load_error(path)) == "permission denied"


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    assert str(_load_error(path)) == "not a regular file (a device, pipe or socket)"


def test_messages_name_no_path(tmp_path: Path) -> None:
    for path in (tmp_path / "gone.jpg", write_truncated_jpeg(tmp_path / "cut.jpg", noise_bgr(50, 50, seed=9))):
        assert str(tmp_path) not in str(_load_error(path))
