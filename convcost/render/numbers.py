"""Human-readable numbers, shapes and receptive fields."""

from __future__ import annotations

from convcost.layers import Shape
from convcost.receptive import Coverage, ReceptiveField, plain

_SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_BINARY = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def count(value: int, *, exact: bool = False) -> str:
    """``120.4 M`` (SI, powers of 1000), or ``120,422,400`` when exact; small values as they are."""
    if exact or abs(value) < 1000:
        return f"{value:,}"
    for scale, suffix in _SI:
        if abs(value) >= scale:
            return f"{value / scale:.1f} {suffix}"
    raise AssertionError("unreachable: |value| >= 1000 matches K")


def size(value: int, *, exact: bool = False) -> str:
    """Bytes in binary units: ``1.5 MiB``; exact prints ``1,572,864 B``."""
    if exact or value < 1024:
        return f"{value:,} B"
    for scale, suffix in _BINARY:
        if value >= scale:
            return f"{value / scale:.1f} {suffix}"
    raise AssertionError("unreachable: value >= 1024 matches KiB")


def shape(value: Shape) -> str:
    return "×".join(str(v) for v in value)


def _axes(values: list[int | float]) -> str:
    shown = [str(v) if isinstance(v, int) else f"{v:g}" for v in values]
    if len(set(shown)) == 1:
        return shown[0]
    return "×".join(shown)


def receptive(field: ReceptiveField) -> str:
    """``7`` (same on every axis), ``7×3``, ``global`` or ``?``."""
    if field.coverage is Coverage.GLOBAL:
        return "global"
    if field.coverage is Coverage.UNKNOWN:
        return "?"
    return _axes(plain(field.size))


def jump(field: ReceptiveField) -> str:
    if field.coverage is not Coverage.LOCAL:
        return "—"
    return _axes(plain(field.jump))


def share(part: int, whole: int) -> str:
    if whole == 0:
        return "—"
    return f"{100 * part / whole:.1f}%"
