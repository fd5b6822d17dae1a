"""Several conventions side by side (``compare --convention a,b,…``): each total and its
difference from convcost's exact MACs, attributed to rule families."""

from __future__ import annotations

from convcost.conventions.count import ConventionReport
from convcost.conventions.rules import FAMILIES
from convcost.valueclasses import dataclass

BASE = "conv and linear"


@dataclass(frozen=True, slots=True)
class Side:
    """One convention's total on one report."""

    name: str
    unit: str
    total: int
    exact_macs: int
    """convcost's MACs in this convention's unit (2 × MACs for a FLOPs convention)."""
    families: dict[str, int]
    """Difference from ``exact_macs`` per family (families with a zero share left out)."""
    unsupported: tuple[str, ...]
    """Paths of layers the convention does not reproduce (their counts are left out)."""

    @property
    def difference(self) -> int:
        return self.total - self.exact_macs


def side(counted: ConventionReport) -> Side:
    factor = 2 if counted.convention.unit == "FLOPs" else 1
    exact = factor * sum(layer.macs for layer in counted.layers if layer.value is not None)
    sums = counted.families()
    sums[BASE] -= exact
    return Side(
        name=counted.convention.name,
        unit=counted.convention.unit,
        total=counted.total,
        exact_macs=exact,
        families={family: sums[family] for family in FAMILIES if sums[family]},
        unsupported=tuple(layer.path for layer in counted.unsupported),
    )


def shown_families(sides: list[Side]) -> list[str]:
    """The families with a non-zero share in any of ``sides``, in :data:`FAMILIES` order."""
    return [family for family in FAMILIES if any(family in s.families for s in sides)]
