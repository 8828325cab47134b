"""Run a Pulumi program under `set_mocks` with a fresh event loop, settings and monitor.

This mirrors the language host: settings reset, a new root `Stack`, the program run inside
`run_pulumi_func` (which waits for every RPC and output, then shuts the callback server
down), and the loop closed afterwards so nothing leaks into the next test.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.stack import run_pulumi_func

from .engine import EngineMonitor, Registration, State
from .provider_process import DynamicProviderProcess


class EchoMocks(Mocks):
    """Outputs = inputs (plus `extra_outputs[name]`): what most providers do in a preview."""

    def __init__(self, extra_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.extra_outputs = dict(extra_outputs or {})

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = {**args.inputs, **self.extra_outputs.get(args.name, {})}
        return f"{args.name}-id", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Deployment:
    """What one run registered, plus the warnings the program logged."""

    resources: dict[str, Registration]
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    max_transforms_in_flight: int = 0

    def __getitem__(self, name: str) -> Registration:
        return self.resources[name]


def run_program(
    program: Callable[[], object] | Path,
    *,
    preview: bool,
    project: str = "project",
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    mocks: Mocks | None = None,
    provider: DynamicProviderProcess | None = None,
    state: State | None = None,
) -> Deployment:
    """Run `program` (a callable, or a `__main__.py` path) once; raise what the program raised."""

    def main() -> None:
        if isinstance(program, Path):
            runpy.run_path(str(program), run_name="__main__")
        else:
            program()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = RecordingHandler()
    logger = logging.getLogger(f"pulumi-test-{id(handler)}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    monitor = EngineMonitor(mocks or EchoMocks(), preview=preview, provider=provider, state=state)
    try:
        settings.reset_options(project=project, stack=stack, preview=preview)
        pulumi.runtime.set_all_config(
            {f"{project}:{k}" if ":" not in k else k: v for k, v in (config or {}).items()}
        )
        pulumi.runtime.set_mocks(
            monitor.mocks,
            project=project,
            stack=stack,
            preview=preview,
            logger=logger,
            monitor=monitor,
        )
        loop.run_until_complete(run_pulumi_func(main))
    finally:
        monitor.close()
        pending = asyncio.all_tasks(loop)
        for task in pending:  # a failed program leaves registrations waiting on it
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        # A failed run leaves Output futures holding exceptions nobody will read. Collect them
        # now, quietly: left to a later gc pass, their __del__ logs from wherever it lands
        # (CPython 3.11 then trips over it inside `compile`: "AST recursion depth mismatch").
        loop.set_exception_handler(lambda _loop, _context: None)
        gc.collect()
        loop.close()
        asyncio.set_event_loop(None)
        settings.reset_options()
        pulumi.runtime.set_all_config({})
    warnings = [r.getMessage() for r in handler.records if r.levelno == logging.WARNING]
    return Deployment(
        resources=dict(monitor.registrations),
        warnings=warnings,
        infos=[r.getMessage() for r in handler.records if r.levelno == logging.INFO],
        max_transforms_in_flight=monitor.max_transforms_in_flight,
    )
