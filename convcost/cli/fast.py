"""An ordinary command line, parsed without typer from the command's own declarations
(:mod:`convcost.cli.declare`).

Loading typer and building its app from a command's signature cost about a third of a small
``convcost analyze`` (issue 18). Most command lines are ordinary: a command name, spec names,
``--option value`` pairs and flags, every value valid. :func:`parse` reads exactly those, with
typer's rules (option names, ``--name=value``, the last of a repeated option, ``int`` with its
``min``/``max``, choices of an enum, repeatable lists, defaults), and declines anything else
(``--help``, an unknown or misspelt option, a value out of range or not a number, a missing
argument, ``--``, a short option with its value attached, shell completion) by returning
``None``: typer then parses the line from the start and words the error, so every usage error
still comes from one place. tests/test_cli_fast.py holds the parser to typer's result on
generated command lines.

A :class:`~convcost.cli.declare.UsageError` the command raises is worded as on typer's path
(convcost.cli.entry).
"""

from __future__ import annotations

import enum
import importlib
import os
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from convcost.cli import COMMANDS
from convcost.cli.declare import DECLARED, Argument, Exit, Option

SETTINGS = frozenset({"help", "metavar", "show_default", "min", "max"})
"""The declaration settings the parser reads or may ignore; an option with any other (a
callback, an eager option, an environment variable) leaves its command to typer."""

_FLAG = object()  # an option's convert for a flag: it takes no value


# plain classes, not NamedTuples: making a NamedTuple class costs ~0.3 ms of start-up each


class Call:
    """A parsed command line: the command (its name and function) and its arguments."""

    __slots__ = ("function", "name", "values")

    def __init__(self, name: str, function: Callable[..., Any], values: dict[str, Any]) -> None:
        self.name = name
        self.function = function
        self.values = values


class _Spelling:
    """What one option name (``--batch``, ``-f``, ``--no-color``) does: set ``parameter`` to
    ``convert(value)`` (appended when ``multiple``), or to ``value`` for a flag."""

    __slots__ = ("convert", "multiple", "parameter", "value")

    def __init__(
        self, parameter: str, convert: Callable[[str], Any] | object, value: Any, multiple: bool
    ) -> None:
        self.parameter = parameter
        self.convert = convert  # _FLAG for a flag
        self.value = value
        self.multiple = multiple


class Grammar:
    """A command's options and arguments, as typer would make them."""

    __slots__ = ("arguments", "defaults", "options", "required")

    def __init__(
        self,
        options: dict[str, _Spelling],
        arguments: list[tuple[str, bool, bool]],
        defaults: dict[str, Any],
        required: frozenset[str],
    ) -> None:
        self.options = options
        self.arguments = arguments  # (parameter, variadic, required), in order
        self.defaults = defaults
        self.required = required  # options without a default

    def parse(self, args: Sequence[str]) -> dict[str, Any] | None:
        """The command's arguments from ``args``, or None when typer should read them."""
        values: dict[str, Any] = {}
        positional: list[str] = []
        index = 0
        while index < len(args):
            token = args[index]
            index += 1
            if token == "-" or not token.startswith("-"):
                positional.append(token)
                continue
            name, equals, attached = token.partition("=") if token[:2] == "--" else (token, "", "")
            spelling = self.options.get(name)
            if spelling is None:  # --help, an unknown option, --, -fjson: typer's to word
                return None
            if spelling.convert is _FLAG:
                if equals:
                    return None
                values[spelling.parameter] = spelling.value
                continue
            if equals:
                text = attached
            elif index < len(args) and (args[index] == "-" or not args[index].startswith("-")):
                text = args[index]
                index += 1
            else:  # a missing value, or one that looks like an option: typer decides
                return None
            try:
                value = spelling.convert(text)  # type: ignore[operator]
            except ValueError:
                return None
            if spelling.multiple:
                values.setdefault(spelling.parameter, []).append(value)
            else:
                values[spelling.parameter] = value
        if not self._place(positional, values) or not self.required.issubset(values):
            return None
        return {name: values.get(name, default) for name, default in self.defaults.items()}

    def _place(self, positional: list[str], values: dict[str, Any]) -> bool:
        """Assign the positional arguments; False when they do not fit (typer words it)."""
        variadic = [name for name, many, _ in self.arguments if many]
        if variadic:
            ((name, _, required),) = self.arguments  # only a lone variadic argument is read
            if required and not positional:
                return False
            if positional:
                values[name] = positional
            return True
        if len(positional) > len(self.arguments):
            return False
        for position, (name, _, required) in enumerate(self.arguments):
            if position < len(positional):
                values[name] = positional[position]
            elif required:
                return False
        return True


_GRAMMARS: dict[str, Grammar | None] = {}


def parse(args: Sequence[str]) -> Call | None:
    """The command line ``args`` (without the program name) when it is ordinary, else None.

    Imports the command's module (never typer)."""
    if not args or "_CONVCOST_COMPLETE" in os.environ or args[0] not in COMMANDS:
        return None
    name = args[0]
    importlib.import_module(f"convcost.cli.{COMMANDS[name]}")
    function = DECLARED.get(name)
    if function is None:
        return None
    grammar = grammar_of(name, function)
    values = None if grammar is None else grammar.parse(args[1:])
    return None if values is None else Call(name, function, values)


def run(call: Call) -> int:
    """Run a parsed command; its exit status. A :class:`~convcost.cli.declare.UsageError` it
    raises is the caller's to word (convcost.cli.entry), as for typer's path."""
    try:
        status = call.function(**call.values)
    except Exit as error:
        return error.code
    return status if isinstance(status, int) else 0


def grammar_of(name: str, function: Callable[..., Any]) -> Grammar | None:
    """The options and arguments of ``function`` (None when it declares something this parser
    leaves to typer)."""
    if name not in _GRAMMARS:
        _GRAMMARS[name] = _grammar(function)
    return _GRAMMARS[name]


def _grammar(function: Callable[..., Any]) -> Grammar | None:
    try:
        hints = _annotations(function)
    except (NameError, TypeError, SyntaxError):
        return None
    code = function.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    positional_defaults = function.__defaults__ or ()
    first = len(names) - len(positional_defaults)
    defaults = {names[first + index]: value for index, value in enumerate(positional_defaults)}
    defaults.update(function.__kwdefaults__ or {})
    options: dict[str, _Spelling] = {}
    arguments: list[tuple[str, bool, bool]] = []
    values: dict[str, Any] = {}
    required: set[str] = set()
    for parameter in names:
        annotation = hints.get(parameter)
        if typing.get_origin(annotation) is not Annotated:
            return None
        base, *extras = typing.get_args(annotation)
        declared = [extra for extra in extras if isinstance(extra, Option)]
        if len(declared) != 1 or not SETTINGS.issuperset(declared[0].settings):
            return None
        (declaration,) = declared
        many, element = _shape(base)
        has_default = parameter in defaults
        if element is None or (many and element is bool):
            return None
        values[parameter] = defaults.get(parameter)
        if isinstance(declaration, Argument):
            if declaration.names or element is bool:
                return None
            arguments.append((parameter, many, not has_default))
            continue
        if not has_default:
            required.add(parameter)
        flag = element is bool
        convert = _FLAG if flag else _converter(element, declaration.settings)
        for spelling, value in _spellings(parameter, declaration.names, flag):
            options[spelling] = _Spelling(parameter, convert, value, many)
    if sum(many for _, many, _ in arguments) and len(arguments) != 1:
        return None
    return Grammar(options, arguments, values, frozenset(required))


def _annotations(function: Callable[..., Any]) -> dict[str, Any]:
    """The parameters' annotations, evaluated in the function's module (they are strings under
    ``from __future__ import annotations``): what ``typing.get_type_hints(include_extras=True)``
    gives for them, without its machinery (a few milliseconds at start-up). Most are the name
    of an ``Annotated`` alias, read from the module without compiling an expression."""
    namespace = function.__globals__
    return {
        name: _evaluated(text, namespace)
        for name, text in function.__annotations__.items()
        if name != "return"
    }


def _evaluated(text: object, namespace: dict[str, Any]) -> Any:
    if not isinstance(text, str):
        return text
    if text in namespace:  # a module-level name such as ``FormatOption``
        return namespace[text]
    return eval(text, namespace)


def _shape(base: Any) -> tuple[bool, Any]:
    """``(list, element type)`` of an annotation, ``X | None`` as ``X`` (element None: a type
    this parser leaves to typer)."""
    arguments = typing.get_args(base)
    if type(None) in arguments:  # X | None
        rest = [argument for argument in arguments if argument is not type(None)]
        if len(rest) != 1:
            return False, None
        base = rest[0]
    if typing.get_origin(base) is list:
        (element,) = typing.get_args(base)
        return True, element if _readable(element) else None
    return False, base if _readable(base) else None


def _readable(kind: Any) -> bool:
    return kind in (str, int, float, bool) or (
        isinstance(kind, type) and issubclass(kind, enum.Enum) and not issubclass(kind, enum.Flag)
    )


def _converter(kind: Any, settings: dict[str, Any]) -> Callable[[str], Any]:
    """``text`` to the value typer passes, raising ValueError where typer refuses it (``kind``
    is one :func:`_readable` accepts, not ``bool``: a flag takes no value)."""
    if kind is str:
        return str
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        choices = {str(member.value): member for member in kind}
        return lambda text: _choice(choices, text)
    number: Callable[[str], Any] = int if kind is int else float
    low, high = settings.get("min"), settings.get("max")
    if low is None and high is None:
        return number
    return lambda text: _within(number(text), low, high)


def _choice(choices: dict[str, Any], text: str) -> Any:
    if text not in choices:
        raise ValueError(text)
    return choices[text]


def _within(value: Any, low: Any, high: Any) -> Any:
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(value)
    return value


def _spellings(parameter: str, names: tuple[str, ...], flag: bool) -> list[tuple[str, Any]]:
    """Each name of the option and the value a flag spelt so sets (typer's naming: the
    parameter's name with ``-`` for ``_``, and ``--no-NAME`` for a flag declared without
    names; ``--on/--off`` declares both)."""
    if not names:
        option = "--" + parameter.lower().replace("_", "-")
        names = (f"{option}/--no-{option[2:]}",) if flag else (option,)
    spellings: list[tuple[str, Any]] = []
    for declared in names:
        on, slash, off = declared.partition("/")
        spellings.append((on.strip(), True))
        if slash:
            spellings.append((off.strip(), False))
    return spellings
