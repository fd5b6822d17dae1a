"""``convcost.valueclasses.dataclass`` against the standard library's ``dataclasses.dataclass``
(the oracle): the same fields, signature, text, equality, hash, immutability, slots and
pickling, on classes built both ways from the same body, and on every class in convcost."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil
import subprocess
import sys
import textwrap
import types
import typing
from typing import Any

import pytest

import convcost
from convcost import valueclasses

BODIES = {
    "frozen slots keywords": """
        @dataclass(frozen=True, slots=True, kw_only=True)
        class C:
            '''Doc.'''
            a: int
            b: tuple[int, ...] = (1, 2)
            c: str | None = None
        """,
    "frozen slots positional": """
        @dataclass(frozen=True, slots=True)
        class C:
            a: int
            b: float = 1.5
        """,
    "mutable slots": """
        @dataclass(slots=True)
        class C:
            '''Doc.'''
            a: int
            b: list[int] = field(default_factory=list)
        """,
    "plain": """
        @dataclass
        class C:
            a: int
            b: int = 2
        """,
    "fields with options": """
        @dataclass(frozen=True, slots=True)
        class C:
            a: int
            b: int = field(default=3, repr=False)
            c: int = field(default=4, compare=False)
            d: int = field(default=5, hash=False)
            e: tuple[int, ...] = field(init=False, repr=False, compare=False)
            f: dict[str, int] = field(default_factory=dict, compare=False)
            g: int = field(default=7, kw_only=True)

            def __post_init__(self) -> None:
                object.__setattr__(self, "e", (self.a, self.b))
        """,
    "init=False default, no slots": """
        @dataclass(frozen=True)
        class C:
            a: int
            b: int = field(default=9, init=False)
            c: list[int] = field(default_factory=lambda: [1], init=False)
        """,
    "init=False default, slots": """
        @dataclass(slots=True)
        class C:
            a: int
            b: int = field(default=9, init=False)
        """,
    "class variables": """
        @dataclass(frozen=True, slots=True, kw_only=True)
        class C:
            kind: ClassVar[str] = "c"
            other: typing.ClassVar[int]
            a: int
        """,
    "inheritance": """
        @dataclass(frozen=True, slots=True, kw_only=True)
        class Base:
            '''Base.'''
            a: int
            b: int = 1
            view: ClassVar[bool] = False

        @dataclass(frozen=True, slots=True, kw_only=True)
        class C(Base):
            '''Derived.'''
            b: int = 5
            c: str = "x"
        """,
    "unslotted subclass": """
        @dataclass(frozen=True, slots=True)
        class Base:
            a: int

        class C(Base):
            __slots__ = ()
        """,
    "explicit methods": """
        @dataclass(frozen=True, slots=True)
        class C:
            a: int
            b: int = 0

            def __repr__(self) -> str:
                return "mine"

            def __hash__(self) -> int:
                return 7
        """,
    "explicit eq": """
        @dataclass(frozen=True)
        class C:
            a: int

            def __eq__(self, other: object) -> bool:
                return True
        """,
    "no eq": """
        @dataclass(frozen=True, eq=False)
        class C:
            a: int
        """,
    "no fields": """
        @dataclass(frozen=True, slots=True)
        class C:
            '''Nothing.'''
        """,
    "a field named self": """
        @dataclass(frozen=True)
        class C:
            self: int
            other: int = 1
        """,
    "abstract generic": """
        @dataclass(frozen=True, slots=True)
        class Base(abc.ABC, typing.Generic[T]):
            name: str

            @abc.abstractmethod
            def read(self) -> T: ...

        class C(Base[int]):
            __slots__ = ()

            def read(self) -> int:
                return 1
        """,
    "weakref slot": """
        @dataclass(frozen=True, slots=True, weakref_slot=True)
        class C:
            a: int
        """,
    "order (standard library)": """
        @dataclass(frozen=True, order=True)
        class C:
            a: int
        """,
}

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "frozen slots keywords": [{"a": 1}, {"a": 1, "b": (3,), "c": "z"}],
    "frozen slots positional": [{"a": 1}, {"a": 2, "b": float("nan")}],
    "mutable slots": [{"a": 1}, {"a": 1, "b": [2]}],
    "plain": [{"a": 1}, {"a": 1, "b": 3}],
    "fields with options": [{"a": 1}, {"a": 1, "b": 2, "c": 9, "d": 0, "g": 1}],
    "init=False default, no slots": [{"a": 1}, {"a": 2}],
    "init=False default, slots": [{"a": 1}, {"a": 2}],
    "class variables": [{"a": 1}, {"a": 2}],
    "inheritance": [{"a": 1}, {"a": 1, "b": 2, "c": "y"}],
    "unslotted subclass": [{"a": 1}, {"a": 2}],
    "explicit methods": [{"a": 1}, {"a": 1, "b": 2}],
    "explicit eq": [{"a": 1}, {"a": 2}],
    "no eq": [{"a": 1}, {"a": 2}],
    "no fields": [{}, {}],
    "a field named self": [{"self": 1}, {"self": 1, "other": 2}],
    "abstract generic": [{"name": "x"}, {"name": "y"}],
    "weakref slot": [{"a": 1}, {"a": 2}],
    "order (standard library)": [{"a": 1}, {"a": 2}],
}


def build(body: str, decorator: Any, name: str) -> dict[str, Any]:
    """The classes of ``body``, made with ``decorator``, in a fresh module (pickle finds them)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    module.__dict__.update(
        dataclass=decorator,
        field=dataclasses.field,
        ClassVar=__import__("typing").ClassVar,
        typing=__import__("typing"),
        abc=__import__("abc"),
        T=__import__("typing").TypeVar("T"),
    )
    source = "from __future__ import annotations\n" + textwrap.dedent(body)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module.__dict__


PLAIN = (int, float, str, bool, tuple, type(None))


def hints(function: Any) -> str:
    """``get_type_hints`` of a function (its module's names resolve its text annotations)."""
    try:
        return repr(typing.get_type_hints(function))
    except (NameError, TypeError) as error:
        return type(error).__name__


def described(cls: type) -> dict[str, Any]:
    """Everything about a dataclass that its users can see, as comparable values."""
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return {
        "fields": [
            (
                f.name,
                f.type,
                repr(f.default),
                f.default_factory is dataclasses.MISSING,
                f.init,
                f.repr,
                f.compare,
                f.hash,
                f.kw_only,
                f._field_type,
            )
            for f in fields.values()
        ],
        "public fields": [f.name for f in dataclasses.fields(cls)],
        "params": repr(cls.__dataclass_params__),  # type: ignore[attr-defined]
        "signature": str(inspect.signature(cls)),
        "init annotations": cls.__init__.__annotations__,
        "init hints": hints(cls.__init__),
        "init globals": cls.__init__.__globals__ is sys.modules[cls.__module__].__dict__,
        "doc": cls.__doc__,
        "match_args": getattr(cls, "__match_args__", None),
        "slots": cls.__dict__.get("__slots__"),
        "has dict": hasattr(cls, "__dict__") and "__dict__" in dir(cls),
        "hash is None": cls.__hash__ is None,
        "qualnames": sorted(
            getattr(cls.__dict__[name], "__qualname__", name)
            for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__")
            if name in cls.__dict__ and cls.__dict__[name] is not None
        ),
        "abstract": sorted(getattr(cls, "__abstractmethods__", ())),
        "class attributes": sorted(
            (name, type(value).__name__, repr(value) if type(value) in PLAIN else "")
            for name, value in vars(cls).items()
            if not callable(value) and not name.startswith("_")
        ),
    }


def behaviour(cls: type, samples: list[dict[str, Any]]) -> list[Any]:
    """What the generated methods do with these instances, as comparable values."""
    seen: list[Any] = []
    objects = [cls(**sample) for sample in samples] + [cls(**samples[0])]
    for obj in objects:
        seen.append(repr(obj))
        seen.append(
            [
                (obj == other, obj != other, obj == 1)
                for other in [*objects, *(cls(**sample) for sample in samples)]
            ]
        )
        try:
            seen.append(hash(obj) == hash(cls(**samples[0])))
        except TypeError as error:
            seen.append(str(error))
        for action in (
            lambda victim: setattr(victim, "a", 5),
            lambda victim: delattr(victim, "a"),
            lambda victim: setattr(victim, "zz", 1),
        ):
            try:
                action(cls(**samples[0]))
                seen.append("ok")
            except (AttributeError, TypeError) as error:
                seen.append((type(error).__name__, str(error)))
        if dataclasses.fields(obj):
            seen.append(repr(dataclasses.replace(obj)))
            seen.append(repr(dataclasses.asdict(obj)))
        if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            seen.append(repr(pickle.loads(pickle.dumps(obj))))
    return seen


@pytest.mark.parametrize("case", sorted(BODIES))
def test_a_class_is_made_as_the_standard_library_makes_it(case: str) -> None:
    standard = build(BODIES[case], dataclasses.dataclass, "valueclass_case_standard")
    fast = build(BODIES[case], valueclasses.dataclass, "valueclass_case_fast")
    assert described(fast["C"]) == described(standard["C"])
    assert behaviour(fast["C"], SAMPLES[case]) == behaviour(standard["C"], SAMPLES[case])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("@dataclass\nclass C:\n    a: int = 1\n    b: int\n", "non-default argument 'b'"),
        ("@dataclass\nclass C:\n    a: list[int] = []\n", "mutable default"),
        ("@dataclass(slots=True)\nclass C:\n    __slots__ = ('a',)\n    a: int\n", "__slots__"),
        (
            "@dataclass(frozen=True)\nclass B:\n    a: int\n@dataclass\nclass C(B):\n    b: int\n",
            "non-frozen dataclass from a frozen one",
        ),
    ],
)
def test_a_mistake_fails_as_in_the_standard_library(body: str, message: str) -> None:
    errors = []
    for decorator in (dataclasses.dataclass, valueclasses.dataclass):
        with pytest.raises((TypeError, ValueError), match=message) as caught:
            build(body, decorator, "valueclass_mistake")
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


def convcost_classes() -> list[type]:
    """Every dataclass defined in convcost's modules (optional integrations skipped)."""
    classes = []
    for info in pkgutil.walk_packages(convcost.__path__, "convcost."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional dependency (onnx, numpy…) is missing
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == info.name
                and "__dataclass_fields__" in value.__dict__
            ):
                classes.append(value)
    return classes


def test_every_class_in_convcost_is_what_the_standard_library_makes() -> None:
    """Each class's source, decorated again by ``dataclasses.dataclass`` in its module's
    namespace (its bases are the classes already made): the same fields, signature, text."""
    classes = convcost_classes()
    assert len(classes) > 100  # the walk found convcost's classes
    for cls in classes:
        module = sys.modules[cls.__module__]
        namespace = dict(vars(module), dataclass=dataclasses.dataclass)
        source = textwrap.dedent(inspect.getsource(cls))
        exec(
            compile("from __future__ import annotations\n" + source, module.__file__ or "", "exec"),
            namespace,
        )
        standard = namespace[cls.__name__]
        assert described(cls) == described(standard), cls.__qualname__


COUNT_STANDARD = """
import dataclasses, sys
made = []
process = dataclasses._process_class
def recording(cls, *args):
    if cls.__module__.startswith("convcost"):  # rich makes a few of its own
        made.append(cls.__qualname__)
    return process(cls, *args)
dataclasses._process_class = recording
import convcost.cli.analyze, convcost.engine, convcost.render.formats, convcost.render.table
print(" ".join(made))
"""


FAST = pytest.mark.skipif(
    not valueclasses._FAST, reason="this Python's classes are made by dataclasses.dataclass"
)


@FAST
def test_the_command_line_makes_no_class_through_the_standard_library() -> None:
    """Every class ``analyze`` loads is made the cheap way: none fell back to the standard
    library's decorator (an ``order=True``, an ``InitVar`` or a plain ``dataclasses`` import
    would cost ~1 ms of start-up each)."""
    done = subprocess.run(
        [sys.executable, "-c", COUNT_STANDARD],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == []


@FAST
def test_init_is_compiled_after_its_interpreted_uses_from_a_subclass_too() -> None:
    made = build(BODIES["unslotted subclass"], valueclasses.dataclass, "valueclass_lazy")
    base, derived = made["Base"], made["C"]
    for value in range(valueclasses._INTERPRETED_USES):  # made field by field, not compiled
        assert repr(derived(value)) == f"C(a={value})"  # through the base's __init__
        assert not isinstance(base.__dict__["__init__"], types.FunctionType)
    assert repr(derived(a=7)) == "C(a=7)"  # the next one compiles __init__
    assert isinstance(base.__dict__["__init__"], types.FunctionType)
    assert base.__init__.__qualname__ == "Base.__init__"
    assert repr(base(a=3)) == "Base(a=3)"


@FAST
def test_a_look_up_on_the_class_compiles_init_at_once() -> None:
    standard = build(BODIES["frozen slots keywords"], dataclasses.dataclass, "valueclass_sig_std")
    made = build(BODIES["frozen slots keywords"], valueclasses.dataclass, "valueclass_sig")
    cls = made["C"]
    assert str(inspect.signature(cls)) == str(inspect.signature(standard["C"]))
    assert isinstance(cls.__dict__["__init__"], types.FunctionType)


CALLS = [
    ((), {}),
    ((1,), {}),
    ((1, 2), {}),
    ((1, 2, 3), {}),
    ((1, 2, 3, 4, 5, 6, 7, 8), {}),
    ((), {"a": 1}),
    ((1,), {"a": 1}),
    ((), {"zz": 1}),
    ((), {"a": 1, "b": (3,), "c": "x"}),
    ((), {"a": 1, "e": ()}),
    ((), {"self": 1, "a": 1}),
]
"""Calls right and wrong for every body: each makes the same object, or raises the same error,
through the interpreted first uses, the compiled ``__init__`` and the standard library's."""


@FAST
@pytest.mark.parametrize("case", sorted(BODIES))
def test_every_call_does_what_the_standard_librarys_init_does(case: str) -> None:
    def outcome(cls: type, args: tuple[object, ...], kwargs: dict[str, object]) -> str:
        try:
            made = cls(*args, **kwargs)
        except TypeError as error:
            return f"TypeError: {error}"
        values = [getattr(made, f.name, "unset") for f in dataclasses.fields(made)]
        return f"{made!r} {values!r}"  # repr=False fields too (set by __post_init__)

    def outcomes(decorator: Any) -> list[tuple[str, str]]:
        seen = []
        for args, kwargs in CALLS:
            cls = build(BODIES[case], decorator, "valueclass_call")["C"]  # a first use
            first = outcome(cls, args, kwargs)
            assert cls.__init__  # a look-up on the class: compiled from here on
            seen.append((first, outcome(cls, args, kwargs)))
        return seen

    assert outcomes(valueclasses.dataclass) == outcomes(dataclasses.dataclass)


def test_a_repr_inside_itself_is_written_as_the_standard_library_writes_it() -> None:
    # the standard library's _recursive_repr writes `...` for an object inside its own repr
    body = """
        @dataclass(slots=True)
        class C:
            a: list[object]
            b: int = 1
        """
    seen = []
    for decorator in (dataclasses.dataclass, valueclasses.dataclass):
        cls = build(body, decorator, "valueclass_recursive")["C"]
        obj = cls([])
        obj.a.append(obj)
        obj.a.append(cls([obj]))
        seen.append(repr(obj))
    # obj.a is [obj, inner], inner.a is [obj]: obj inside its own repr is `...`, twice
    assert seen[0] == seen[1] == "C(a=[..., C(a=[...], b=1)], b=1)"


@pytest.mark.parametrize("case", sorted(BODIES))
def test_the_class_namespace_holds_what_the_standard_librarys_holds(case: str) -> None:
    # a slotted class is made once from its finished namespace here: the same names in it
    standard = build(BODIES[case], dataclasses.dataclass, "valueclass_case_standard")["C"]
    fast = build(BODIES[case], valueclasses.dataclass, "valueclass_case_fast")["C"]
    assert sorted(vars(fast)) == sorted(vars(standard))

    def kinds(cls: type) -> dict[str, str]:  # __init__ is made on first use here
        return {
            name: type(value).__name__ for name, value in vars(cls).items() if name != "__init__"
        }

    assert kinds(fast) == kinds(standard)


@valueclasses.dataclass(frozen=True, slots=True)
class _Point:
    x: int
    y: int = 2
    tags: list[int] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError(f"x = {self.x}")


def test_made_is_the_value_the_class_makes() -> None:
    """``made`` against the class's own ``__init__`` (held to the standard library above):
    defaults, default factories (a new object each time), ``__post_init__``, and the errors."""
    for given in ({"x": 1}, {"x": 1, "y": 5}, {"x": 3, "tags": [4]}):
        made = valueclasses.made(_Point, **given)
        assert made == _Point(**given)  # type: ignore[arg-type]
        assert repr(made) == repr(_Point(**given))  # type: ignore[arg-type]
    assert valueclasses.made(_Point, x=1).tags is not valueclasses.made(_Point, x=1).tags
    with pytest.raises(ValueError, match=r"^x = -1$"):
        valueclasses.made(_Point, x=-1)
    with pytest.raises(TypeError, match=r"^_Point needs x$"):
        valueclasses.made(_Point, y=1)
    with pytest.raises(TypeError, match=r"^_Point has no z$"):
        valueclasses.made(_Point, x=1, z=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        valueclasses.made(_Point, x=1).x = 2  # type: ignore[misc]


def test_slot_setters_take_every_init_field_in_order_or_refuse() -> None:
    set_x, set_y, set_tags = valueclasses.slot_setters(_Point, "x", "y", "tags")
    point = object.__new__(_Point)
    set_x(point, 1)
    set_y(point, 5)
    set_tags(point, [])
    assert point == _Point(1, 5, [])
    for wrong in (("y", "x", "tags"), ("x", "y"), ("x", "y", "tags", "z")):
        with pytest.raises(TypeError, match=r"^_Point's init fields are \('x', 'y', 'tags'\)"):
            valueclasses.slot_setters(_Point, *wrong)
