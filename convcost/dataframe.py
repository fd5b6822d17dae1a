"""A report as a pandas DataFrame, one row per layer (pandas is optional: ``convcost[pandas]``).

The columns are the JSON report's layer fields (docs/json-format.md), shapes as tuples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcost.errors import ConvcostError
from convcost.serialize import report_to_dict

if TYPE_CHECKING:
    from convcost.report import Report

PANDAS_MISSING = "Report.to_dataframe needs pandas: pip install 'convcost[pandas]'"


def report_dataframe(report: Report) -> Any:  # pandas.DataFrame (pandas ships no type hints)
    """One row per layer in execution order, with the JSON report's layer fields as columns."""
    try:
        import pandas  # noqa: PLC0415  (optional; never loaded by analyze)
    except ImportError:
        raise ConvcostError(PANDAS_MISSING) from None
    rows = report_to_dict(report)["layers"]
    for row in rows:
        for key in ("input_shape", "output_shape", "receptive_field", "jump"):
            if row[key] is not None:
                row[key] = tuple(row[key])
    columns = list(rows[0]) if rows else ["path", "kind"]
    return pandas.DataFrame(rows, columns=columns)
