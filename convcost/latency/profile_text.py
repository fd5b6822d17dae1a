"""A device profile as the YAML text :func:`convcost.latency.profile.parse_profile` reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcost.latency.profile import HALF_KEYS

if TYPE_CHECKING:
    from convcost.latency.profile import DeviceProfile


def profile_yaml(profile: DeviceProfile, *, comments: tuple[str, ...] = ()) -> str:
    """The profile as the YAML text :func:`parse_profile` reads back (floats written with
    ``repr``, so reading gives the same values)."""
    lines = [f"# {line}" for line in comments]
    lines += [
        f"device: {_quoted(profile.device)}",
        f"calibrated: {'true' if profile.calibrated else 'false'}",
        f"backend: {profile.backend or 'null'}",
        f"threads: {profile.threads if profile.threads is not None else 'null'}",
        "peak_flops:             # FLOP/s per dtype",
        *(f"  {dtype}: {_float(rate)}" for dtype, rate in profile.peak_flops.items()),
        f"memory_bandwidth: {_float(profile.memory_bandwidth)}   # bytes/s",
        f"overhead: {_float(profile.overhead)}   # seconds per layer",
        f"im2col: {'true' if profile.im2col else 'false'}   # true: a k×k conv's window matrix counts in its bytes",
    ]
    if profile.fuses:
        lines.append(f"fuses: [{', '.join(profile.fuses)}]   # folded into the conv before them")
    if profile.probe is not None:
        lines.append(
            f"probe: {_float(profile.probe)}   # FLOP/s of the speed probe while calibrating"
        )
    if profile.efficiency:
        lines.append(
            "efficiency:             # share of peak FLOP/s and bandwidth per kernel class"
        )
        for kernel, share in profile.efficiency.items():
            extra = "" if share.overhead is None else f", overhead: {_float(share.overhead)}"
            if any(share.half):
                extra += "".join(
                    f", {key}: {_float(value)}"
                    for key, value in zip(HALF_KEYS, share.half, strict=True)
                )
            if share.cache and share.spill:
                extra += f", cache: {_float(share.cache)}, spill: {_float(share.spill)}"
            lines.append(
                f"  {kernel}: {{compute: {_float(share.compute)}, "
                f"memory: {_float(share.memory)}{extra}}}"
            )
    return "\n".join(lines) + "\n"


def _float(value: float) -> str:
    text = repr(float(value))
    return text if "e" not in text or "." in text.split("e")[0] else text.replace("e", ".0e")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
