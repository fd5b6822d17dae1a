"""Whether rich would draw styles on a stream, and how wide it would lay a table out there,
decided as ``rich.console.Console`` 15 decides both, without importing rich.

:func:`plain_width` answers only where the answer is certain: on Windows (legacy consoles),
in Jupyter, on a stream whose encoding is not UTF-8 (rich draws an ASCII box there) and on a
dumb terminal, it answers None and rich draws.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import TextIO


def plain_width(stream: TextIO, *, width: int | None, styles: bool) -> int | None:
    """The width of ``Console(file=stream, width=width)`` (with ``color_system=None`` when
    not ``styles``) when that console would draw no styles; None when it would draw them, or
    where this function does not follow rich."""
    if sys.platform == "win32" or hasattr(builtins, "get_ipython"):
        return None
    encoding = (getattr(stream, "encoding", "utf-8") or "utf-8").lower()
    if not encoding.startswith("utf"):
        return None
    environ = os.environ
    terminal = _is_terminal(stream, environ)
    if terminal and environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return None
    if styles and terminal:
        return None
    if width is None:
        columns = environ.get("COLUMNS")
        if columns is not None and columns.isdigit():
            width = int(columns)
    if width is None:
        for descriptor in (0, 1, 2):  # rich asks standard input, output and error in turn
            try:
                width = os.get_terminal_size(descriptor).columns
            except (AttributeError, ValueError, OSError):
                continue
            break
        width = width or 80
    return width


def _is_terminal(stream: TextIO, environ: os._Environ[str]) -> bool:
    """``Console.is_terminal``."""
    module = getattr(sys.stdin, "__module__", None)
    if isinstance(module, str) and module.startswith("idlelib"):
        return False
    compatible = environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    isatty = getattr(stream, "isatty", None)
    try:
        return False if isatty is None else bool(isatty())
    except ValueError:
        return False
