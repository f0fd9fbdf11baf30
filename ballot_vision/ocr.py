"""The one place that talks to Tesseract (through pytesseract).

OCR is slow next to everything else here, so the stages ask for it only on small,
rectified regions and only where geometry cannot decide. When Tesseract is missing or
fails, :func:`read_text` returns an empty :class:`OcrText` with the reason, never raises:
callers treat that as "no evidence".
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import cv2
import numpy as np


@dataclass(frozen=True)
class OcrText:
    """What Tesseract read: all of it, and only the words it was sure of (confidence ≥ 60)."""

    text: str
    error: str = ""
    confident_text: str = ""

    def __bool__(self) -> bool:
        return bool(self.text.strip())


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    """The Tesseract version, or '' when it is not installed."""
    try:
        import pytesseract

        return str(pytesseract.get_tesseract_version())
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return ""


@lru_cache(maxsize=8)
def available_languages() -> frozenset[str]:
    try:
        import pytesseract

        return frozenset(pytesseract.get_languages(config=""))
    except Exception:  # noqa: BLE001
        return frozenset()


def _usable_languages(languages: str) -> str:
    have = available_languages()
    usable = [lang for lang in languages.split("+") if lang in have]
    return "+".join(usable)


def read_text(gray: np.ndarray, *, languages: str = "kaz+rus", single_block: bool = True,
              timeout_s: float = 10.0) -> OcrText:
    """OCR a small greyscale image.

    Parameters
    ----------
    gray : (M, N) uint8 ndarray
        Dark text on light paper, upright, roughly 20–40 px cap height for best results.
    languages : str
        Tesseract language codes joined by '+'; missing ones are dropped.
    """
    if not tesseract_version():
        return OcrText("", error="tesseract is not installed")
    langs = _usable_languages(languages)
    if not langs:
        return OcrText("", error=f"tesseract has none of the languages {languages}")
    import pytesseract

    # One thread per Tesseract call: our parallelism is across photos, and Tesseract's own
    # OpenMP threads make small crops several times slower.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    config = "--psm 6" if single_block else "--psm 3"
    # Handing pytesseract an array makes it PNG-compress the image first (a tenth of a
    # second per crop); an uncompressed file of our own costs nothing.
    with tempfile.TemporaryDirectory(prefix="bv-ocr-") as tmp:
        path = os.path.join(tmp, "crop.bmp")
        if not cv2.imwrite(path, gray):
            return OcrText("", error="could not write the OCR crop")
        try:
            data = pytesseract.image_to_data(path, lang=langs, config=config, timeout=timeout_s,
                                             output_type=pytesseract.Output.DICT)
        except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
            return OcrText("", error=f"tesseract timed out: {exc}")
        except Exception as exc:  # noqa: BLE001 - a failed OCR is no evidence, not a crash
            return OcrText("", error=f"tesseract failed: {exc}")
    words = [(w, float(c)) for w, c in zip(data["text"], data["conf"]) if str(w).strip()]
    return OcrText(" ".join(w for w, _ in words), confident_text=" ".join(w for w, c in words if c >= 60))


@lru_cache(maxsize=64)
def normalise(text: str) -> str:
    """Upper-case letters only, Kazakh letters folded to their Russian look-alikes.

    OCR often confuses Ә/А, Қ/К, Ө/О, Ұ/Ү/У, Ң/Н, Ғ/Г, І/I, Һ/Н; folding them makes
    keyword matching tolerant of that without losing what tells forms apart.
    """
    fold = str.maketrans("ӘҚӨҰҮҢҒІҺЁ", "АКОУУНГИНЕ")
    text = unicodedata.normalize("NFC", text.upper()).translate(fold)
    text = text.replace("I", "И")
    return re.sub(r"[^A-ZА-Я]+", " ", text).strip()


def keyword_score(text: str, keyword: str) -> float:
    """Best fuzzy match (0–1) of ``keyword`` against any word-aligned window of ``text``."""
    words = normalise(text).split()
    key = normalise(keyword).replace(" ", "")
    if not words or not key:
        return 0.0
    best = 0.0
    matcher = SequenceMatcher(None, "", key, autojunk=False)
    for i in range(len(words)):
        window = ""
        for word in words[i:i + 2]:  # OCR may split a word in two
            window += word
            if len(window) < 0.6 * len(key):
                continue
            # Compare against the keyword-length prefix too: inflected forms (МАЖИЛИСА).
            for candidate in {window, window[: len(key)]}:
                matcher.set_seq1(candidate)
                if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                    best = max(best, matcher.ratio())
            if len(window) > 1.5 * len(key):
                break
    return best
