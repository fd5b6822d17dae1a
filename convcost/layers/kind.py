"""A layer kind's declaration: its spec name, summary, typed fields and parser.

Each field is one object holding its name, default and documentation, and reading itself
(``KERNEL.read(args) -> tuple[int, ...]``): the parser reads through the fields it declares, so
the JSON schema (:mod:`convcost.schema`), the unknown-field message (:attr:`Kind.field_names`)
and the parser come from the same declaration. tests/test_schema.py checks that a parser reads
exactly the fields its kind declares and applies their declared defaults.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from convcost.fields import Args
from convcost.layers.base import Layer, Shape
from convcost.substitution import resolve
from convcost.tree import Scalar, Seq, Value, describe
from convcost.valueclasses import dataclass, field

if TYPE_CHECKING:
    from convcost.layers.separable import Separable

T = TypeVar("T")


class FieldType(enum.Enum):
    """How a layer field is written; ``convcost schema`` turns each into a JSON Schema."""

    INT = "int"
    PER_AXIS = "per_axis"
    """An integer for every spatial axis, or a list with one per axis."""
    PADDING = "padding"
    """``same``, ``valid``, an integer, or per axis an integer or a [before, after] pair."""
    FLAG = "flag"
    NUMBER = "number"
    CHOICE = "choice"
    EXPRESSION = "expression"
    """An integer, or an integer expression of the input's dimensions as a string."""
    EXPRESSIONS = "expressions"
    """A list of 1 to 4 of :attr:`EXPRESSION` (a shape, channels first)."""
    TEXT = "text"


REQUIRED = None
"""The ``default`` of a field that must be given."""


@dataclass(frozen=True, slots=True)
class Field(ABC, Generic[T]):
    """A field a layer kind reads: documentation for the schema and its own reader."""

    name: str
    description: str
    default: int | float | bool | str | None = REQUIRED
    minimum: int | float = 1
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    default_note: str = ""
    """Describes a default that is not a constant (a pool's stride defaults to its kernel)."""
    type: ClassVar[FieldType]

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.default_note

    @abstractmethod
    def read(self, args: Args) -> T:
        """The field's value in one layer's arguments (its default when absent)."""

    if not TYPE_CHECKING:

        def __class_getitem__(cls, item: object) -> type:
            """``Field[int]`` is ``Field`` when the program runs (the type checker reads the
            parameter): typing's alias for each reader below cost 0.1 ms of start-up."""
            return cls


# The readers below are plain subclasses (each dataclass costs ~1 ms of start-up to create).


class IntegerField(Field[int]):
    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.INT

    def read(self, args: Args) -> int:
        return args.integer(self.name, cast(int | None, self.default), minimum=int(self.minimum))

    def read_or(self, args: Args, fallback: int) -> int:
        """The field's value, or ``fallback`` (a value that depends on the input) when absent."""
        return args.integer(self.name, fallback, minimum=int(self.minimum))


class PerAxisField(Field[tuple[int, ...]]):
    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.PER_AXIS

    def read(self, args: Args) -> tuple[int, ...]:
        default = cast(int | None, self.default)
        return args.per_axis(self.name, default, minimum=int(self.minimum))

    def read_or(self, args: Args, fallback: tuple[int, ...]) -> tuple[int, ...]:
        """The field's value, or ``fallback`` (another field's value) when absent."""
        return args.per_axis_or(self.name, fallback, minimum=int(self.minimum))


Padding = str | tuple[tuple[int, int], ...]
"""``same``, ``valid``, or (before, after) per spatial axis."""


class PaddingField(Field[Padding]):
    """Zeros when absent, whatever the declared default (which documents it)."""

    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.PADDING

    def read(self, args: Args) -> Padding:
        return args.padding(self.name, pairs=True)


class FlagField(Field[bool]):
    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.FLAG

    def read(self, args: Args) -> bool:
        return args.flag(self.name, cast(bool, self.default))


class NumberField(Field[float]):
    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.NUMBER

    def read(self, args: Args) -> float:
        high = float("inf") if self.maximum is None else self.maximum
        default = cast(float, self.default)
        return args.number(self.name, default, low=float(self.minimum), high=high)


class ChoiceField(Field[str]):
    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.CHOICE

    def read(self, args: Args) -> str:
        return args.choice(self.name, self.choices, cast(str, self.default))


class ExpressionField(Field[str]):
    """An integer or an integer expression (``"c * h * w"``), returned as its text; the kind
    evaluates it (:func:`convcost.expr.evaluate`) over the names it binds."""

    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.EXPRESSION

    def read(self, args: Args) -> str:
        value = args.raw(self.name)
        if value is None or (isinstance(value, Scalar) and value.value is None):
            return str(self.default)
        return _expression(value, args, self.name)


class ExpressionsField(Field[tuple[str, ...] | None]):
    """A list of 1 to 4 expressions (a shape, channels first); ``None`` when absent."""

    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.EXPRESSIONS

    def read(self, args: Args) -> tuple[str, ...] | None:
        value = args.raw(self.name)
        if value is None or (isinstance(value, Scalar) and value.value is None):
            return None
        if not isinstance(value, Seq) or not 1 <= len(value) <= 4:
            got = f"{len(value)} values" if isinstance(value, Seq) else describe(value)
            raise args.error(
                self.name,
                f"must be a list of 1 to 4 sizes, channels first (integers or expressions), got {got}",
            )
        what = f"{args.kind}.{self.name}"
        return tuple(
            _expression(resolve(item, args.scope, layer=args.layer, what=what), args, self.name)
            for item in value
        )


class TextField(Field[str | None]):
    """A short text (a label shown in tables); ``None`` when absent."""

    __slots__ = ()
    type: ClassVar[FieldType] = FieldType.TEXT

    def read(self, args: Args) -> str | None:
        value = args.raw(self.name)
        if value is None or (isinstance(value, Scalar) and value.value is None):
            return None
        if not isinstance(value, Scalar) or not isinstance(value.value, str):
            raise args.error(self.name, f"must be a string, got {describe(value)}")
        return value.value


def _expression(value: Value, args: Args, name: str) -> str:
    if isinstance(value, Scalar) and type(value.value) is int:
        return str(value.value)
    if isinstance(value, Scalar) and isinstance(value.value, str):
        return value.value
    raise args.error(
        name, f"must be an integer or an expression such as 'c * h * w', got {describe(value)}"
    )


Parser = Callable[[Args, Shape], "Layer | Separable"]
"""Reads one layer's arguments (through the kind's fields) on an input of the given shape;
``separable`` makes two layers, shown as two rows."""


@dataclass(frozen=True, slots=True)
class Kind:
    """One spec kind: ``conv``, ``relu``… (a layer class may serve several, as ``Conv``)."""

    name: str
    summary: str
    fields: tuple[Field[Any], ...]
    parse: Parser
    field_names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """Every field name, in declaration order (the unknown-field message lists them)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_names", tuple(f.name for f in self.fields))


# Fields several families share.
OUT = IntegerField("out", "output channels (features for linear)")
KERNEL = PerAxisField("kernel", "kernel size, one value or one per spatial axis")
STRIDE = PerAxisField("stride", "stride, one value or one per spatial axis", 1)
DILATION = PerAxisField("dilation", "dilation (spacing of kernel taps)", 1)
GROUPS = IntegerField("groups", "groups: in and out channels must both divide by it", 1)
BIAS = FlagField("bias", "learnable bias per output channel", True)
