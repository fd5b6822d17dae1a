"""The process around a command: one line and a distinct exit code for everything a user
can cause (a usage error, Ctrl-C, exhausted memory, a failing standard output), never a
traceback; bugs still raise.

A command line loads the one command module it names; typer only when the line is not an
ordinary one (:mod:`convcost.cli.fast`). ``convcost --version`` alone is answered before this
module loads (:mod:`convcost.__main__`).
"""

from __future__ import annotations

import errno
import gc
import sys
from typing import Any, NoReturn

from convcost.cli.streams import degrade_to_ascii, failed_output, say
from convcost.errors import ConvcostError, ExitStatus


def main() -> NoReturn:
    """Console-script entry point (via :func:`convcost.__main__.main`): no traceback for a
    user error, Ctrl-C (exit 130), memory exhaustion (exit 4) or a failing standard output
    (exit 2; silent for a broken pipe)."""
    degrade_to_ascii(sys.stdout)
    degrade_to_ascii(sys.stderr)
    args = sys.argv[1:]
    try:
        try:
            status = _run(args)
            if status == 130:  # typer turns Ctrl-C during a command into exit 130
                interrupted()
            sys.exit(status)
        finally:
            if sys.stdout is not None:
                sys.stdout.flush()
    except SystemExit as exit:
        if _caused_by(exit, KeyboardInterrupt):
            interrupted()
        if _caused_by(
            exit, BrokenPipeError
        ):  # typer's own handler exits 1: that means "over budget"
            sys.exit(int(ExitStatus.INVALID_INPUT))
        raise
    except KeyboardInterrupt:
        interrupted()
    except ConvcostError as error:
        say(f"error: {error}")
        sys.exit(int(error.exit_status))
    except MemoryError:
        say("error: out of memory")
        sys.exit(int(ExitStatus.RESOURCE_LIMIT))
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRORS:
            raise
        message = failed_output(sys.stdout, exc)
        if message is not None:
            say(f"error: {message}")
        sys.exit(int(ExitStatus.INVALID_INPUT))


def _run(args: list[str]) -> int:
    """Run the command line ``args``; its exit status. An ordinary one is parsed without typer
    (:mod:`convcost.cli.fast`), any other by typer's app. A usage error (an unknown option, a
    bad value) is one line naming the command, not click's usage block: every error convcost
    prints is one line."""
    # the thresholds from the start: loading the command makes ~40 collections of objects
    # that all live to the end (~8 ms of CPU, 6% of a small analyze); frozen below
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    from convcost.cli import fast
    from convcost.cli.declare import UsageError

    call = fast.parse(args)
    if call is not None:
        tune_collector()
        try:
            return fast.run(call)
        except UsageError as error:
            return _usage_error(f"convcost {call.name}", error.format_message())
    import typer

    from convcost.cli import load

    app = load(args)
    tune_collector()
    # typer vendors click (and older typers use click itself): its classes via typer's own
    click_error = _click_class("ClickException")
    usage_error = _click_class("UsageError")
    try:
        status = app(args, prog_name="convcost", standalone_mode=False)
    except usage_error as error:
        context = getattr(error, "ctx", None)
        if context is None or type(error).__name__ == "NoArgsIsHelpError":
            error.show()  # `convcost` alone prints the help
            return int(ExitStatus.INVALID_INPUT)
        return _usage_error(context.command_path, error.format_message())
    except click_error as error:
        say(f"error: {error}")
        return int(ExitStatus.INVALID_INPUT)
    except typer.Abort:
        interrupted()
    return status if isinstance(status, int) else int(ExitStatus.OK)


def _usage_error(command: str, message: str) -> int:
    """``error: convcost analyze: Invalid value for --dtype: … (see 'convcost analyze -h')``
    on one line; exit 2."""
    from convcost.render.escape import printable

    text = printable(" ".join(message.split()))
    say(f"error: {command}: {text} (see '{command} -h')")
    return int(ExitStatus.INVALID_INPUT)


COLLECTOR_THRESHOLDS = (100_000, 50, 100)
"""The cyclic garbage collector's thresholds for a command (Python's defaults: 700, 10, 10)."""


def tune_collector() -> None:
    """Make the cyclic garbage collector run rarely: once every 100,000 net allocations instead
    of every 700, and a full collection almost never; what is loaded so far (the interpreter,
    typer, the command's modules) is frozen out of every collection.

    A spec's load, build and analysis allocate millions of objects that live to the end of the
    command and form no cycles to collect, and the default thresholds traverse them again and
    again: with them, the CPU time of a 100,000-layer ``analyze`` was 1.4-1.6× and grew faster
    than the layer count (issue 18; tests/bench/bench_scale.py). Collections still happen, so
    cyclic garbage stays bounded (an ``--execute`` run's arrays included); the peak RSS of the
    runs measured is unchanged.
    """
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def _click_class(name: str) -> Any:  # a click exception class: Any, as click is not typed here
    import typer

    return next(kind for kind in typer.BadParameter.__mro__ if kind.__name__ == name)


_OUTPUT_ERRORS = (errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EBADF)
"""The errors of a failing standard output (help text, the flush at the end)."""


def _caused_by(exit: SystemExit, kind: type[BaseException]) -> bool:
    """Whether typer turned an exception of this kind into this exit."""
    cause: BaseException | None = exit
    while cause is not None:
        if isinstance(cause, kind):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def interrupted() -> NoReturn:
    say("error: interrupted")
    sys.exit(130)
