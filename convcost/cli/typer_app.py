"""The typer app: every declared command (:mod:`convcost.cli.declare`) with its options handed
to typer, for help, shell completion and every command line the fast parser
(:mod:`convcost.cli.fast`) leaves to it: a usage error above all.

A command's function is registered through a view (:func:`typer_view`) whose signature holds
``typer.Option``/``typer.Argument`` where the function declares :class:`~convcost.cli.declare.
Option`/:class:`~convcost.cli.declare.Argument`, and which turns the command's own
:class:`~convcost.cli.declare.UsageError` and :class:`~convcost.cli.declare.Exit` into typer's.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer
import typer.core

from convcost.cli import COMMANDS
from convcost.cli.declare import DECLARED, Argument, Exit, Option, UsageError
from convcost.cli.streams import print_version

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


class _Commands(typer.core.TyperGroup):
    """Lists the commands in the order of :data:`convcost.cli.COMMANDS`, whichever module was
    imported first."""

    def list_commands(self, ctx: Any) -> list[str]:  # click's Context, vendored by typer
        order = list(COMMANDS)
        names = super().list_commands(ctx)
        return sorted(names, key=lambda name: order.index(name) if name in order else len(order))


app = typer.Typer(
    name="convcost",
    cls=_Commands,
    help="Architecture cost calculator for convolutional networks: parameters, MACs, FLOPs, "
    "activation memory and receptive field from a YAML spec.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=True,
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
)


def _version(value: bool) -> None:
    if value:  # `convcost --version` alone is answered before typer loads (convcost/__main__.py)
        raise typer.Exit(print_version())


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Architecture cost calculator for convolutional networks."""


_REGISTERED: set[str] = set()


def register_declared() -> typer.Typer:
    """The app, with every command declared so far registered on it."""
    for name, function in DECLARED.items():
        if name not in _REGISTERED:
            app.command(name)(typer_view(function))
            _REGISTERED.add(name)
    return app


def typer_view(
    function: Callable[..., Any], invoke: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """``function`` as typer reads a command: the same parameters, names, defaults and help,
    with typer's option objects in the annotations; calling it calls ``invoke`` (default:
    ``function``) and turns the command's :class:`UsageError`/:class:`Exit` into typer's."""
    call = function if invoke is None else invoke
    signature = inspect.signature(function, eval_str=True)
    parameters = [
        parameter.replace(annotation=_typer_annotation(parameter.annotation))
        for parameter in signature.parameters.values()
    ]

    def view(**values: Any) -> Any:
        try:
            return call(**values)
        except UsageError as error:
            raise typer.BadParameter(error.message, param_hint=error.param_hint) from error
        except Exit as error:
            raise typer.Exit(error.code) from error

    view.__name__ = function.__name__
    view.__qualname__ = function.__qualname__
    view.__module__ = function.__module__
    view.__doc__ = function.__doc__
    view.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    view.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return view


def _typer_annotation(annotation: Any) -> Any:
    """``Annotated[T, Option(...)]`` as ``Annotated[T, typer.Option(...)]``."""
    if typing.get_origin(annotation) is not Annotated:
        return annotation
    base, *extras = typing.get_args(annotation)
    return Annotated[(base, *(_typer_declaration(extra) for extra in extras))]


def _typer_declaration(extra: object) -> object:
    if isinstance(extra, Argument):
        return typer.Argument(*extra.names, **extra.settings)
    if isinstance(extra, Option):
        return typer.Option(*extra.names, **extra.settings)
    return extra
