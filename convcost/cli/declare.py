"""How a command declares itself, without loading typer: the command's function, its options
and arguments (``Annotated[int, Option(min=1, help=...)]``), and the two ways a command ends
early (:class:`UsageError`, :class:`Exit`).

A declaration here is typer's call deferred: ``Option("--format", "-f", help=...)`` holds the
arguments ``typer.Option`` would get. The same declarations serve two readers:

- :mod:`convcost.cli.typer_app` hands them to typer (help, shell completion, every usage error);
- :mod:`convcost.cli.fast` parses an ordinary, valid command line from them directly, so that
  ``convcost analyze resnet50`` never loads typer (about a third of a small command's time).

Light on purpose: no typer, no rich, no dataclasses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without loading typing (start-up); mypy reads it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    Command = TypeVar("Command", bound=Callable[..., Any])


class Option:
    """``typer.Option(*names, **settings)``, deferred (inside ``Annotated``, as typer takes it)."""

    __slots__ = ("names", "settings")

    def __init__(self, *names: str, **settings: Any) -> None:
        self.names = names
        self.settings = settings

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.names!r}"


class Argument(Option):
    """``typer.Argument(**settings)``, deferred."""

    __slots__ = ()


class UsageError(Exception):
    """A value the command refuses (typer's ``BadParameter``): one line naming the option,
    exit 2, as for a value the parser refuses."""

    def __init__(self, message: str, *, param_hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param_hint = param_hint

    def format_message(self) -> str:
        """As click words it."""
        if self.param_hint is None:
            return f"Invalid value: {self.message}"
        return f"Invalid value for {self.param_hint}: {self.message}"


class Exit(Exception):
    """End the command with exit status ``code`` (after its message, if any, was printed)."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)
        self.code = code


DECLARED: dict[str, Callable[..., Any]] = {}
"""Every command declared so far (by the command modules imported so far), by name."""


def command(name: str | None = None) -> Callable[[Command], Command]:
    """Declare ``function`` as the command ``name`` (default: the function's name, ``_`` as
    ``-``, as typer names it)."""

    def declare(function: Command) -> Command:
        DECLARED[name or function.__name__.replace("_", "-")] = function
        return function

    return declare
