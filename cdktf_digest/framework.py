"""Which CDK a construct belongs to: `cdktf` (HashiCorp's, archived) or `cdktn` (its fork).

Both ship the same API under different module names, and one process may load both (our own
tests do). So nothing here is a global setting: each decision is read from the construct at
hand, and a plain string can only be a token of a framework the program has imported.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from constructs import IConstruct

from image_digest.errors import install_extra

#: Framework module -> the module of its prebuilt docker provider bindings.
DOCKER_BINDINGS = {"cdktf": "cdktf_cdktf_provider_docker", "cdktn": "cdktn_provider_docker"}


@dataclass(frozen=True)
class Flavor:
    """One framework: its module (`lib.Token`, `lib.Annotations`, ...) and its bindings."""

    name: str

    @property
    def lib(self) -> ModuleType:
        return importlib.import_module(self.name)

    def docker(self, submodule: str) -> ModuleType:
        """A submodule of this framework's docker provider bindings, or a clear ImportError."""
        package = DOCKER_BINDINGS[self.name]
        try:
            return importlib.import_module(f"{package}.{submodule}")
        except ModuleNotFoundError as err:
            raise ImportError(
                f"{package} is not installed; it declares the docker provider for {self.name}: "
                f"{install_extra(self.name)}"
            ) from err


def _flavor_of_type(cls: type) -> Flavor | None:
    for klass in cls.__mro__:
        top = klass.__module__.partition(".")[0]
        if top in DOCKER_BINDINGS:
            return Flavor(top)
    return None


def flavor_of(construct: IConstruct) -> Flavor:
    """The framework of `construct`: its own class, or the nearest enclosing stack or app."""
    for scope in reversed(construct.node.scopes):
        flavor = _flavor_of_type(type(scope))
        if flavor is not None:
            return flavor
    loaded = loaded_flavors()
    if len(loaded) == 1:
        return loaded[0]
    raise TypeError(
        f"construct {construct.node.path!r} is not inside a cdktf or cdktn app or stack "
        f"(frameworks loaded: {[f.name for f in loaded] or 'none'})"
    )


def loaded_flavors() -> list[Flavor]:
    """The frameworks this process has imported (importing one is the only way to make tokens)."""
    return [Flavor(name) for name in DOCKER_BINDINGS if name in sys.modules]


def is_token(value: Any, flavor: Flavor | None = None) -> bool:
    """True when `value` is an unresolved CDK token: only Terraform can know its value."""
    flavors = [flavor] if flavor else loaded_flavors()
    return any(bool(f.lib.Token.is_unresolved(value)) for f in flavors)
