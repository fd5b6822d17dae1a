"""convcost: architecture cost calculator for convolutional networks.

>>> import convcost
>>> spec = convcost.load_spec("specs/googlenet-5x5-bottleneck.yaml")   # doctest: +SKIP
>>> convcost.analyze(spec).totals.macs                                  # doctest: +SKIP
12443648
"""

from convcost.build import build
from convcost.engine import analyze, analyze_all, analyze_network
from convcost.errors import (
    ConvcostError,
    ExecutionError,
    ExitStatus,
    Location,
    ResourceLimitError,
    ShapeError,
    SpecError,
)
from convcost.network import Network
from convcost.receptive import Coverage, ReceptiveField
from convcost.report import BlockReport, Cost, Diagnostic, LayerReport, Report
from convcost.spec import Spec, Variant, load_spec, parse_spec
from convcost.version import __version__

__all__ = [
    "BlockReport",
    "ConvcostError",
    "Cost",
    "Coverage",
    "Diagnostic",
    "ExecutionError",
    "ExitStatus",
    "LayerReport",
    "Location",
    "Network",
    "ReceptiveField",
    "Report",
    "ResourceLimitError",
    "ShapeError",
    "Spec",
    "SpecError",
    "Variant",
    "__version__",
    "analyze",
    "analyze_all",
    "analyze_network",
    "build",
    "load_spec",
    "parse_spec",
]
