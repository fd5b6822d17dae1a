"""Device profiles: peak FLOP/s per dtype, memory bandwidth, and per kernel class the share
of each a runtime reaches and a fixed cost per layer (docs/latency.md).

A profile is a small YAML file read through the spec reader (:func:`convcost.document.compose`),
so a bad value is one line naming ``file:line:col`` and the field. The bundled ones live in
``convcost/latency/profiles/``; ``--device NAME`` finds them, ``--device FILE`` reads a file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from convcost.document import compose
from convcost.errors import Location, SpecError
from convcost.latency.fusion import parse_fuses
from convcost.latency.kernels import KERNEL_OF, KernelClass
from convcost.latency.quantities import RATE_FORMS, TIME_FORMS, parse_rate, parse_seconds
from convcost.layers.registry import KIND_NAMES
from convcost.limits import DEFAULT_LIMITS
from convcost.names import check_key, check_keys, did_you_mean
from convcost.report import DTYPE_BYTES
from convcost.spec_bytes import decode, read_file
from convcost.tree import Map, Scalar, Value, describe
from convcost.valueclasses import dataclass, field

PROFILES_DIR = Path(__file__).parent / "profiles"

HALF_KEYS = ("half_m", "half_n", "half_k", "half_im2col")
"""An efficiency's half sizes (:mod:`convcost.latency.shape`)."""
MAX_SHARE = 4.0
"""The largest share of peak or bandwidth a profile accepts (a calibrated runtime may beat a
datasheet figure, or a cache the no-reuse traffic convention)."""
SHAPED = (KernelClass.GEMM, KernelClass.DEPTHWISE)
"""The classes whose rate depends on their product's shape."""

TOP_KEYS = (
    "device",
    "calibrated",
    "backend",
    "threads",
    "peak_flops",
    "memory_bandwidth",
    "overhead",
    "im2col",
    "fuses",
    "probe",
    "efficiency",
)
SPILL_KEYS = ("cache", "spill")
"""A GEMM's weights beyond ``cache`` bytes move at ``spill`` · bandwidth
(:func:`convcost.latency.shape.memory_seconds`)."""
EFFICIENCY_KEYS = ("compute", "memory", "overhead", *HALF_KEYS, *SPILL_KEYS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Efficiency:
    """What one kernel class reaches on the device."""

    compute: float = 1.0
    """The share of the peak FLOP/s its arithmetic runs at."""
    memory: float = 1.0
    """The share of the memory bandwidth its traffic moves at."""
    overhead: float | None = None
    """Seconds per layer of this class; ``None`` for the profile's ``overhead``."""
    half_m: float = 0.0
    """The product's rows M (output positions × batch) at which the rate halves
    (:mod:`convcost.latency.shape`); 0: no dependence, as every datasheet profile."""
    half_n: float = 0.0
    """The columns N (output channels; a depthwise conv's channels) at which it halves."""
    half_k: float = 0.0
    """The depth K (C_in/groups · ∏k; a depthwise conv's taps ∏k) at which it halves."""
    half_im2col: float = 0.0
    """The columns N at which a conv's copy of its windows (im2col) alone halves the rate."""
    cache: float = 0.0
    """Bytes of a GEMM's weights that move at ``memory``; those beyond move at ``spill``."""
    spill: float = 0.0
    """The share of the bandwidth a GEMM's weights beyond ``cache`` move at (0: no limit)."""

    @property
    def half(self) -> tuple[float, float, float, float]:
        return self.half_m, self.half_n, self.half_k, self.half_im2col


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceProfile:
    name: str
    """The bundled name, or the file's path."""
    device: str
    """What the profile describes, in words."""
    calibrated: bool
    """False for a datasheet roofline bound; true once ``convcost calibrate`` fitted it."""
    backend: str | None
    """The runtime the calibration measured (``numpy``, ``onnxruntime``), or none."""
    threads: int | None
    peak_flops: dict[str, float]
    """Peak FLOP/s per dtype (``float32``, …)."""
    memory_bandwidth: float
    """Bytes per second."""
    overhead: float = 0.0
    """Seconds every layer costs besides its roofline time (dispatch, allocation)."""
    im2col: bool = False
    """The runtime copies every k×k window of a convolution into a matrix before its product
    (as the NumPy executor and CPU runtimes do): the memory term of such a conv also counts
    that matrix, written once and read once (:func:`convcost.latency.estimate.im2col_elements`)."""
    fuses: tuple[str, ...] = ()
    """The layer kinds the runtime folds into the conv before them (their time is the conv's,
    :mod:`convcost.latency.fusion`): what ``calibrate --backend onnxruntime`` saw folded."""
    probe: float | None = None
    """The speed probe's rate (FLOP/s) while calibrating (:mod:`convcost.latency.probe`): the
    machine's speed the profile holds for; ``None`` for a datasheet profile."""
    efficiency: dict[str, Efficiency] = field(default_factory=dict)
    """Per kernel class (``gemm``, …) and, where a calibration found one differing from its
    class, per layer kind (``sigmoid``, …): a kind's entry wins over its class's."""

    def of(self, kind: str, kernel: KernelClass) -> Efficiency:
        if kernel is KernelClass.FUSED:  # one entry for every folded layer, whatever its kind
            return self.efficiency.get(kernel.value, _FULL)
        found = self.efficiency.get(kind)
        if found is None:
            found = self.efficiency.get(kernel.value, _FULL)
        return found

    def layer_overhead(self, kind: str, kernel: KernelClass) -> float:
        own = self.of(kind, kernel).overhead
        if own is None:
            own = self.efficiency.get(kernel.value, _FULL).overhead
        return self.overhead if own is None else own


_FULL = Efficiency()


def bundled_names() -> list[str]:
    return sorted(path.stem for path in PROFILES_DIR.glob("*.yaml"))


def load_profile(name_or_path: str) -> DeviceProfile:
    """A bundled profile by name, or a profile file. Raises :class:`SpecError` (exit 2) with
    the location of a bad value, or naming the bundled profiles for an unknown name."""
    names = bundled_names()
    if name_or_path in names:
        return parse_profile(
            (PROFILES_DIR / f"{name_or_path}.yaml").read_text(encoding="utf-8"),
            source=name_or_path,
        )
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        raise SpecError(
            f"--device {name_or_path!r}: no bundled device profile of that name"
            f"{did_you_mean(name_or_path, names)}; bundled: {', '.join(names)} "
            "(or give a profile file written by convcost calibrate)"
        )
    text = decode(read_file(path, DEFAULT_LIMITS), str(path))
    return parse_profile(text, source=str(path))


def parse_profile(text: str, *, source: str = "<string>") -> DeviceProfile:
    root = compose(text, source, DEFAULT_LIMITS)
    if not isinstance(root, Map):
        where = root.location if root is not None else Location(source, 1, 1)
        raise SpecError("a device profile must be a mapping of fields", location=where)
    check_keys(root, TOP_KEYS, "profile field")
    for required in ("peak_flops", "memory_bandwidth"):
        if root.get(required) is None:
            raise SpecError(
                f"a device profile needs {required!r}", location=root.location, field=required
            )
    return DeviceProfile(
        name=source,
        device=_text(root, "device", source),
        calibrated=_flag(root, "calibrated"),
        backend=_text(root, "backend", "") or None,
        threads=_threads(root),
        peak_flops=_peaks(root),
        memory_bandwidth=_rate(root.get("memory_bandwidth"), "memory_bandwidth"),
        overhead=_seconds(root.get("overhead"), "overhead", 0.0),
        im2col=_flag(root, "im2col"),
        fuses=parse_fuses(root.get("fuses")),
        probe=_probe(root),
        efficiency=_efficiencies(root.get("efficiency")),
    )


def _scalar(value: Value, what: str) -> Scalar:
    if not isinstance(value, Scalar):
        raise SpecError(
            f"must be a single value, got {describe(value)}", location=value.location, field=what
        )
    return value


def _text(root: Map, key: str, default: str) -> str:
    value = root.get(key)
    if value is None:
        return default
    scalar = _scalar(value, key)
    if scalar.value is None:
        return default
    return str(scalar.value)


def _flag(root: Map, key: str) -> bool:
    value = root.get(key)
    if value is None:
        return False
    scalar = _scalar(value, key)
    if not isinstance(scalar.value, bool):
        raise SpecError(
            f"must be true or false, got {scalar.text or scalar.value!r}",
            location=scalar.location,
            field=key,
        )
    return scalar.value


def _threads(root: Map) -> int | None:
    value = root.get("threads")
    if value is None:
        return None
    scalar = _scalar(value, "threads")
    if scalar.value is None:
        return None
    if type(scalar.value) is not int or scalar.value < 1:
        raise SpecError(
            f"must be an integer >= 1, got {scalar.text or scalar.value!r}",
            location=scalar.location,
            field="threads",
        )
    return scalar.value


def _number(value: Value | None, what: str, parse: object, forms: str, *, positive: bool) -> float:
    assert value is not None
    scalar = _scalar(value, what)
    raw = scalar.value if not isinstance(scalar.value, str) else scalar.text or scalar.value
    parsed = parse(raw) if callable(parse) else None
    if parsed is None or (positive and parsed <= 0):
        shown = scalar.text or repr(scalar.value)
        need = "a positive value" if positive else "a value >= 0"
        raise SpecError(
            f"must be {need}: {forms}; got {shown}", location=scalar.location, field=what
        )
    return float(parsed)


def _rate(value: Value | None, what: str) -> float:
    return _number(value, what, parse_rate, RATE_FORMS, positive=True)


def _seconds(value: Value | None, what: str, default: float) -> float:
    if value is None:
        return default
    return _number(value, what, parse_seconds, TIME_FORMS, positive=False)


def _probe(root: Map) -> float | None:
    value = root.get("probe")
    if value is None or (isinstance(value, Scalar) and value.value is None):
        return None
    return _rate(value, "probe")


def _peaks(root: Map) -> dict[str, float]:
    value = root.get("peak_flops")
    if not isinstance(value, Map) or len(value) == 0:
        where = value.location if value is not None else root.location
        raise SpecError(
            "must map dtypes to FLOP/s, e.g. {float32: 19.5T}", location=where, field="peak_flops"
        )
    check_keys(value, tuple(DTYPE_BYTES), "dtype", field="peak_flops")
    return {str(key.value): _rate(rate, f"peak_flops.{key.value}") for key, rate in value.entries}


def _efficiencies(value: Value | None) -> dict[str, Efficiency]:
    if value is None:
        return {}
    if not isinstance(value, Map):
        raise SpecError(
            "must map kernel classes (or layer kinds) to {compute, memory, overhead}",
            location=value.location,
            field="efficiency",
        )
    classes = tuple(kernel.value for kernel in KernelClass)
    for key, _ in value.entries:
        if str(key.value) not in KIND_NAMES:
            check_key(key, classes, "kernel class or layer kind", field="efficiency")
    result: dict[str, Efficiency] = {}
    for key, entry in value.entries:
        what = f"efficiency.{key.value}"
        if not isinstance(entry, Map):
            raise SpecError(
                "must be a mapping such as {compute: 0.5, memory: 0.8}",
                location=entry.location,
                field=what,
            )
        check_keys(entry, EFFICIENCY_KEYS, "efficiency field", field=what)
        shares = {}
        for part in ("compute", "memory"):
            given = entry.get(part)
            shares[part] = 1.0 if given is None else _share(given, f"{what}.{part}")
        overhead = entry.get("overhead")
        result[str(key.value)] = Efficiency(
            compute=shares["compute"],
            memory=shares["memory"],
            overhead=None if overhead is None else _seconds(overhead, f"{what}.overhead", 0.0),
            **_halves(entry, str(key.value), what),
            **_spill(entry, str(key.value), what),
        )
    return result


def _halves(entry: Map, name: str, what: str) -> dict[str, float]:
    """An entry's half sizes, each a number >= 0; only a GEMM or depthwise class (or a kind of
    one) has a shape."""
    return _class_parts(
        entry,
        name,
        what,
        HALF_KEYS,
        SHAPED,
        "only the gemm and depthwise classes (and their kinds) have a shape",
        lambda given, part: _number(
            given, f"{what}.{part}", parse_rate, "a size, e.g. 16 (0: none)", positive=False
        ),
    )


def _spill(entry: Map, name: str, what: str) -> dict[str, float]:
    """An entry's ``cache`` (bytes >= 0) and ``spill`` (a share); only a GEMM reads weights."""
    return _class_parts(
        entry,
        name,
        what,
        SPILL_KEYS,
        (KernelClass.GEMM,),
        "only the gemm class (and its kinds) reads weights",
        lambda given, part: (
            _number(given, f"{what}.cache", parse_rate, "bytes, e.g. 64M (0: none)", positive=False)
            if part == "cache"
            else _share(given, f"{what}.spill")
        ),
    )


def _class_parts(
    entry: Map,
    name: str,
    what: str,
    keys: tuple[str, ...],
    classes: tuple[KernelClass, ...],
    only: str,
    read: Callable[[Value, str], float],
) -> dict[str, float]:
    """The ``keys`` an entry gives, each ``read``; refused (``only`` says why) for an entry
    whose kernel class is not one of ``classes``."""
    result = {}
    for part in keys:
        given = entry.get(part)
        if given is None:
            continue
        kernel = KERNEL_OF.get(name) or KernelClass(name)
        if kernel not in classes:
            raise SpecError(
                f"{only}; {name!r} is {kernel.value}",
                location=given.location,
                field=f"{what}.{part}",
            )
        result[part] = read(given, part)
    return result


def _share(value: Value, what: str) -> float:
    share = _number(value, what, parse_rate, "a share of the peak, e.g. 0.5", positive=True)
    if share > MAX_SHARE:
        scalar = _scalar(value, what)
        raise SpecError(
            f"must be a share of the peak (at most 4, for a calibrated runtime that beats the "
            f"datasheet), got {scalar.text or scalar.value}",
            location=scalar.location,
            field=what,
        )
    return share
