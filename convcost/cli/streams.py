"""Standard streams that cannot fail a command: ASCII stand-ins on a terminal or pipe that is
not UTF-8, a stream silenced once it has failed (so the flush at exit cannot fail again), one
line on standard error, and ``convcost --version`` (which needs nothing else).

Light on purpose (no typer, no rich, no dataclasses): ``convcost --version`` imports only this
module and :mod:`convcost.version`."""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without loading typing (start-up); mypy reads it
if TYPE_CHECKING:
    from typing import TextIO


def print_version() -> int:
    """Write ``convcost VERSION`` to standard output; the exit status (0, or 2 when standard
    output is closed or fails, after one line on standard error; silent for a broken pipe)."""
    from convcost.version import __version__

    stream = sys.stdout
    if stream is None:
        return _output_failed("standard output is closed")
    try:
        stream.write(f"convcost {__version__}\n")
        stream.flush()
    except OSError as exc:
        return _output_failed(failed_output(stream, exc))
    return 0  # ExitStatus.OK: convcost.errors (and so dataclasses) is loaded only on failure


def _output_failed(message: str | None) -> int:
    from convcost.errors import ExitStatus

    if message is not None:
        say(f"error: {message}")
    return int(ExitStatus.INVALID_INPUT)


def failed_output(stream: TextIO | None, exc: OSError) -> str | None:
    """Silence standard output after ``exc``; the error to report (None for a broken pipe,
    which ends silently)."""
    silence(stream)
    if exc.errno == errno.EPIPE:
        return None
    return f"cannot write to standard output: {exc.strerror}"


def say(line: str) -> None:
    """One line on standard error, if there is one that works."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError):
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


def silence(stream: TextIO | None) -> None:
    """Send what is still buffered for ``stream`` to /dev/null, so that the flush at exit
    does not fail a second time (and print "Exception ignored")."""
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


_ASCII = {
    # one character for one where tables use them, so that columns stay aligned
    "×": "x",
    "·": "*",
    "…": ".",
    "—": "-",
    "–": "-",
    "−": "-",
    "→": "->",
    "←": "<-",
    "≤": "<=",
    "≥": ">=",
    "≈": "~",
    "±": "+-",
    "√": "sqrt",
    "²": "^2",
    "³": "^3",
    "⌈": "ceil(",
    "⌉": ")",
    "⌊": "floor(",
    "⌋": ")",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "━": "-",
    "─": "-",
    "│": "|",
}


def _ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    """Stand-ins for what an output encoding cannot hold: ASCII look-alikes for convcost's own
    symbols, ``\\uXXXX`` for anything else (valid inside a JSON string, too)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    parts = []
    for char in error.object[error.start : error.end]:
        if char in _ASCII:
            parts.append(_ASCII[char])
        else:
            code = ord(char)
            if code > 0xFFFF:  # a surrogate pair, as JSON writes it
                code -= 0x10000
                parts.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                parts.append(f"\\u{code:04x}")
    return "".join(parts), error.end


codecs.register_error("convcost-ascii", _ascii_fallback)


def degrade_to_ascii(stream: TextIO | None) -> None:
    """On a stream whose encoding is not UTF-8, write stand-ins instead of failing."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
    if stream is None or encoding in ("utf-8", "utf8"):
        return
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) != "convcost-ascii":
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="convcost-ascii")
