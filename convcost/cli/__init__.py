"""The ``convcost`` command: parse arguments, call the library, render, pick an exit code.

One module per family of commands, all registered on the app in :mod:`convcost.cli.common`;
importing them here registers them, in the order ``convcost --help`` lists them.
"""

# isort: off
from convcost.cli import analyze  # noqa: F401  (analyze, zoo)
from convcost.cli import compare  # noqa: F401  (compare, explain)
from convcost.cli import check  # noqa: F401  (check, schema)
from convcost.cli import importing  # noqa: F401  (import)

# isort: on
from convcost.cli.common import app
from convcost.cli.entry import main
from convcost.errors import ExitStatus

__all__ = ["ExitStatus", "app", "main"]
