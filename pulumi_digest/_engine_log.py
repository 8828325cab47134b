"""Warnings from inside the dynamic provider process, shown by the engine as warnings.

The engine starts a provider as `python -m pulumi.dynamic ENGINE_ADDRESS` and the SDK never
connects that process to the engine, so `pulumi.log.warn` there only reaches stderr, which
the CLI shows as plain info text. A lock fallback must be loud, so we send the warning to the
engine's `Log` RPC ourselves, as native providers do with their host client.
"""

from __future__ import annotations

import re
import sys

import grpc  # type: ignore[import-untyped]
import pulumi
from pulumi.runtime import settings
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

_ADDRESS = re.compile(r"^[\w.\-\[\]:]+:\d+$")


def engine_address() -> str | None:
    """The engine's address when this process is a dynamic provider started by the engine."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is None or spec.name != "pulumi.dynamic.__main__":
        return None
    candidates = [arg for arg in sys.argv[1:] if _ADDRESS.match(arg)]
    return candidates[0] if candidates else None


def warn(message: str) -> None:
    """Warn through the engine: the program's connection, the provider's address, or stderr."""
    if settings.get_engine() is not None:
        pulumi.log.warn(message)
        return
    address = engine_address()
    if address is None:
        print(f"warning: {message}", file=sys.stderr, flush=True)
        return
    try:
        with grpc.insecure_channel(address) as channel:
            engine_pb2_grpc.EngineStub(channel).Log(
                engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message), timeout=10
            )
    except grpc.RpcError:
        print(f"warning: {message}", file=sys.stderr, flush=True)
