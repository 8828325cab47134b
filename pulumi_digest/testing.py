"""Unit-testing Pulumi programs that use `pin_images()` and `DigestImage`, Pulumi's way.

`pulumi.runtime.set_mocks` replaces the engine, and the engine is what applies stack
transforms and runs dynamic providers: under plain mocks `pin_images()` could not pin anything
and a `DigestImage` would have no digest. `set_mocks` here is a drop-in for Pulumi's: it wraps
your `Mocks` in `PinningMocks`, which does those two engine jobs before your `new_resource`
sees a resource, against the real registries (your tests show what a preview would deploy):

    from pulumi_digest.testing import set_mocks

    set_mocks(MyMocks(), preview=True)
    import infra  # the program: pin_images() at its top, DigestImage resources...
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import copy
import inspect
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import dill  # type: ignore[import-untyped]  # how the SDK serializes dynamic providers
import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from image_digest import DigestError

from .errors import PinError
from .provider import DigestImageProvider, _state

__all__ = ["PinningMocks", "set_mocks"]

T = TypeVar("T")


def _run_coroutine(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a thread of its own (with the caller's context).

    The mock monitor calls `new_resource` from the SDK's executor threads or, for a program
    imported at module level, from wherever the registration is driven; a thread of our own
    runs the async transform the same way from all of them.
    """
    context = contextvars.copy_context()
    with ThreadPoolExecutor(1, thread_name_prefix="pulumi-digest-mock-transform") as thread:
        return thread.submit(context.run, asyncio.run, make()).result()


class PinningMocks(Mocks):
    """Your `Mocks`, behind the two engine jobs `pulumi_digest` needs.

    - Stack transforms (`pin_images()`, and any other the program registers) and the
      resource's own `transforms=` run on its inputs, in the engine's order, before your
      `new_resource` sees them: its `args.inputs` hold pinned images.
    - A `DigestImage` is checked by its real provider (it resolves the image against the
      registry); its outputs are that provider's state (`digest`, `repo_digest`, ...) over what
      your `new_resource` returns. A reference that cannot be resolved raises `PinError`.

    Everything else, and `call`, goes to your mocks unchanged.
    """

    #: Read by `pin_images()`: register with these mocks, not with the SDK's callback server.
    runs_stack_transforms = True

    def __init__(self, mocks: Mocks) -> None:
        self.mocks = mocks
        self.stack_transforms: list[Any] = []

    def register_transform(self, transform: Any) -> None:
        self.stack_transforms.append(transform)

    def call(self, args: MockCallArgs) -> Any:
        return self.mocks.call(args)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = self._transformed(args)
        provider = _digest_image_provider(inputs)
        state: dict[str, Any] = {}
        if provider is not None:
            state = _checked(provider, args.typ, args.name, inputs)
            inputs = {**state, "__provider": inputs["__provider"]}
        mocked = copy.copy(args)
        mocked.inputs = inputs
        id_, outputs = self.mocks.new_resource(mocked)
        if provider is not None:
            outputs = {**outputs, **state}
            id_ = id_ or state.get("image")
        return id_, outputs

    def _transformed(self, args: MockResourceArgs) -> dict[str, Any]:
        props = dict(args.inputs)
        own = list(getattr(args, "transforms", None) or [])  # SDKs that pass them along
        for transform in [*own, *self.stack_transforms]:
            result = _run_coroutine(_applied(transform, args, props))
            if result is not None and result.props is not None:
                props = dict(result.props)
        return props


def _applied(
    transform: Any, args: MockResourceArgs, props: dict[str, Any]
) -> Callable[[], Coroutine[Any, Any, Any]]:
    """A coroutine factory calling `transform` as the engine does (sync or async)."""

    async def apply() -> Any:
        result = transform(
            pulumi.ResourceTransformArgs(
                custom=bool(args.custom),
                type_=args.typ,
                name=args.name,
                props=props,
                opts=pulumi.ResourceOptions(),
            )
        )
        return await result if inspect.isawaitable(result) else result

    return apply


def _digest_image_provider(inputs: dict[str, Any]) -> DigestImageProvider | None:
    """The provider of a `DigestImage` (a dynamic resource carries its provider, pickled)."""
    serialized = inputs.get("__provider")
    if not isinstance(serialized, str):
        return None
    try:
        provider = dill.loads(base64.b64decode(serialized))
    except Exception:  # another dynamic provider, not importable here: the user's mocks' job
        return None
    return provider if isinstance(provider, DigestImageProvider) else None


def _checked(
    provider: DigestImageProvider, type_: str, name: str, inputs: dict[str, Any]
) -> dict[str, Any]:
    """The state the engine gets from the provider for a new `DigestImage` (check, create);
    a reference that cannot be resolved is the core's error inside a `PinError`."""
    image, platform = inputs.get("image"), inputs.get("platform")
    if isinstance(image, str) and image and (platform is None or isinstance(platform, str)):
        try:
            resolved = provider._resolve(image, platform)
        except DigestError as error:
            raise PinError({image: error}, resource_type=type_, resource_name=name) from error
        return dict(provider.create(_state(image, platform, resolved)).outs or {})
    checked = provider.check({}, inputs)  # an input that is not a string (or unknown)
    if checked.failures:
        problem = ValueError("; ".join(failure.reason for failure in checked.failures))
        raise PinError({str(image): problem}, resource_type=type_, resource_name=name)
    return dict(checked.inputs or {})


def set_mocks(mocks: Mocks, **options: Any) -> PinningMocks:
    """`pulumi.runtime.set_mocks(PinningMocks(mocks), **options)`; returns the wrapper.

    Takes the same keyword options (`project`, `stack`, `preview`, `logger`, ...). Call it
    before importing the program, as with Pulumi's own.
    """
    pinning = mocks if isinstance(mocks, PinningMocks) else PinningMocks(mocks)
    pulumi.runtime.set_mocks(pinning, **options)
    return pinning
