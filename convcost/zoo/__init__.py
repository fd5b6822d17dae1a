"""Bundled model specs, reachable by name (``convcost analyze resnet50``).

The command line asks :func:`spec_file` (a file name as text): :func:`find` and ``ZOO_DIR``
give ``Path`` objects, and pathlib is imported for them only (issue 18, start-up).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from convcost.file_paths import path_parent, path_stem

if TYPE_CHECKING:
    from pathlib import Path

    ZOO_DIR: Path

FOLDER = path_parent(__file__)
"""The folder of the bundled specs (``str(ZOO_DIR)``)."""


def names() -> list[str]:
    """The bundled models, sorted."""
    return sorted(path_stem(name) for name in os.listdir(FOLDER) if name.endswith(".yaml"))


def spec_file(name: str) -> str | None:
    """The file of the bundled spec called ``name`` (``resnet50``, ``resnet50.yaml``), or
    ``None``."""
    stem = name.removesuffix(".yaml")
    # looked up among the bundled names, never as a path: any text is safe to pass
    return os.path.join(FOLDER, f"{stem}.yaml") if stem in names() else None


def find(name: str) -> Path | None:
    """The bundled spec called ``name`` (``resnet50``, ``resnet50.yaml``), or ``None``."""
    from pathlib import Path  # noqa: PLC0415  (the command line asks spec_file)

    found = spec_file(name)
    return None if found is None else Path(found)


def __getattr__(name: str) -> object:
    if name == "ZOO_DIR":  # a Path, made on first use
        from pathlib import Path  # noqa: PLC0415

        return Path(FOLDER)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
