"""The ``convcost`` command: parse arguments, call the library, render, pick an exit code.

One module per family of commands (:data:`COMMANDS`), each declaring its commands
(:mod:`convcost.cli.declare`) when it is imported. A run imports only the module of the command
it names: ``convcost analyze`` never loads ``compare`` or ``check``, and ``convcost --version``
loads none of them. An ordinary command line is parsed without typer (:mod:`convcost.cli.fast`);
typer's app (:mod:`convcost.cli.typer_app`, :func:`load`) answers the rest: help, completion, usage
errors. ``app`` here is the typer app with every command registered (for ``CliRunner`` and the
docs), loaded on first use.
"""

from __future__ import annotations

import importlib
import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without loading typing (start-up); mypy reads it
if TYPE_CHECKING:
    from collections.abc import Sequence

    import typer

    from convcost.cli.entry import main
    from convcost.cli.typer_app import app
    from convcost.errors import ExitStatus

COMMANDS = {
    "analyze": "analyze",
    "zoo": "analyze",
    "compare": "compare",
    "explain": "compare",
    "check": "check",
    "schema": "check",
    "import": "importing",
    "export": "export",
    "report": "report",
    "calibrate": "calibrate",
    "sweep": "sweep",
}
"""Each command and the module under ``convcost.cli`` that defines it, in the order
``convcost --help`` lists them."""

__all__ = ["COMMANDS", "ExitStatus", "app", "load", "main"]


def load(args: Sequence[str] | None = None) -> typer.Typer:
    """The app, with what the command line ``args`` (without the program name) needs registered:
    the module of the command it starts with, or every module when it starts with no known
    command (``--help``, a typo, an option), under shell completion, or when ``args`` is None."""
    name = args[0] if args else None
    if name in COMMANDS and "_CONVCOST_COMPLETE" not in os.environ:
        modules = [COMMANDS[name]]
    else:
        modules = list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"{__name__}.{module}")
    from convcost.cli.typer_app import register_declared

    return register_declared()


def __getattr__(name: str) -> object:
    if name == "app":
        return load()
    if name == "main":
        from convcost.cli.entry import main

        return main
    if name == "ExitStatus":
        from convcost.errors import ExitStatus

        return ExitStatus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
