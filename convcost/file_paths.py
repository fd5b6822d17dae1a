"""File names as :mod:`pathlib` spells them, without importing it; and whether one names a
model file.

``pathlib`` and what it loads (``urllib.parse``, ``ipaddress``, ``fnmatch``, ``ntpath``) were
~6% of the instructions of ``convcost analyze resnet50`` (issue 18), which needs no more of a
spec's file name than its text as ``str(Path(name))`` writes it (messages name a file that
way), its last component and its stem. These functions give exactly what the ``Path`` methods
give (tests/test_file_paths.py holds them to pathlib); on a system whose separator is not ``/``
(Windows: drives, two separators) they ask pathlib itself.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

MODEL_SUFFIXES = (".onnx",)
"""File suffixes (compared without case) read as models rather than as YAML specs."""

_POSIX = os.sep == "/" and os.altsep is None
"""pathlib's POSIX rules, written out below, are this system's."""


def is_model_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a model file (``.onnx``) rather than a spec."""
    return os.fspath(path).lower().endswith(MODEL_SUFFIXES)


def path_text(path: str | os.PathLike[str]) -> str:
    """``str(Path(path))``: empty and ``.`` components and a trailing ``/`` dropped (``./a//b/``
    is ``a/b``), ``.`` for an empty path."""
    if not _POSIX:
        return str(_pathlib(path))
    root, parts = _parse(path)
    return _format(root, parts)


def path_name(path: str | os.PathLike[str]) -> str:
    """``Path(path).name``: the last component (empty for ``/`` or ``.``)."""
    if not _POSIX:
        return _pathlib(path).name
    _, parts = _parse(path)
    return parts[-1] if parts else ""


def path_stem(path: str | os.PathLike[str]) -> str:
    """``Path(path).stem``: the last component without its suffix (``a.tar.gz`` → ``a.tar``;
    ``.bashrc`` and ``a.`` keep theirs)."""
    if not _POSIX:
        return _pathlib(path).stem
    name = path_name(path)
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def path_parent(path: str | os.PathLike[str]) -> str:
    """``str(Path(path).parent)``: without the last component (``a`` → ``.``; ``/`` is its
    own parent)."""
    if not _POSIX:
        return str(_pathlib(path).parent)
    root, parts = _parse(path)
    return _format(root, parts[:-1])


def path_join(base: str | os.PathLike[str], name: str) -> str:
    """``str(Path(base) / name)``: ``name`` below ``base``, or ``name`` alone when it is
    absolute."""
    if not _POSIX:
        return str(_pathlib(base) / name)
    return path_text(os.path.join(path_text(base), name))


def _parse(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """The root (``""``, ``/``, or ``//``, which POSIX leaves to the system) and the components
    of ``path``, as pathlib's POSIX flavour splits them."""
    text = os.fspath(path)
    if not isinstance(text, str):  # bytes: pathlib's own refusal
        raise TypeError(
            "argument should be a str object or an os.PathLike object returning str, "
            f"not {type(text)!r}"
        )
    root = ""
    if text.startswith("/"):
        rest = text.lstrip("/")
        root = "//" if len(text) - len(rest) == 2 else "/"
        text = rest
    return root, [part for part in text.split("/") if part and part != "."]


def _format(root: str, parts: list[str]) -> str:
    return root + "/".join(parts) if root or parts else "."


def _pathlib(path: str | os.PathLike[str]) -> Path:  # pragma: no cover (Windows)
    from pathlib import Path  # noqa: PLC0415  (this system's rules are not POSIX's)

    return Path(path)
