"""Files the commands write: checked before any work starts, replaced atomically after it.

:func:`check_writable` refuses an output that cannot be written (an empty name, a directory,
a missing or non-directory parent, no write permission, a read-only file system) before a
spec is loaded or a network run. :func:`replace_atomically` writes to a temporary file in
the same folder and renames it over the target only when the whole text was written, so a
render that fails, a full disk or Ctrl-C leaves an existing file as it was. Devices and FIFOs
(``/dev/null``, ``/dev/stdout``, a named pipe) are written in place: they cannot be renamed
over.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from convcost.errors import ConvcostError
from convcost.render.escape import quoted


def check_writable(name: str) -> Path:
    """The path ``--output NAME`` stands for, after checking that it can be written.

    Raises :class:`ConvcostError` (exit 2) with one line saying why not.
    """
    if name == "":
        raise ConvcostError("--output '': the file name is empty")
    where = f"--output {quoted(name)}"
    try:
        return _writable(Path(name), name, where)
    except OSError as exc:  # a name too long, a loop of links
        raise ConvcostError(f"{where}: cannot be written: {exc.strerror}") from None


def _writable(path: Path, name: str, where: str) -> Path:
    if name.endswith(("/", os.sep)) or path.is_dir():
        raise ConvcostError(f"{where}: is a directory, not a file")
    parent = path.parent
    if not parent.exists():
        raise ConvcostError(f"{where}: no such directory {quoted(parent)}")
    if not parent.is_dir():
        raise ConvcostError(f"{where}: {quoted(parent)} is not a directory")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise ConvcostError(f"{where}: the file is not writable")
        if not _renames(path):
            return path  # a device or a FIFO: written in place
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConvcostError(f"{where}: cannot create files in {quoted(parent)}")
    return path


def _renames(path: Path) -> bool:
    """Whether ``path`` is (or would be) a regular file, which is replaced by a rename."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True


@contextlib.contextmanager
def replace_atomically(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text stream whose contents replace ``path`` when the block ends normally.

    The text goes to a temporary file next to the target (a symbolic link is followed, so
    the file it points to is replaced), which is flushed to disk and renamed over the target;
    on any exception, KeyboardInterrupt included, the temporary file is removed and the
    target is untouched. An existing file keeps its permission bits; a new one gets the
    usual ``0o666`` less the umask. OSError is raised as :class:`ConvcostError`.
    """
    target = Path(os.path.realpath(path))
    if not _renames(target):
        try:
            with target.open("w", encoding="utf-8") as handle:
                yield handle
        except OSError as exc:
            raise ConvcostError(f"cannot write {quoted(path)}: {exc.strerror}") from None
        return
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise ConvcostError(f"cannot write {quoted(path)}: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _mode(target))
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise ConvcostError(f"cannot write {quoted(path)}: {exc.strerror}") from None
        raise


def _mode(target: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
