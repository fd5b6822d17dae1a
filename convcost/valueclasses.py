"""``dataclass``: the standard library's decorator, made cheaply (issue 18, start-up).

On Python 3.11 and 3.12, :func:`dataclasses.dataclass` compiles every method it generates from
source, one ``exec`` each: a frozen class gets six (``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__``, ``__delattr__``), about 0.85 ms per class, and ``convcost
analyze`` creates some sixty classes before it reads a spec. Here only ``__init__`` is compiled
(it must be: its signature and speed are those of hand-written code); the other methods are
closures over the class's field names, built without the compiler, with the standard
library's behaviour and text (``tests/test_valueclasses.py`` checks both against
:func:`dataclasses.dataclass` case by case and over every class in convcost). A slotted class
is made once, from its finished namespace, where the standard library sets a dozen attributes
on the decorated class (each special method redoes its slot table) and then copies it.

The classes are ordinary dataclasses: the same :class:`dataclasses.Field` objects in
``__dataclass_fields__``, so :func:`dataclasses.fields`, :func:`~dataclasses.replace`,
:func:`~dataclasses.asdict` and mypy (through ``dataclass_transform``) treat them as the
standard library's. What this does not handle itself (``order``, ``unsafe_hash``, ``InitVar``,
``KW_ONLY``, another Python) goes to :func:`dataclasses.dataclass`.
"""

from __future__ import annotations

import abc
import importlib
import itertools
import sys
import types
from typing import TYPE_CHECKING, Any, TypeVar, dataclass_transform, overload


class _Deferred(types.ModuleType):
    """What :mod:`dataclasses` binds as ``inspect`` or ``copy`` when this module imports it
    first: the real module is imported when an attribute is first read. ``dataclasses`` reads
    ``inspect.signature`` to write the docstring of a class without one (never for the classes
    :func:`dataclass` builds, which write their own) and ``copy.deepcopy`` in
    :func:`~dataclasses.asdict` and :func:`~dataclasses.astuple`. :mod:`inspect` (with
    :mod:`ast`, :mod:`dis` and :mod:`tokenize`) is a third of the import's cost; :mod:`copy`
    (with :mod:`weakref`) 3.6 M instructions, 1.4% of ``convcost analyze resnet50``."""

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module(self.__name__)
        setattr(dataclasses, self.__name__, module)
        return getattr(module, name)


def _import_dataclasses() -> None:
    """Import :mod:`dataclasses` with a :class:`_Deferred` in place of :mod:`inspect` and of
    :mod:`copy` (of each not imported already); ``sys.modules`` is left as it was."""
    if "dataclasses" in sys.modules:
        return
    deferred = {name: _Deferred(name) for name in ("inspect", "copy") if name not in sys.modules}
    sys.modules.update(deferred)
    try:
        import dataclasses  # noqa: F401, PLC0415
    finally:
        for name, module in deferred.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_import_dataclasses()

import dataclasses  # noqa: E402
from _thread import get_ident  # noqa: E402
from dataclasses import MISSING, Field, FrozenInstanceError, field, fields, replace  # noqa: E402
from operator import attrgetter  # noqa: E402
from types import FunctionType, MemberDescriptorType, MethodType  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["dataclass", "field", "fields", "made", "replace", "slot_setters"]
"""``field``, ``fields`` and ``replace`` are the standard library's, imported here after
:mod:`dataclasses` is loaded without :mod:`inspect`: a module that imported :mod:`dataclasses`
first would load inspect (ast, dis, tokenize) for every library user."""

T = TypeVar("T")

_STANDARD = dataclasses.dataclass
_FAST = (3, 11) <= sys.version_info[:2] <= (3, 12) and all(
    hasattr(dataclasses, name)
    for name in (
        "_FIELD",
        "_HAS_DEFAULT_FACTORY",
        "_DataclassParams",
        "_add_slots",
        "_dataclass_getstate",
        "_dataclass_setstate",
        "_get_slots",
        "_get_field",
    )
)
"""Whether this Python has the private helpers this module reuses (3.11 and 3.12, checked with
``tests/test_valueclasses.py``; 3.13 compiles all of a class's methods in one ``exec`` and
gets the standard decorator)."""


@overload
def dataclass(cls: type[T], /) -> type[T]: ...


@overload
def dataclass(
    *,
    init: bool = True,
    repr: bool = True,
    eq: bool = True,
    order: bool = False,
    unsafe_hash: bool = False,
    frozen: bool = False,
    match_args: bool = True,
    kw_only: bool = False,
    slots: bool = False,
    weakref_slot: bool = False,
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(field, Field))
def dataclass(
    cls: type[T] | None = None,
    /,
    *,
    init: bool = True,
    repr: bool = True,
    eq: bool = True,
    order: bool = False,
    unsafe_hash: bool = False,
    frozen: bool = False,
    match_args: bool = True,
    kw_only: bool = False,
    slots: bool = False,
    weakref_slot: bool = False,
) -> type[T] | Callable[[type[T]], type[T]]:
    """:func:`dataclasses.dataclass`, with the same arguments and result."""
    options = {
        "init": init,
        "repr": repr,
        "eq": eq,
        "order": order,
        "unsafe_hash": unsafe_hash,
        "frozen": frozen,
        "match_args": match_args,
        "kw_only": kw_only,
        "slots": slots,
        "weakref_slot": weakref_slot,
    }

    def wrap(cls: type[T]) -> type[T]:
        made = _build(cls, **options) if _FAST and not (order or unsafe_hash) else None
        return made if made is not None else _STANDARD(cls, **options)

    return wrap if cls is None else wrap(cls)


def _build(
    cls: type[T],
    *,
    init: bool,
    repr: bool,
    eq: bool,
    order: bool,
    unsafe_hash: bool,
    frozen: bool,
    match_args: bool,
    kw_only: bool,
    slots: bool,
    weakref_slot: bool,
) -> type[T] | None:
    """``cls`` made a dataclass as :func:`dataclasses._process_class` makes it, or None (and
    ``cls`` untouched) for what only the standard library handles."""
    # inspect.get_annotations(cls), without importing inspect
    annotations = dict(cls.__dict__.get("__annotations__") or {})  # noqa: RUF063
    for annotation in annotations.values():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if "InitVar" in text or "KW_ONLY" in text or type(annotation) is dataclasses.InitVar:
            return None
    if weakref_slot and not slots:
        return None  # the standard library's TypeError

    module = sys.modules.get(cls.__module__)
    namespace = module.__dict__ if module is not None else {}
    params = (init, repr, eq, order, unsafe_hash, frozen)
    if sys.version_info >= (3, 12):
        params += (match_args, kw_only, slots, weakref_slot)
    if slots and "__slots__" in cls.__dict__:
        raise TypeError(f"{cls.__name__} already specifies __slots__")

    fields = _collect(cls, annotations, frozen=frozen, kw_only=kw_only)
    added: dict[str, Any] = {
        "__dataclass_params__": dataclasses._DataclassParams(*params),  # type: ignore[attr-defined]
        "__dataclass_fields__": fields,
    }
    """What the decorator adds to the class: set on it at the end, or (slots) in the namespace
    the slotted class is made from, so that it costs no update of the first class's slots."""

    real = [f for f in fields.values() if f._field_type is dataclasses._FIELD]  # type: ignore[attr-defined]
    positional = [f for f in real if f.init and not f.kw_only]
    keywords = [f for f in real if f.init and f.kw_only]
    lazy = None
    if init:
        _check_defaults(positional)
        post_init = hasattr(cls, "__post_init__")
        lazy = _LazyInit(
            lambda: _init(cls, fields, positional, keywords, frozen, slots, post_init, namespace),
            lambda: _Interpreted(
                fields, positional, keywords, frozen=frozen, slots=slots, post=post_init
            ),
        )
        if _set_new(cls, added, "__init__", lazy):
            lazy = None
    _add_methods(cls, added, real, repr=repr, eq=eq, frozen=frozen)
    described = bool(cls.__doc__)
    if not described and _signature_known(cls, positional, keywords, lazy is not None):
        added["__doc__"] = cls.__name__ + _signature_text(positional, keywords)
        described = True
    if match_args:
        _set_new(cls, added, "__match_args__", tuple(f.name for f in positional))
    if slots and _ONE_CLASS:
        cls = _slotted(cls, added, real, frozen=frozen, weakref_slot=weakref_slot)
    else:
        for name, value in added.items():
            setattr(cls, name, value)
        if slots:
            cls = dataclasses._add_slots(cls, frozen, weakref_slot)  # type: ignore[attr-defined]
    if lazy is not None:
        lazy.owner = cls
    if not described:
        cls.__doc__ = cls.__name__ + _inspected_signature(cls)
    if not (slots and _ONE_CLASS and type(cls) in (type, abc.ABCMeta)):
        abc.update_abstractmethods(cls)  # (a slotted class's metaclass did it from its namespace)
    return cls


_ONE_CLASS = sys.version_info[:2] == (3, 11)
"""Whether a slotted class is made from the finished namespace (:func:`_slotted`), as
:func:`dataclasses._add_slots` of Python 3.11 makes it from the decorated class's."""


def _slotted(
    cls: type, added: dict[str, Any], real: list[Field[Any]], *, frozen: bool, weakref_slot: bool
) -> type:
    """:func:`dataclasses._add_slots` (Python 3.11) of ``cls`` with ``added`` set on it, without
    setting them on ``cls`` first: the same class, made once rather than updated a dozen
    times (each update of a special method redoes the class's slot table) and then made."""
    namespace = dict(cls.__dict__)
    namespace.update(added)
    field_names = tuple(f.name for f in real)
    slots_of = dataclasses._get_slots  # type: ignore[attr-defined]
    inherited = set(itertools.chain.from_iterable(map(slots_of, cls.__mro__[1:-1])))
    wanted = (*field_names, "__weakref__") if weakref_slot else field_names
    namespace["__slots__"] = tuple(name for name in wanted if name not in inherited)
    for name in field_names:
        namespace.pop(name, None)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__qualname__"] = cls.__qualname__
    if frozen:  # pickling a frozen class with slots
        namespace.setdefault("__getstate__", dataclasses._dataclass_getstate)  # type: ignore[attr-defined]
        namespace.setdefault("__setstate__", dataclasses._dataclass_setstate)  # type: ignore[attr-defined]
    return type(cls)(cls.__name__, cls.__bases__, namespace)


def _collect(
    cls: type, annotations: dict[str, Any], *, frozen: bool, kw_only: bool
) -> dict[str, Field[Any]]:
    """The fields of ``cls`` and of its dataclass bases (``__dataclass_fields__``)."""
    fields: dict[str, Field[Any]] = {}
    any_frozen_base = has_dataclass_bases = False
    for base in cls.__mro__[-1:0:-1]:
        base_fields = getattr(base, "__dataclass_fields__", None)
        if base_fields is not None:
            has_dataclass_bases = True
            fields.update(base_fields)
            if base.__dataclass_params__.frozen:  # type: ignore[attr-defined]
                any_frozen_base = True
    own = [_get_field(cls, name, kind, kw_only) for name, kind in annotations.items()]
    for f in own:
        fields[f.name] = f
        if isinstance(getattr(cls, f.name, None), Field):
            if f.default is MISSING:
                delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    if has_dataclass_bases and any_frozen_base != frozen:
        if frozen:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
        raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
    return fields


def _add_methods(
    cls: type, added: dict[str, Any], real: list[Field[Any]], *, repr: bool, eq: bool, frozen: bool
) -> None:
    """``__repr__``, ``__eq__``, ``__setattr__``/``__delattr__`` and ``__hash__``, as the
    standard library's decorator adds them (to ``added``)."""
    class_hash = cls.__dict__.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    if repr:
        _set_new(cls, added, "__repr__", _repr(cls, tuple(f.name for f in real if f.repr)))
    if eq:
        _set_new(cls, added, "__eq__", _eq(cls, tuple(f.name for f in real if f.compare)))
    if frozen:
        for method in _frozen(cls, tuple(f.name for f in real)):
            if _set_new(cls, added, method.__name__, method):
                raise TypeError(
                    f"Cannot overwrite attribute {method.__name__} in class {cls.__name__}"
                )
    if eq and not explicit_hash:
        if frozen:
            hashed = tuple(f.name for f in real if (f.compare if f.hash is None else f.hash))
            added["__hash__"] = _hash(cls, hashed)
        else:
            added["__hash__"] = None


def _signature_known(
    cls: type, positional: list[Field[Any]], keywords: list[Field[Any]], made_init: bool
) -> bool:
    """Whether ``inspect.signature(cls)`` is what :func:`_signature_text` writes from the
    fields: ``__init__`` is the one made here and every annotation is text."""
    return (
        made_init
        and "__new__" not in cls.__dict__
        and type(cls).__call__ is type.__call__
        and all(isinstance(f.type, str) for f in positional + keywords)
    )


def _signature_text(positional: list[Field[Any]], keywords: list[Field[Any]]) -> str:
    """``str(inspect.signature(cls))`` without ``-> None``, the standard library's docstring
    for a dataclass without one, written from the fields (``inspect`` takes ~0.1 ms a
    class)."""

    def parameter(f: Field[Any]) -> str:
        if f.default_factory is not MISSING:
            return f"{f.name}: {f.type!r} = <factory>"
        if f.default is not MISSING:
            return f"{f.name}: {f.type!r} = {f.default!r}"
        return f"{f.name}: {f.type!r}"

    names = [parameter(f) for f in positional]
    if keywords:
        names += ["*", *map(parameter, keywords)]
    return f"({', '.join(names)})"


def _inspected_signature(cls: type) -> str:
    """The docstring's signature of a class whose signature is not its fields'."""
    import inspect  # noqa: PLC0415

    try:
        return str(inspect.signature(cls)).replace(" -> None", "")
    except (TypeError, ValueError):
        return ""


def _get_field(cls: type, name: str, kind: Any, kw_only: bool) -> Field[Any]:
    """:func:`dataclasses._get_field` without its regular expressions for an annotation that
    cannot be a ``ClassVar`` (``InitVar`` and ``KW_ONLY`` went to the standard library)."""
    if not isinstance(kind, str) or "ClassVar" in kind:
        return dataclasses._get_field(cls, name, kind, kw_only)  # type: ignore[attr-defined,no-any-return]
    default: Any = getattr(cls, name, MISSING)
    if isinstance(default, Field):
        f = default
    else:
        if isinstance(default, MemberDescriptorType):  # a slot of a base class: no default
            default = MISSING
        # field(default=default), made without field()'s call (positional: init, repr, hash,
        # compare, metadata, kw_only)
        f = Field(default, MISSING, True, True, None, True, None, MISSING)  # type: ignore[arg-type]
    f.name = name
    f.type = kind
    f._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
    if f.kw_only is MISSING:
        f.kw_only = kw_only
    if f.default.__class__.__hash__ is None:
        raise ValueError(
            f"mutable default {type(f.default)} for field {f.name} is not allowed: "
            "use default_factory"
        )
    return f


def _set_new(cls: type, added: dict[str, Any], name: str, value: Any) -> bool:
    """Add ``name`` unless the class body defined it; whether it did (as
    :func:`dataclasses._set_new_attribute`)."""
    if name in cls.__dict__:
        return True
    if isinstance(value, FunctionType):
        value.__qualname__ = f"{cls.__qualname__}.{value.__name__}"
    added[name] = value
    return False


def _check_defaults(positional: list[Field[Any]]) -> None:
    seen_default = False
    for f in positional:
        if not (f.default is MISSING and f.default_factory is MISSING):
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")


_INTERPRETED_USES = 4
"""Objects a class makes through :class:`_Interpreted` before its ``__init__`` is compiled:
half the classes ``analyze resnet50`` loads make at most this many, and compiling one costs
about as much as making a hundred objects the interpreted way."""


class _LazyInit:
    """A class's ``__init__`` until it is compiled: the first :data:`_INTERPRETED_USES` objects
    are made by :class:`_Interpreted` (itself made for the first: about half the classes a
    command loads make none); the next one, or any look-up on the class itself
    (``C.__init__``, its signature), compiles ``__init__`` and puts it in this one's place."""

    __slots__ = ("compile", "interpret", "interpreted", "owner", "uses")
    interpreted: Callable[..., None] | None

    def __init__(
        self, compile: Callable[[], Callable[..., None]], interpret: Callable[[], _Interpreted]
    ) -> None:
        self.compile = compile
        self.interpret = interpret
        self.interpreted = None
        self.owner: type | None = None  # the class, once made (slots make a new one)
        self.uses = 0

    def __get__(self, obj: object, kind: type | None = None) -> Any:
        if obj is not None and self.uses < _INTERPRETED_USES:
            self.uses += 1
            if self.interpreted is None:
                self.interpreted = self.interpret().bind(self)
            return MethodType(self.interpreted, obj)
        return self.compiled().__get__(obj, kind)

    def compiled(self) -> Callable[..., None]:
        function = self.compile()
        assert self.owner is not None
        if self.owner.__dict__.get("__init__") is self:
            type.__setattr__(self.owner, "__init__", function)
        return function


class _Interpreted:
    """What the compiled ``__init__`` does, done field by field for a call it binds simply
    (positional arguments within the positional fields, keywords naming init fields, no
    argument twice, none missing); any other call goes to the compiled ``__init__``, so that
    every error is its own."""

    __slots__ = ("keywords", "plan", "positional", "post_init", "required", "set")

    def __init__(
        self,
        fields: dict[str, Field[Any]],
        positional: list[Field[Any]],
        keywords: list[Field[Any]],
        *,
        frozen: bool,
        slots: bool,
        post: bool,
    ) -> None:
        self.positional = tuple(f.name for f in positional)
        self.keywords = frozenset(f.name for f in positional + keywords)
        self.required = frozenset(
            f.name
            for f in positional + keywords
            if f.default is MISSING and f.default_factory is MISSING
        )
        plan: list[tuple[str, bool, object, object]] = []  # name, init, default, factory
        for f in fields.values():
            if f._field_type is not dataclasses._FIELD:  # type: ignore[attr-defined]
                continue
            if f.init or f.default_factory is not MISSING or (slots and f.default is not MISSING):
                plan.append((f.name, f.init, f.default, f.default_factory))
        self.plan = tuple(plan)
        self.set: Callable[[object, str, object], None] = object.__setattr__ if frozen else setattr
        self.post_init = post

    def bind(self, lazy: _LazyInit) -> Callable[..., None]:
        def __init__(obj: Any, /, *args: object, **kwargs: object) -> None:
            positional = self.positional
            given = dict(zip(positional, args, strict=False))  # more args: checked below
            if (
                len(args) > len(positional)
                or not self.keywords.issuperset(kwargs)
                or not given.keys().isdisjoint(kwargs)
                or not self.required.issubset(given.keys() | kwargs.keys())
            ):
                lazy.compiled()(obj, *args, **kwargs)  # its own TypeError
                return
            given.update(kwargs)
            for name, init, default, factory in self.plan:
                if init and name in given:
                    value = given[name]
                elif factory is not MISSING:
                    value = factory()  # type: ignore[operator]
                else:
                    value = default
                self.set(obj, name, value)
            if self.post_init:
                obj.__post_init__()

        return __init__


def _init(
    cls: type,
    fields: dict[str, Field[Any]],
    positional: list[Field[Any]],
    keywords: list[Field[Any]],
    frozen: bool,
    slots: bool,
    post_init: bool,
    namespace: dict[str, Any],
) -> Callable[..., None]:
    """``__init__``, compiled as :func:`dataclasses._init_fn` writes it (one ``exec``)."""
    self = "__dataclass_self__" if "self" in fields else "self"
    values: dict[str, Any] = {"__dataclass_setattr__": object.__setattr__}
    factory = dataclasses._HAS_DEFAULT_FACTORY  # type: ignore[attr-defined]
    body = []
    for f in fields.values():
        if f._field_type is not dataclasses._FIELD:  # type: ignore[attr-defined]
            continue
        default = f"__dataclass_dflt_{f.name}__"
        if f.default_factory is not MISSING:
            values[default] = f.default_factory
            value = f"{default}() if {f.name} is __dataclass_factory__ else {f.name}"
            if not f.init:
                value = f"{default}()"
            values["__dataclass_factory__"] = factory
        elif f.init:
            if f.default is not MISSING:
                values[default] = f.default
            value = f.name
        elif slots and f.default is not MISSING:
            values[default] = f.default
            value = default
        else:
            continue
        if frozen:
            body.append(f"__dataclass_setattr__({self},{f.name!r},{value})")
        else:
            body.append(f"{self}.{f.name}={value}")
    if post_init:
        body.append(f"{self}.__post_init__()")

    def parameter(f: Field[Any]) -> str:
        if f.default_factory is not MISSING:
            return f"{f.name}=__dataclass_factory__"
        if f.default is not MISSING:
            return f"{f.name}=__dataclass_dflt_{f.name}__"
        return f.name

    names = [self, *map(parameter, positional)]
    if keywords:
        names += ["*", *map(parameter, keywords)]
    lines = "\n  ".join(body or ["pass"])
    source = (  # nested, so that __init__'s globals are its module's (get_type_hints reads them)
        f"def __create_fn__({', '.join(values)}):\n"
        f" def __init__({', '.join(names)}):\n  {lines}\n"
        " return __init__"
    )
    scope: dict[str, Any] = {}
    exec(source, namespace, scope)
    function: Callable[..., None] = scope["__create_fn__"](**values)
    function.__qualname__ = f"{cls.__qualname__}.__init__"
    function.__annotations__ = {f.name: f.type for f in positional + keywords}
    function.__annotations__["return"] = None
    return function


def _repr(cls: type, names: tuple[str, ...]) -> Callable[[Any], str]:
    running: set[tuple[int, int]] = set()
    """The objects (and threads) whose repr is being written: ``...`` for an object inside
    itself, as :func:`dataclasses._recursive_repr` writes it (without ``functools.wraps``)."""

    def __repr__(self: Any) -> str:
        key = id(self), get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            qualname: str = self.__class__.__qualname__
            return (
                qualname
                + "("
                + ", ".join([f"{name}={getattr(self, name)!r}" for name in names])
                + ")"
            )
        finally:
            running.discard(key)

    return __repr__


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of these attributes of an object (what the generated methods compare)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        (name,) = names
        return lambda obj: (getattr(obj, name),)
    return lambda obj: ()


def _eq(cls: type, names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    values = _values(names)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash(cls: type, names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _values(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    __hash__.__qualname__ = f"{cls.__qualname__}.__hash__"
    return __hash__


def _frozen(cls: type, names: tuple[str, ...]) -> tuple[Callable[..., None], ...]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)  # type: ignore[arg-type]

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)  # type: ignore[arg-type]

    return __setattr__, __delattr__


# Hot constructors. A value class compiles its ``__init__`` past its first few objects, which
# costs more than the few dozen objects a run makes of most classes; the constructors on
# ``analyze``'s path (layers, nodes, costs, reports, windows, table columns) fill the slots
# instead, through one of these two, so that this bypass is written once.

_MADE: dict[type, tuple[tuple[str, object, object, Callable[[Any, Any], None]], ...]] = {}
"""Each class :func:`made` has made: its init fields' names, defaults, default factories and
slot setters."""


def made(cls: type[T], /, **values: Any) -> T:
    """``cls(**values)`` for a slotted value class, without calling ``__init__``: the same
    value (defaults, default factories and ``__post_init__`` included), and a ``TypeError`` for
    a field missing or unknown. The price is the static check of the names: mypy sees
    ``**values: Any``, so keep it to constructors the tests run."""
    slots = _MADE.get(cls)
    if slots is None:
        slots = _MADE[cls] = tuple(
            (f.name, f.default, f.default_factory, cls.__dict__[f.name].__set__)
            for f in fields(cls)  # type: ignore[arg-type]
            if f.init
        )
    obj = object.__new__(cls)
    for name, default, factory, set_field in slots:
        value = values.pop(name, default)
        if value is MISSING:
            if factory is MISSING:
                raise TypeError(f"{cls.__name__} needs {name}")
            value = factory()  # type: ignore[operator]
        set_field(obj, value)
    if values:
        raise TypeError(f"{cls.__name__} has no {', '.join(values)}")
    post_init = getattr(obj, "__post_init__", None)
    if post_init is not None:
        post_init()
    return obj


def slot_setters(cls: type, *names: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The setters of ``cls``'s slots ``names``, for the hottest constructors (faster than
    :func:`made`: no loop, no defaults). ``names`` must be all of the class's init fields in
    declaration order, so that a field added, removed or reordered fails here, at import,
    rather than leaving a slot unset or filling it from another field."""
    declared = tuple(f.name for f in fields(cls) if f.init)
    if names != declared:
        raise TypeError(f"{cls.__qualname__}'s init fields are {declared}, not {names}")
    return tuple(cls.__dict__[name].__set__ for name in names)
