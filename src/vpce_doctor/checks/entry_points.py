"""Outside checks' entry points, read straight from the distributions on sys.path.

importlib.metadata.entry_points() gives the same answer, but importing it costs ~30 ms of CPU
(email, zipfile, csv, pathlib) on every run of a tool whose whole check should take a few
hundred. What it reads is simple: each `*.dist-info/entry_points.txt` (or `*.egg-info/`) in a
sys.path directory or zip, or `EGG-INFO/entry_points.txt` of a legacy `.egg` on sys.path, an INI
file whose `[group]` section lists `name = module:attr`.
As there, the first distribution of a (normalised) name on sys.path wins, and a check name two
distributions register is the later one's (the `{ep.name: ep.value}` the loader used to build).
"""
from __future__ import annotations

import os
import re
import sys
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

_META_DIR = re.compile(r"^(?P<name>[^-/]+)(?:-[^/]*)?\.(?:dist|egg)-info$", re.I)
_FILE_LIMIT = 1 << 20  # an entry_points.txt bigger than this is not one worth parsing


def group(name: str, path: Optional[Sequence[str]] = None) -> Dict[str, str]:
    """{entry point name: "module:attr"} of one group over every distribution on path."""
    found: Dict[str, str] = {}
    seen_dists = set()
    for dist, text in _entry_point_files(sys.path if path is None else path):
        if dist in seen_dists:
            continue  # a second copy of a distribution later on the path is shadowed
        seen_dists.add(dist)
        for key, value in _section(text, name):
            found[key] = value
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _entry_point_files(path: Iterable[str]):
    """(normalised distribution name, entry_points.txt text), in sys.path order."""
    for entry in path:
        entry = entry or "."
        try:
            if entry.lower().endswith(".egg"):
                yield from _from_egg(entry)
            elif os.path.isdir(entry):
                yield from _from_directory(entry)
            elif os.path.isfile(entry):
                yield from _from_zip(entry)
        except (OSError, ValueError):
            continue  # an unreadable path entry has no checks for us, as it has no modules for import


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as handle:
            return handle.read(_FILE_LIMIT).decode("utf-8", "replace")
    except OSError:
        return None  # no entry points (most distributions), or not readable


def _from_directory(directory: str):
    for child in sorted(os.listdir(directory)):
        match = _META_DIR.match(child)
        text = _read_text(os.path.join(directory, child, "entry_points.txt")) if match else None
        if text is not None:
            yield _normalise(match.group("name")), text


def _from_egg(egg: str):
    """A legacy egg (a directory or a zip named `name-version-pyX.Y.egg`) holds its own metadata."""
    name = _normalise(os.path.basename(egg).split("-")[0])
    if os.path.isdir(egg):
        text = _read_text(os.path.join(egg, "EGG-INFO", "entry_points.txt"))
        if text is not None:
            yield name, text
        return
    import zipfile

    if not zipfile.is_zipfile(egg):
        return
    with zipfile.ZipFile(egg) as z:
        try:
            info = z.getinfo("EGG-INFO/entry_points.txt")
        except KeyError:
            return
        if info.file_size <= _FILE_LIMIT:
            yield name, z.read(info).decode("utf-8", "replace")


def _from_zip(archive: str):
    import zipfile  # only a zip on sys.path (the single-file archive) needs it

    if not zipfile.is_zipfile(archive):
        return
    with zipfile.ZipFile(archive) as z:
        for member in sorted(z.namelist()):
            top, _, rest = member.partition("/")
            match = _META_DIR.match(top)
            if match and rest == "entry_points.txt" and z.getinfo(member).file_size <= _FILE_LIMIT:
                yield _normalise(match.group("name")), z.read(member).decode("utf-8", "replace")


def _section(text: str, wanted: str) -> List[Tuple[str, str]]:
    """`name = value` lines of the [wanted] section; comments and blank lines skipped."""
    pairs: List[Tuple[str, str]] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current == wanted and "=" in line:
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs
