"""The one place that talks to Tesseract.

OCR is slow next to everything else here, so the stages ask for it only on small,
rectified regions and only where geometry cannot decide. When Tesseract is missing or
fails, :func:`read_text` returns an empty :class:`OcrText` with the reason, never raises:
callers treat that as "no evidence".

Two ways in, same recogniser and settings:

* ``"library"``: Tesseract's C API (libtesseract, installed with the tesseract-ocr
  package) loaded once per process and thread. Starting the ``tesseract`` program and
  loading the kaz+rus models costs ~0.2 s per call; a loaded engine reads a title crop
  in a few tens of milliseconds, which is what keeps a photo within a small multiple
  of its decoding time.
* ``"program"``: pytesseract running the ``tesseract`` program, the fallback where the
  library cannot be loaded.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import logging
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import cv2
import numpy as np

log = logging.getLogger(__name__)

#: Minimum Tesseract word confidence (0–100) for a word to count as "confident".
CONFIDENT_WORD = 60
#: Confidently read letters from which text is "readable": then what it says (or does not
#: say) is evidence, where a blurred crop reads as confident-looking garbage of few letters.
READABLE_LETTERS = 30
#: At most this many confidently read letters: nothing legible was there at all.
NOTHING_LEGIBLE = 5
#: A fuzzy keyword match (see :func:`keyword_score`) at least this good counts as found.
KEYWORD_MATCH = 0.8


@dataclass(frozen=True)
class OcrText:
    """What Tesseract read: all of it, and only the words it was sure of (confidence ≥ 60)."""

    text: str
    error: str = ""
    confident_text: str = ""

    def __bool__(self) -> bool:
        return bool(self.text.strip())

    @property
    def confident_letters(self) -> int:
        """Letters (after :func:`normalise`) among the confidently read words."""
        return len(normalise(self.confident_text).replace(" ", ""))


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
              timeout_s: float = 10.0, engine: str = "auto") -> OcrText:
    """OCR a small greyscale image.

    Parameters
    ----------
    gray : (M, N) uint8 ndarray
        Dark text on light paper, upright, roughly 20–40 px cap height for best results.
    languages : str
        Tesseract language codes joined by '+'; missing ones are dropped.
    single_block : bool
        Read the crop as one block of text (page segmentation mode 6) rather than
        a page to be laid out (mode 3).
    timeout_s : float
        Only for the ``"program"`` engine; the library reads small crops in
        milliseconds and the batch engine's per-photo timeout covers a stuck call.
    engine : {"auto", "library", "program"}
        ``"auto"`` uses the library when it loads, else the program.
    """
    if not tesseract_version():
        return OcrText("", error="tesseract is not installed")
    langs = _usable_languages(languages)
    if not langs:
        return OcrText("", error=f"tesseract has none of the languages {languages}")
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    psm = 6 if single_block else 3
    words: list[tuple[str, float]] | None = None
    error = ""
    if engine in ("auto", "library"):
        api = _library_engine(langs)
        if api is not None:
            words = api.read_words(gray, psm)
        elif engine == "library":
            return OcrText("", error="the tesseract library could not be loaded")
    if words is None:
        words, error = _program_words(gray, langs, psm, timeout_s)
    return OcrText(" ".join(w for w, _ in words), error=error,
                   confident_text=" ".join(w for w, c in words if c >= CONFIDENT_WORD))


def _program_words(gray: np.ndarray, langs: str, psm: int,
                   timeout_s: float) -> tuple[list[tuple[str, float]], str]:
    """Words and confidences from the ``tesseract`` program, via pytesseract."""
    import pytesseract

    # One thread per Tesseract call: our parallelism is across photos, and Tesseract's own
    # OpenMP threads make small crops several times slower.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    # Handing pytesseract an array makes it PNG-compress the image first (a tenth of a
    # second per crop); an uncompressed file of our own costs nothing.
    with tempfile.TemporaryDirectory(prefix="bv-ocr-") as tmp:
        path = os.path.join(tmp, "crop.bmp")
        if not cv2.imwrite(path, gray):
            return [], "could not write the OCR crop"
        try:
            data = pytesseract.image_to_data(path, lang=langs, config=f"--psm {psm}", timeout=timeout_s,
                                             output_type=pytesseract.Output.DICT)
        except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
            return [], f"tesseract timed out: {exc}"
        except Exception as exc:  # noqa: BLE001 - a failed OCR is no evidence, not a crash
            return [], f"tesseract failed: {exc}"
    return [(str(w).strip(), float(c)) for w, c in zip(data["text"], data["conf"]) if str(w).strip()], ""


_RIL_WORD = 3  # tesseract::RIL_WORD


class _TesseractLibrary:
    """One loaded Tesseract engine (C API) for one language set.

    Not thread-safe: :func:`_library_engine` keeps one per thread.
    """

    def __init__(self, lib: ctypes.CDLL, languages: str) -> None:
        self._lib = lib
        self._api = lib.TessBaseAPICreate()
        if not self._api:
            raise OSError("TessBaseAPICreate failed")
        if lib.TessBaseAPIInit3(self._api, None, languages.encode()) != 0:
            lib.TessBaseAPIDelete(self._api)
            self._api = None
            raise OSError(f"tesseract could not load the languages {languages}")
        # Tesseract prints diagnostics ("Image too small to scale!!") on stderr, where the
        # program's were captured by pytesseract; keep the batch's own messages readable.
        lib.TessBaseAPISetVariable(self._api, b"debug_file", os.devnull.encode())
        # Print here is dark on light: retrying every unsure line as white-on-black text
        # costs about 40 % of the recognition time and finds nothing.
        lib.TessBaseAPISetVariable(self._api, b"tessedit_do_invert", b"0")

    def read_words(self, gray: np.ndarray, psm: int) -> list[tuple[str, float]]:
        lib, api = self._lib, self._api
        lib.TessBaseAPISetPageSegMode(api, psm)
        height, width = gray.shape
        lib.TessBaseAPISetImage(api, gray.ctypes.data_as(ctypes.c_void_p), width, height, 1, gray.strides[0])
        words: list[tuple[str, float]] = []
        if lib.TessBaseAPIRecognize(api, None) != 0:
            lib.TessBaseAPIClear(api)
            return words
        iterator = lib.TessBaseAPIGetIterator(api)
        if iterator:
            try:
                while True:
                    raw = lib.TessResultIteratorGetUTF8Text(iterator, _RIL_WORD)
                    if raw:
                        text = ctypes.string_at(raw).decode("utf-8", "replace").strip()
                        lib.TessDeleteText(raw)
                        if text:
                            words.append((text, float(lib.TessResultIteratorConfidence(iterator, _RIL_WORD))))
                    if not lib.TessResultIteratorNext(iterator, _RIL_WORD):
                        break
            finally:
                lib.TessResultIteratorDelete(iterator)
        lib.TessBaseAPIClear(api)
        return words

    def close(self) -> None:
        if self._api:
            self._lib.TessBaseAPIEnd(self._api)
            self._lib.TessBaseAPIDelete(self._api)
            self._api = None


@lru_cache(maxsize=1)
def _load_library() -> ctypes.CDLL | None:
    """libtesseract with the C API signatures declared, or None when it is not there."""
    # OpenMP reads its limit once, when the library loads: one thread per engine,
    # because our parallelism is across photos.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    name = ctypes.util.find_library("tesseract") or "libtesseract.so.5"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    signatures = {
        "TessBaseAPICreate": (vp, []),
        "TessBaseAPIInit3": (ci, [vp, cp, cp]),
        "TessBaseAPISetPageSegMode": (None, [vp, ci]),
        "TessBaseAPISetImage": (None, [vp, vp, ci, ci, ci, ci]),
        "TessBaseAPIRecognize": (ci, [vp, vp]),
        "TessBaseAPIGetIterator": (vp, [vp]),
        "TessResultIteratorGetUTF8Text": (vp, [vp, ci]),
        "TessResultIteratorConfidence": (ctypes.c_float, [vp, ci]),
        "TessResultIteratorNext": (ci, [vp, ci]),
        "TessResultIteratorDelete": (None, [vp]),
        "TessDeleteText": (None, [vp]),
        "TessBaseAPIClear": (None, [vp]),
        "TessBaseAPIDelete": (None, [vp]),
        "TessBaseAPIEnd": (None, [vp]),
        "TessBaseAPISetVariable": (ci, [vp, cp, cp]),
    }
    try:
        for fn_name, (restype, argtypes) in signatures.items():
            fn = getattr(lib, fn_name)
            fn.restype, fn.argtypes = restype, argtypes
    except AttributeError:
        return None
    return lib


_engines = threading.local()
_opened: list[tuple[int, _TesseractLibrary]] = []
_opened_lock = threading.Lock()


@atexit.register
def _close_engines() -> None:
    # Unfreed engines make Tesseract print "WARNING! LEAK!" lines at exit.
    with _opened_lock:
        for pid, engine in _opened:
            if pid == os.getpid():
                engine.close()
        _opened.clear()


def _library_engine(languages: str) -> _TesseractLibrary | None:
    """This thread's loaded engine for ``languages``; None when the library is unusable.

    Keyed by process id too: an engine inherited through fork shares OpenMP state
    with the parent and is not reused.
    """
    lib = _load_library()
    if lib is None:
        return None
    cache = getattr(_engines, "by_key", None)
    if cache is None:
        cache = _engines.by_key = {}
    key = (os.getpid(), languages)
    if key not in cache:
        try:
            cache[key] = _TesseractLibrary(lib, languages)
            with _opened_lock:
                _opened.append((key[0], cache[key]))
        except OSError as exc:
            log.warning("tesseract library unusable (%s); using the tesseract program", exc)
            cache[key] = None
    return cache[key]


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


#: Windows shorter than this share of a keyword are not compared with it (see keyword_score).
MIN_WINDOW_SHARE = 0.6


def _windows(words: list[str], i: int, key: str, min_share: float = MIN_WINDOW_SHARE, join: bool = True):
    """Candidates starting at word ``i`` to compare with ``key``: the word, the word joined
    with the next (OCR may split a word in two; only with ``join``), and keyword-length
    prefixes of those (inflected forms: МАЖИЛИСА); none shorter than ``min_share`` of the key."""
    window = ""
    for word in words[i:i + (2 if join else 1)]:
        window += word
        if len(window) < min_share * len(key):
            continue
        yield from {window, window[: len(key)]}
        if len(window) > 1.5 * len(key):
            break


@lru_cache(maxsize=4096)
def keyword_score(text: str, keyword: str, min_share: float = MIN_WINDOW_SHARE, join: bool = True) -> float:
    """Best fuzzy match (0–1) of ``keyword`` against any word-aligned window of ``text``.

    ``min_share``: the shortest window compared, as a share of the keyword's length. A
    short garbled word can be all of a piece with a long keyword (АРАМЕН in ПАРЛАМЕНТ
    scores 0.8): a larger share asks for the word read (nearly) whole. ``join``: also
    try each word joined with the next; garbled fragments joined can spell a short
    keyword exactly (КА ЛАСЫР gave ҚАЛАСЫ).
    Cached: the same OCR text is matched against the same keywords by several checks.
    """
    words = normalise(text).split()
    key = normalise(keyword).replace(" ", "")
    if not words or not key:
        return 0.0
    best = 0.0
    matcher = SequenceMatcher(None, "", key, autojunk=False)
    for i in range(len(words)):
        for candidate in _windows(words, i, key, min_share, join):
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
    return best


@lru_cache(maxsize=4096)
def keyword_positions(text: str, keyword: str, threshold: float,
                      min_share: float = MIN_WINDOW_SHARE) -> tuple[int, ...]:
    """Indices of the words of ``normalise(text)`` where ``keyword`` starts with a match of
    at least ``threshold`` (windows and ``min_share`` as in :func:`keyword_score`)."""
    words = normalise(text).split()
    key = normalise(keyword).replace(" ", "")
    if not key:
        return ()
    matcher = SequenceMatcher(None, "", key, autojunk=False)
    found = []
    for i in range(len(words)):
        for candidate in _windows(words, i, key, min_share):
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold \
                    and matcher.ratio() >= threshold:
                found.append(i)
                break
    return tuple(found)
