"""A plugin written before contract profiles existed: it declares none.

:class:`Undeclared` has no ``contract_profiles`` attribute at all, not even an inherited
one: it is no :class:`~simulator.contract.BackupPluginBase`, only a class with the 4.0.4
contract's methods, as a plugin written against that contract may be. Each method hands
its call to an honest reference plugin built beside it. :class:`Explicit404` is the same
plugin declaring ``("abiquo-4.0.4",)``; the harness must judge both alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

from simulator.contract import ConnectionMetadata, PluginContext, PluginMetadata
from simulator.profiles import get_profile
from simulator.reference import ReferencePlugin

#: The methods of the 4.0.4 contract, which the plugin hands to the reference.
_METHODS = (
    "validate_configuration",
    "new_connection",
    *sorted(op.python_name for op in get_profile("abiquo-4.0.4").operations),
)


def _delegate(name: str) -> Callable[..., Any]:
    """A method that calls the reference's ``name``, with the reference's signature."""

    def method(self: Undeclared, *args: Any) -> Any:
        return getattr(self._inner, name)(*args)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"The reference plugin's {name}."
    method.__signature__ = inspect.signature(getattr(ReferencePlugin, name))  # type: ignore[attr-defined]
    return method


class Undeclared:
    """The reference plugin's 4.0.4 methods, by delegation, and no profile declared."""

    metadata: ClassVar[PluginMetadata] = ReferencePlugin.metadata
    connection_metadata: ClassVar[ConnectionMetadata] = ReferencePlugin.connection_metadata
    example_properties: ClassVar[dict[str, str]] = ReferencePlugin.example_properties

    def __init__(self, context: PluginContext) -> None:
        self._inner = ReferencePlugin(context)


for _name in _METHODS:
    setattr(Undeclared, _name, _delegate(_name))


class Explicit404(Undeclared):
    """The same plugin, declaring the one generation it speaks."""

    contract_profiles: ClassVar[tuple[str, ...]] = ("abiquo-4.0.4",)
