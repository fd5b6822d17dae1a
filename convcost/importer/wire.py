"""The protobuf wire format, read in pure Python: enough to walk an ONNX file's messages.

A message is a run of fields, each a key (``field_number << 3 | wire_type``, a varint) and a
value: a varint (wire type 0), 8 bytes (1), a length-delimited run of bytes (2: a string, a
submessage, or a packed repeated number field), or 4 bytes (5). Groups (3, 4) are not used
by ONNX and are refused. Every length is checked against the end of its enclosing message
before anything is read, so a hostile file fails with one `WireError` naming the byte, never
by reading past the end, looping, or allocating what a length claims.

``buf`` is anything indexable by int and by slice (``bytes``, or an ``mmap`` of the file,
whose slices are copies of only the bytes asked for: a weight that is skipped is never read).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
"""The wire types ONNX uses."""

_MAX_VARINT_BYTES = 10
"""A 64-bit varint takes at most 10 bytes; an 11th continuation byte is corrupt."""


Buffer = bytes | mmap.mmap
"""What the reader reads from: the file's bytes, or an mmap of it."""


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message; ``str`` says where and why."""


Field = tuple[int, int, int, int]
"""One field: (number, wire type, value, end). For a varint, value is the number; for fixed
32/64, the offset of its bytes; for a length-delimited field, the offset of its first byte
(the field's bytes are ``buf[value:end]``). ``end`` is where the next field starts."""


def varint(buf: Buffer, pos: int, end: int) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the position after it."""
    result = shift = 0
    for count in range(_MAX_VARINT_BYTES):
        if pos >= end:
            raise WireError(f"at byte {pos}, the message ends inside a number")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if count == _MAX_VARINT_BYTES - 1 and byte > 1:
                raise WireError(f"at byte {pos - 1}, a number longer than 64 bits")
            return result, pos
        shift += 7
    raise WireError(f"at byte {pos - 1}, a number longer than 10 bytes")


def fields(buf: Buffer, start: int, end: int) -> Iterator[Field]:
    """Each field of the message in ``buf[start:end]``, in file order."""
    pos = start
    while pos < end:
        at = pos
        key = buf[pos]  # one byte for fields 1 to 15, the common case, read inline
        pos += 1
        if key >= 0x80:
            key, pos = varint(buf, at, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"at byte {at}, a field numbered 0")
        if wire == LENGTH:
            if pos < end and buf[pos] < 0x80:
                size = buf[pos]
                pos += 1
            else:
                size, pos = varint(buf, pos, end)
        elif wire == VARINT:
            if pos < end and buf[pos] < 0x80:
                pos += 1
                yield number, wire, buf[pos - 1], pos
            else:
                value, pos = varint(buf, pos, end)
                yield number, wire, value, pos
            continue
        elif wire == FIXED64:
            size = 8
        elif wire == FIXED32:
            size = 4
        else:
            raise WireError(f"at byte {at}, field {number} has wire type {wire}, not one of ONNX's")
        if size > end - pos:
            raise WireError(
                f"at byte {at}, field {number} claims {size:,} bytes, past the end of its message"
            )
        yield number, wire, pos, pos + size
        pos += size


def signed(value: int) -> int:
    """A varint as a two's-complement int64 (protobuf writes a negative int64 in 10 bytes)."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def text(buf: Buffer, start: int, end: int) -> str:
    """A string field's UTF-8 text (undecodable bytes replaced, as names only label things)."""
    return bytes(buf[start:end]).decode("utf-8", "replace")


def packed_varints(buf: Buffer, start: int, end: int) -> list[int]:
    """The int64s of a packed repeated varint field."""
    values = []
    pos = start
    while pos < end:
        value, pos = varint(buf, pos, end)
        values.append(signed(value))
    return values


def packed_fixed(buf: Buffer, start: int, end: int, code: str) -> tuple[float, ...]:
    """The numbers of a packed repeated ``float`` (``code`` ``f``) or ``double`` (``d``)."""
    size = struct.calcsize(code)
    if (end - start) % size:
        raise WireError(f"at byte {start}, {end - start} bytes are not a whole number of values")
    return struct.unpack(f"<{(end - start) // size}{code}", bytes(buf[start:end]))


def fixed(buf: Buffer, start: int, code: str) -> float:
    """One ``float`` (``f``, 4 bytes) or ``double`` (``d``, 8 bytes) at ``start``."""
    value: float = struct.unpack(f"<{code}", bytes(buf[start : start + struct.calcsize(code)]))[0]
    return value
