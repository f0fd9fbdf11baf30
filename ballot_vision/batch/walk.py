"""Find the photo files under a folder, lazily, however many there are.

The walk is a generator over ``os.scandir``: it holds one open folder at a time and the list of
folders still to visit, never the list of files, so a million photos cost no memory here.

Every regular file is yielded (a photo saved without an extension or under the wrong one is still
read; a stray text file gets an error row saying so) except hidden and system files (names
starting with ``.``, ``Thumbs.db``, ``desktop.ini``, ``__MACOSX`` ...) and the paths the caller
excludes (the results CSV and the debug folder, which may live inside the photo folder).

Symbolic links to folders are followed, once: every folder's ``(st_dev, st_ino)`` is remembered,
and a link leading back to a folder already visited (a loop, or a second way into the same
folder) is reported as a problem item rather than followed. Anything that cannot be listed or
read as a file (broken or looping links, unreadable folders, pipes, devices) is also yielded as a
problem item, so that it gets a row in the results instead of silently vanishing.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: Files and folders that operating systems, archivers and NAS boxes leave in photo folders.
SYSTEM_NAMES = frozenset({
    "Thumbs.db", "ehthumbs.db", "desktop.ini", "Icon\r", "__MACOSX", "@eaDir", "$RECYCLE.BIN",
    "System Volume Information", "lost+found",
})


@dataclass(frozen=True)
class WalkItem:
    """One thing found under the folder.

    Attributes
    ----------
    path : str
        Absolute path, built from the root as given (names that are not valid UTF-8 carry their
        bytes as surrogate escapes, as ``os.fsdecode`` makes them).
    problem : str
        Empty for a file to read; otherwise why it cannot be read (one line, no path).
    """

    path: str
    problem: str = ""


def is_hidden(name: str) -> bool:
    """True for names the walk skips: dot-files, AppleDouble ``._*`` files, system files."""
    return name.startswith(".") or name in SYSTEM_NAMES


def walk_photos(root: str | Path, *, exclude: Iterable[str | Path] = ()) -> Iterator[WalkItem]:
    """Yield every candidate photo file under ``root``, recursively, as it is found.

    Parameters
    ----------
    root : str or Path
        The folder to walk.
    exclude : iterable of str or Path
        Files or folders to leave out (matched by device and inode, so any spelling of the path
        works); paths that do not exist are ignored.

    Yields
    ------
    WalkItem
        Files in the order the file system lists them, a folder's files before its subfolders.
    """
    root = os.fspath(root)
    excluded = _identities(exclude)
    excluded_inodes = {ino for _, ino in excluded}
    root_stat = os.stat(root)
    visited = {(root_stat.st_dev, root_stat.st_ino)}
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = os.scandir(folder)
        except OSError as exc:
            yield WalkItem(folder, f"cannot list the folder: {_reason(exc)}")
            continue
        subfolders = []
        with entries:
            for entry in _entries(entries, folder):
                if isinstance(entry, WalkItem):  # the listing itself failed part-way
                    yield entry
                    break
                if is_hidden(entry.name):
                    continue
                item, subfolder = _classify(entry, visited, excluded, excluded_inodes)
                if item is not None:
                    yield item
                if subfolder is not None:
                    subfolders.append(subfolder)
        # Reversed so that folders are visited in listing order (the stack pops from the end).
        pending.extend(reversed(subfolders))


def _entries(entries: Iterator[os.DirEntry], folder: str) -> Iterator[os.DirEntry | WalkItem]:
    try:
        yield from entries
    except OSError as exc:
        log.warning("could not finish listing a folder: %s", _reason(exc))
        yield WalkItem(folder, f"could not finish listing the folder: {_reason(exc)}")


def _classify(entry: os.DirEntry, visited: set[tuple[int, int]], excluded: set[tuple[int, int]],
              excluded_inodes: set[int]) -> tuple[WalkItem | None, str | None]:
    """What to do with one entry: (item to yield or None, subfolder to visit or None)."""
    try:
        if entry.is_dir():  # follows symlinks
            st = entry.stat()
            identity = (st.st_dev, st.st_ino)
            if identity in excluded:
                return None, None
            if identity in visited:
                return WalkItem(entry.path, "symlink loop: leads back to a folder already scanned"), None
            visited.add(identity)
            return None, entry.path
        if entry.is_file():
            # inode() is free from the listing; stat only for the rare candidate match.
            if entry.inode() in excluded_inodes or entry.is_symlink():
                st = entry.stat()
                if (st.st_dev, st.st_ino) in excluded:
                    return None, None
            return WalkItem(entry.path), None
        if entry.is_symlink():
            return WalkItem(entry.path, _broken_link_reason(entry.path)), None
        return WalkItem(entry.path, "not a regular file (a device, pipe or socket)"), None
    except OSError as exc:
        return WalkItem(entry.path, _link_error(exc) if entry.is_symlink() else f"cannot read: {_reason(exc)}"), None


def _broken_link_reason(path: str) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        return _link_error(exc)
    return "symlink to something that is not a file or folder"


def _link_error(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "broken symlink (its target does not exist)"
    return f"cannot follow the symlink: {_reason(exc)}"


def _identities(paths: Iterable[str | Path]) -> set[tuple[int, int]]:
    identities = set()
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
            identities.add((st.st_dev, st.st_ino))
    return identities


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc)).lower()
