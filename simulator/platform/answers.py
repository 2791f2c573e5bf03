"""A plugin's answers, judged at the boundary before the platform or a checker sees them.

A plugin's return value is untrusted input, whether it came back from an in-process
call or was decoded from a child process. :func:`accept_answer` takes it apart by
exact type, as a deserialiser would, and returns either a **copy** that the harness
owns (a plugin that mutates what it returned changes nothing the harness judges) or a
sentence naming the offending field:

- a model built with ``model_construct`` (or ``object.__setattr__``) holding a naive
  datetime, a string date, a float size or a wrong enum value;
- a subclass of a contract model, or a dict, where the model is due;
- an attribute the model does not declare, or a field it lacks;
- a list where a set is due, ``None`` where a list is due, and so on.

Which shape each operation returns is one table, :data:`RETURNS`: an operation added to
the contract adds one line there. Valid answers take the fast path: a few ``type(...)
is`` tests per field, no pydantic. Only a failing answer takes the slow path, which
explains what is wrong. pydantic's own strict validation cannot be the judge here: it
accepts subclasses of ``str`` and of the models, and it does not look inside a nested
model instance, which is where a ``model_construct``\\ ed restore hides its naive date.

:func:`handed_copy` is the other direction: what a plugin is handed is a copy, so a
plugin that rewrites its arguments past the frozen model (``object.__setattr__``)
changes neither the platform's state nor what the checkers judge.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

from simulator import contract
from simulator.contract import (
    BackupResult,
    BackupType,
    ContractModel,
    Operation,
    RestoreResult,
    ResultState,
)

__all__ = ["RETURNS", "Returns", "accept_answer", "handed_args", "handed_copy"]

Shape = Literal["none", "model", "optional-model", "list", "bool", "set"]


@dataclass(frozen=True, slots=True)
class Returns:
    """What one operation returns: a shape and, for models and collections, the item type."""

    shape: Shape
    item: type | None = None

    def describe(self) -> str:
        """The type as the contract spells it, e.g. ``list[BackupResult]``."""
        name = self.item.__name__ if self.item is not None else ""
        return {
            "none": "None",
            "model": name,
            "optional-model": f"{name} | None",
            "list": f"list[{name}]",
            "bool": "bool",
            "set": f"frozenset[{name}]",
        }[self.shape]


#: What each operation (by wire name) must return. One line per operation.
RETURNS: dict[str, Returns] = {
    Operation.APPLY_SCHEDULE.value: Returns("none"),
    Operation.APPLY_NEW_SCHEDULE.value: Returns("none"),
    Operation.REMOVE_SCHEDULE.value: Returns("none"),
    Operation.EXECUTE_BACKUP.value: Returns("model", BackupResult),
    Operation.EXECUTE_RESTORE.value: Returns("model", RestoreResult),
    Operation.LIST_RESULTS.value: Returns("list", BackupResult),
    Operation.GET_EXPIRED_RESULTS.value: Returns("list", str),
    Operation.IS_BACKUP_EXPIRED.value: Returns("bool"),
    Operation.GET_BACKUP_RESULT.value: Returns("optional-model", BackupResult),
    Operation.GET_RESTORE_RESULT.value: Returns("optional-model", RestoreResult),
    Operation.LIST_NEW_BACKUP_RESULTS.value: Returns("list", BackupResult),
    Operation.LIST_NEW_RESTORE_RESULTS.value: Returns("list", RestoreResult),
    # A Java Set: a frozenset (or set) in Python, kept as a frozenset.
    Operation.LIST_VIRTUAL_MACHINES_IN_BACKUP_POLICY.value: Returns("set", str),
}


class _Bad(Exception):
    """An answer is not of its type; the message names where."""


_NONE = type(None)
_MISSING = object()


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    types: tuple[type, ...]
    aware: bool = False
    items: type | None = None


def _fields(*spec: _Field) -> tuple[_Field, ...]:
    return spec


_STR, _OPT_STR = (str,), (str, _NONE)
_DATE, _OPT_DATE = (datetime,), (datetime, _NONE)

#: The exact field types of the models a plugin returns.
_MODELS: dict[type[ContractModel], tuple[_Field, ...]] = {
    RestoreResult: _fields(
        _Field("provider_id", _STR),
        _Field("backup_provider_id", _STR),
        _Field("state", (ResultState,)),
        _Field("creation_date", _DATE, aware=True),
        _Field("finish_date", _OPT_DATE, aware=True),
        _Field("message", _OPT_STR),
    ),
    BackupResult: _fields(
        _Field("provider_id", _STR),
        _Field("vm_uuid", _STR),
        _Field("name", _STR),
        _Field("type", (BackupType,)),
        _Field("state", (ResultState,)),
        _Field("creation_date", _DATE, aware=True),
        _Field("finish_date", _OPT_DATE, aware=True),
        _Field("expiration_date", _OPT_DATE, aware=True),
        _Field("size_bytes", (int,)),
        _Field("replication", (bool,)),
        _Field("on_demand", (bool,)),
        _Field("message", _OPT_STR),
        _Field("restores", (tuple,), items=RestoreResult),
    ),
}


def _brief(value: Any) -> str:
    """A short, safe description of a value: never calls a method of a foreign type."""
    kind = type(value)
    if kind is str:
        text: str = value
        return repr(text[:60]) + ("..." if len(text) > 60 else "")
    if kind is int:
        n: int = value
        return str(n) if -(10**18) < n < 10**18 else f"an int of {n.bit_length()} bits"
    if kind in (float, bool, _NONE):
        return repr(value)
    if kind is datetime:
        return f"datetime {value.replace(tzinfo=None).isoformat()}" + (
            "" if value.tzinfo is None else " (with a tzinfo)"
        )
    if isinstance(value, Enum) and kind in (BackupType, ResultState):
        return f"{kind.__name__}.{value.name}"
    return f"a {kind.__name__}"


_ONLY_STR = frozenset({str})


def _expected(types: tuple[type, ...]) -> str:
    return " or ".join("None" if t is _NONE else t.__name__ for t in types)


def _aware(v: Any) -> bool:
    return type(v) is datetime and v.utcoffset() is not None


def _restore_is_exact(held: dict[str, Any]) -> bool:
    """The fast path of :data:`_MODELS` ``[RestoreResult]``: every field of its exact type."""
    finish = held["finish_date"]
    message = held["message"]
    return (
        len(held) == 6
        and type(held["provider_id"]) is str
        and type(held["backup_provider_id"]) is str
        and type(held["state"]) is ResultState
        and _aware(held["creation_date"])
        and (finish is None or _aware(finish))
        and (message is None or type(message) is str)
    )


def _backup_is_exact(held: dict[str, Any]) -> bool:
    """The fast path of :data:`_MODELS` ``[BackupResult]``: every field of its exact type.

    Written out, not a loop over the table: a loop costs three times as much, and every
    result of every listing passes here (a test holds the two to the same answers). UTC
    is tested by identity first: ``utcoffset()`` costs four times as much.
    """
    created = held["creation_date"]
    finish = held["finish_date"]
    expiration = held["expiration_date"]
    message = held["message"]
    return (
        len(held) == 13
        and type(held["provider_id"]) is str
        and type(held["vm_uuid"]) is str
        and type(held["name"]) is str
        and type(held["type"]) is BackupType
        and type(held["state"]) is ResultState
        and type(created) is datetime
        and (created.tzinfo is UTC or created.utcoffset() is not None)
        and (
            finish is None
            or (
                type(finish) is datetime
                and (finish.tzinfo is UTC or finish.utcoffset() is not None)
            )
        )
        and (
            expiration is None
            or (
                type(expiration) is datetime
                and (expiration.tzinfo is UTC or expiration.utcoffset() is not None)
            )
        )
        and type(held["size_bytes"]) is int
        and type(held["replication"]) is bool
        and type(held["on_demand"]) is bool
        and (message is None or type(message) is str)
        and type(held["restores"]) is tuple
    )


_IS_EXACT: dict[type[ContractModel], Callable[[dict[str, Any]], bool]] = {
    BackupResult: _backup_is_exact,
    RestoreResult: _restore_is_exact,
}


def _model_copy(cls: type[ContractModel], value: Any, where: str) -> Any:
    """A copy of ``value``, a model that must be exactly ``cls``; raise :class:`_Bad`.

    The fast path only tests; :func:`_why_not` explains a failure.
    """
    if type(value) is not cls or value.__pydantic_extra__:
        raise _Bad(_why_not(cls, value, where))
    held = value.__dict__
    try:
        exact = _IS_EXACT[cls](held)
    except KeyError:
        exact = False
    if not exact:
        raise _Bad(_why_not(cls, value, where))
    values = dict(held)
    restores = held.get("restores")
    if restores:
        values["restores"] = tuple(
            _model_copy(RestoreResult, r, f"{where}.restores[{i}]") for i, r in enumerate(restores)
        )
    # The copy is the harness's own, of valid values: the contract's unvalidated fast path.
    return cls._trusted(values)


def _why_not(cls: type[ContractModel], value: Any, where: str) -> str:
    """Why ``value`` is not a valid ``cls`` (the slow path: only for a bad answer)."""
    if type(value) is not cls:
        if isinstance(value, dict):
            return f"{where} is a dict, expected {cls.__name__} (build the model itself)"
        if isinstance(value, cls):
            return (
                f"{where} is {type(value).__name__}, a subclass of {cls.__name__}; the "
                f"contract takes {cls.__name__} itself"
            )
        return f"{where} is {_brief(value)}, expected {cls.__name__}"
    fields = _MODELS[cls]
    held = value.__dict__
    declared = {f.name for f in fields}
    extra = sorted(set(held) - declared) + sorted(value.__pydantic_extra__ or ())
    if extra:
        return f"{where} has an attribute {cls.__name__} does not declare: {extra[0]!r}"
    missing = sorted(declared - set(held))
    if missing:
        return f"{where}.{missing[0]} is missing (was it built with model_construct?)"
    for f in fields:
        v = held[f.name]
        kind = type(v)
        if kind not in f.types:
            return f"{where}.{f.name}: expected {_expected(f.types)}, got {_brief(v)}"
        if f.aware and kind is datetime and v.utcoffset() is None:
            return f"{where}.{f.name}: expected a timezone-aware datetime, got a naive {_brief(v)}"
    return f"{where} is not a valid {cls.__name__}"


def _accept(returns: Returns, value: Any, op: str) -> Any:
    shape, item = returns.shape, returns.item
    if shape == "none":
        if value is not None:
            raise _Bad(f"{op} returned {_brief(value)}, expected None")
        return None
    if shape == "bool":
        if type(value) is not bool:
            raise _Bad(f"{op} returned {_brief(value)}, expected bool")
        return value
    if shape == "model" or (shape == "optional-model" and value is not None):
        assert item is not None and issubclass(item, ContractModel)
        return _model_copy(item, value, f"{op}'s result")
    if shape == "optional-model":
        return None
    assert item is not None
    wanted = (list, tuple) if shape == "list" else (frozenset, set)
    if type(value) not in wanted:
        raise _Bad(f"{op} returned {_brief(value)}, expected {returns.describe()}")
    if item is str:
        # The types at C speed first: a 4.0.4 answer holds tens of thousands of ids.
        if not _ONLY_STR.issuperset(map(type, value)):
            for i, element in enumerate(value):
                if type(element) is not str:
                    raise _Bad(f"{op} item {i} is {_brief(element)}, expected str")
        return list(value) if shape == "list" else frozenset(value)
    assert issubclass(item, ContractModel)
    if item is BackupResult:
        try:
            return _backup_results(value)
        except (KeyError, _Bad):
            pass  # the slow path below names the element
    # One copy per distinct object: an answer that repeats one result a million times
    # costs one copy, not a million (``value`` keeps every id alive meanwhile).
    copies: dict[int, Any] = {}
    out = []
    for i, element in enumerate(value):
        mine = copies.get(id(element))
        if mine is None:
            mine = copies[id(element)] = _model_copy(item, element, f"{op} item {i}")
        out.append(mine)
    return out


def _backup_results(value: list[Any] | tuple[Any, ...]) -> list[BackupResult]:
    """Copies of a listing's results, :func:`_model_copy` inlined for the common case
    (every check's answer passes here); raise :class:`_Bad` or ``KeyError`` otherwise."""
    copies: dict[int, BackupResult] = {}
    out: list[BackupResult] = []
    append = out.append
    is_exact = _backup_is_exact
    trusted = BackupResult._trusted
    for element in value:
        key = id(element)
        mine = copies.get(key)
        if mine is None:
            if (
                type(element) is not BackupResult
                or element.__pydantic_extra__
                or not is_exact(held := element.__dict__)
            ):
                raise _Bad("not a valid BackupResult")
            if held["restores"]:
                mine = _model_copy(BackupResult, element, "a listing's result")
            else:
                mine = trusted(dict(held))
            copies[key] = mine
        append(mine)
    return out


def accept_answer(op: str, value: Any) -> tuple[Any, str | None]:
    """``(copy, None)`` when ``value`` is what ``op`` returns, else ``(None, why)``.

    Never raises for a hostile value (a ``__eq__`` or ``utcoffset`` that raises, a
    ``__str__`` that raises): what cannot be inspected is not well typed. An operation
    missing from :data:`RETURNS` is accepted as is.
    """
    returns = RETURNS.get(op)
    if returns is None:
        return value, None
    try:
        return _accept(returns, value, op), None
    except _Bad as bad:
        return None, str(bad)
    except Exception as exc:  # noqa: BLE001 - a value whose own methods raise is ill-typed
        return None, f"{op}'s answer could not be inspected: {type(exc).__name__} raised"


#: The contract's enums (BackupType, Periodicity, ...): their members are immutable.
_CONTRACT_ENUMS = [
    v for v in vars(contract).values() if isinstance(v, type) and issubclass(v, Enum)
]
_IMMUTABLE: frozenset[type] = frozenset(
    {str, int, float, bool, bytes, _NONE, datetime, frozenset, *_CONTRACT_ENUMS}
)


def _mutable_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``cls`` whose declared type can hold a model, a secret or a list."""

    def mutable(annotation: Any) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel | SecretStr):
            return True
        if typing.get_origin(annotation) is list:
            return True
        return any(mutable(a) for a in typing.get_args(annotation))

    return tuple(name for name, f in cls.model_fields.items() if mutable(f.annotation))


_MUTABLE_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}


def handed_copy(value: Any) -> Any:
    """A copy of an argument for a plugin: contract models, lists and secrets anew.

    Immutable values are shared; a contract model is copied with every model inside it
    (they are frozen only against ``setattr``, not ``object.__setattr__``); anything else
    is deep-copied. The platform builds the arguments, so a model's fields hold what
    their annotations say: only those that can hold something mutable are walked.
    """
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if isinstance(value, ContractModel):
        walk = _MUTABLE_FIELDS.get(kind)
        if walk is None:
            walk = _MUTABLE_FIELDS[kind] = _mutable_fields(kind)
        values = dict(value.__dict__)
        for name in walk:
            v = values[name]
            if type(v) is tuple:
                values[name] = tuple(handed_copy(x) for x in v)
            elif v is not None:
                values[name] = handed_copy(v)
        # A model of the platform's own values (every field set, as the harness builds
        # its models), through the contract's unvalidated fast path.
        return kind._trusted(values)
    if kind is tuple:
        return tuple(handed_copy(v) for v in value)
    if kind is list:
        if _IMMUTABLE.issuperset(map(type, value)):  # ids, mostly: a plain copy
            return list(value)
        return [handed_copy(v) for v in value]
    if kind is SecretStr:
        return SecretStr(value.get_secret_value())
    if isinstance(value, Enum):
        return value
    return copy.deepcopy(value)


def handed_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """:func:`handed_copy` of each argument (the tuple itself when every one is
    immutable, as a per-id call's id is)."""
    if _IMMUTABLE.issuperset(map(type, args)):
        return args
    return tuple(handed_copy(a) for a in args)
