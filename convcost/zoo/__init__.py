"""Bundled model specs, reachable by name (``convcost analyze resnet50``)."""

from __future__ import annotations

from pathlib import Path

ZOO_DIR = Path(__file__).parent


def names() -> list[str]:
    """The bundled models, sorted."""
    return sorted(path.stem for path in ZOO_DIR.glob("*.yaml"))


def find(name: str) -> Path | None:
    """The bundled spec called ``name`` (``resnet50``, ``resnet50.yaml``), or ``None``."""
    stem = name.removesuffix(".yaml")
    # looked up among the bundled names, never as a path: any text is safe to pass
    return ZOO_DIR / f"{stem}.yaml" if stem in names() else None
