"""Registering `pin_images()`'s stack transform, or saying plainly why it cannot run.

The SDK's `register_resource_transform` needs a running program: it waits for pending RPCs on
the running event loop and serves the transform from a gRPC callback server, so called at the
top of a module imported after `pulumi.runtime.set_mocks` it fails with `no running event
loop`. And the stock mock monitor records stack transforms without ever running them, so under
plain `set_mocks` every image would silently stay a tag. Both cases get a clear error pointing
to `pulumi_digest.testing.set_mocks`, whose mocks run the transform themselves.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor, Mocks

#: Where users are sent when transforms cannot run.
UNIT_TESTS = (
    "in unit tests, set the mocks with pulumi_digest.testing.set_mocks(...) instead of "
    "pulumi.runtime.set_mocks(...) (see docs/pulumi.md, 'Unit tests')"
)


def _running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _runs_transforms(mocks: Any) -> bool:
    """Mocks that run stack transforms themselves: `pulumi_digest.testing.PinningMocks`, or a
    user's own `Mocks` that overrides `register_transform` (which the SDK calls)."""
    if getattr(mocks, "runs_stack_transforms", False):
        return True
    own = getattr(type(mocks), "register_transform", None)
    return own is not None and own is not getattr(Mocks, "register_transform", None)


def register(transform: Any, who: str) -> None:
    """Register `transform` for every resource registered afterwards, stack-wide."""
    monitor = settings.get_monitor()
    if isinstance(monitor, MockMonitor):
        mocks = monitor.mocks
        if getattr(mocks, "runs_stack_transforms", False):
            mocks.register_transform(transform)  # no callback server, no event loop needed
            return
        stock = type(monitor).RegisterStackTransform is MockMonitor.RegisterStackTransform
        if stock and not _runs_transforms(mocks):
            raise RuntimeError(
                f"{who}: pulumi.runtime.set_mocks's mock monitor never runs stack transforms, "
                f"so every image would stay a tag; {UNIT_TESTS}"
            )
    if monitor is None or not _running_loop():
        raise RuntimeError(
            f"{who} can only run inside a Pulumi program (pulumi up / preview) or under "
            f"mocks that apply transforms: the Pulumi SDK registers stack transforms on the "
            f"program's running event loop, and there is none here; {UNIT_TESTS}"
        )
    pulumi.runtime.register_resource_transform(transform)
