'''convcost: architecture cost calculator for convolutional networks.

A spec is YAML (a file for :func:`load_spec`, text for :func:`parse_spec`); :func:`analyze_all`
reports every variant, :func:`analyze` the first. GoogLeNet's 5×5 branch on a 28×28×192
input, straight or behind a 1×1 bottleneck of 16 filters
(``specs/googlenet-5x5-branch.yaml``):

>>> import convcost
>>> spec = convcost.parse_spec("""
... name: googlenet-5x5-branch
... input: [192, 28, 28]
... variants:
...   direct:
...     - conv: {out: 32, kernel: 5, padding: same}
...   bottleneck:
...     - conv: {out: 16, kernel: 1}
...     - conv: {out: 32, kernel: 5, padding: same}
... """)
>>> [(report.name, report.totals.macs) for report in convcost.analyze_all(spec)]
[('direct', 120422400), ('bottleneck', 12443648)]
>>> convcost.analyze(spec).totals.params
153632

(28·28 outputs × 32 filters × 5·5·192 = 120,422,400 MACs; 784·16·192 + 784·32·5·5·16 =
12,443,648; 32·(5·5·192 + 1) = 153,632 parameters.)

The names below are loaded on first use, so ``import convcost`` (and the command line's
start, which Ctrl-C may interrupt) stays light.
'''

from __future__ import annotations

import importlib
import sys
import types

from convcost.version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without loading typing (start-up); mypy reads it
if TYPE_CHECKING:
    from convcost.build import build
    from convcost.engine import analyze, analyze_all, analyze_network
    from convcost.errors import (
        ConvcostError,
        ExecutionError,
        ExitStatus,
        Location,
        ModelError,
        ResourceLimitError,
        ShapeError,
        SpecError,
    )
    from convcost.file_paths import is_model_path
    from convcost.importer import import_model, import_torch, load_model
    from convcost.network import Network
    from convcost.receptive import Coverage, ReceptiveField
    from convcost.report import BlockReport, Cost, Diagnostic, LayerReport, Report
    from convcost.spec import Spec, Variant, load_spec, parse_spec

_EXPORTS = {
    "build": "convcost.build",
    "analyze": "convcost.engine",
    "analyze_all": "convcost.engine",
    "analyze_network": "convcost.engine",
    "ConvcostError": "convcost.errors",
    "ExecutionError": "convcost.errors",
    "ExitStatus": "convcost.errors",
    "Location": "convcost.errors",
    "ModelError": "convcost.errors",
    "ResourceLimitError": "convcost.errors",
    "ShapeError": "convcost.errors",
    "SpecError": "convcost.errors",
    "import_model": "convcost.importer",
    "import_torch": "convcost.importer",
    "is_model_path": "convcost.file_paths",
    "load_model": "convcost.importer",
    "Network": "convcost.network",
    "Coverage": "convcost.receptive",
    "ReceptiveField": "convcost.receptive",
    "BlockReport": "convcost.report",
    "Cost": "convcost.report",
    "Diagnostic": "convcost.report",
    "LayerReport": "convcost.report",
    "Report": "convcost.report",
    "Spec": "convcost.spec",
    "Variant": "convcost.spec",
    "load_spec": "convcost.spec",
    "parse_spec": "convcost.spec",
}
"""Each public name and the module that defines it."""

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
    "ModelError",
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
    "import_model",
    "import_torch",
    "is_model_path",
    "load_model",
    "load_spec",
    "parse_spec",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'convcost' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Package(types.ModuleType):
    """Keeps ``convcost.build`` the function: importing the submodule ``convcost.build`` sets
    the package's attribute to the module, which an eager ``from … import build`` used to
    overwrite again."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
