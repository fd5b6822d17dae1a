"""A spec's bytes, read safely from a file or a stream, and its UTF-8 text.

Bounded before anything is parsed: at most :attr:`Limits.max_spec_bytes` bytes are read, and
a path that is not a regular file (a FIFO, a device, a socket) is refused without blocking.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from convcost.errors import Location, ResourceLimitError, SpecError
from convcost.limits import Limits

_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_file(path: str | os.PathLike[str], limits: Limits) -> bytes:
    """The bytes of a regular file, refusing anything else without blocking on it."""
    path = os.fspath(path)  # as messages name it (a Path: its str)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError(f"{path} is a directory, not a spec file")
        _check_regular(path, info.st_mode)
        _check_size(info.st_size, path, limits)
        # O_NONBLOCK: a FIFO swapped in after the stat must not block the open
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise SpecError(f"no such spec file: {path}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SpecError(f"cannot read spec file {path}: {reason}") from None
    with os.fdopen(descriptor, "rb") as file:
        _check_regular(path, os.fstat(file.fileno()).st_mode)
        try:
            data = read_bounded(file, limits.max_spec_bytes + 1, first=info.st_size + 1)
        except OSError as exc:
            raise SpecError(f"cannot read spec file {path}: {exc.strerror}") from None
    _check_size(len(data), path, limits)
    return data


def read_stream(stream: BinaryIO, source: str, limits: Limits) -> bytes:
    """At most :attr:`Limits.max_spec_bytes` bytes of a stream (standard input for ``-``)."""
    try:
        data = read_bounded(stream, limits.max_spec_bytes + 1)
    except OSError as exc:
        raise SpecError(f"cannot read {source}: {exc.strerror or exc}") from None
    _check_size(len(data), source, limits, exact=False)
    return data


_PIECE = 2**20
"""Bytes read at a time: ``read(n)`` allocates ``n`` bytes before reading (``--max-spec-bytes``
may be up to 2⁶³ − 1), so memory follows what the input holds, not the bound."""


def read_bounded(stream: BinaryIO, size: int, *, first: int = _PIECE) -> bytes:
    """At most ``size`` bytes of ``stream`` (fewer at its end), ``first`` of them (a regular
    file's size and one: the whole file) in the first read."""
    pieces: list[bytes] = []
    left = size
    piece_size = first
    while left > 0:
        piece = stream.read(min(left, piece_size))
        piece_size = _PIECE
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def _check_regular(path: str, mode: int) -> None:
    for test, kind in _FILE_KINDS:
        if test(mode):
            raise SpecError(f"{path} is {kind}, not a regular file: convcost reads spec files")
    if not stat.S_ISREG(mode):
        raise SpecError(f"{path} is not a regular file: convcost reads spec files")


def _check_size(size: int, source: str, limits: Limits, *, exact: bool = True) -> None:
    if size > limits.max_spec_bytes:
        amount = f"is {size} bytes" if exact else f"holds more than {limits.max_spec_bytes} bytes"
        raise ResourceLimitError(
            f"{source} {amount}; a spec may have at most {limits.max_spec_bytes} bytes "
            "(Limits.max_spec_bytes)"
        )


BOM = b"\xef\xbb\xbf"
"""UTF-8's byte-order mark, dropped from the start of a file as the ``utf-8-sig`` codec drops it.
That codec's errors count from after the mark, so its ``start`` indexes the wrong byte of the
file; and its module is one more import."""


def decode(data: bytes, source: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); other bytes are one error at their place."""
    data = data.removeprefix(BOM)  # lines and columns count characters after the mark
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line_start = data.rfind(b"\n", 0, start) + 1
        line = data.count(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", "replace")) + 1
        raise SpecError(
            f"the spec is not UTF-8: byte 0x{data[start]:02x} is invalid here ({exc.reason}); "
            "save the file as UTF-8",
            location=Location(source, line, column),
        ) from None
