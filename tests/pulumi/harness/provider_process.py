"""`python -m pulumi.dynamic ENGINE_ADDRESS`, started and spoken to as the engine does.

The engine runs `pulumi-resource-pulumi-python ENGINE_ADDRESS` (a shell script that execs
`python -u -m pulumi.dynamic "$@"`) in the project directory, reads the port from the first
line of stdout, calls `Configure`, then `Check`/`Diff`/`Create`/`Update`/`Read`. The engine's
own `Log` service is `EngineLogServer`, so warnings the provider sends can be asserted on.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT = 60.0


@dataclass
class LogEntry:
    severity: int
    message: str
    urn: str


class EngineLogServer(engine_pb2_grpc.EngineServicer):
    """The engine's `Log` endpoint: records what providers report."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        engine_pb2_grpc.add_EngineServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.entries.append(LogEntry(request.severity, request.message, request.urn))
        return empty_pb2.Empty()

    def warnings(self) -> list[str]:
        return [e.message for e in self.entries if e.severity == engine_pb2.WARNING]

    def stop(self) -> None:
        self._server.stop(grace=None)


def _wire(value: Any) -> Any:
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def to_struct(props: dict[str, Any]) -> struct_pb2.Struct:
    """Plain values (unknowns as `Unknown` or the sentinel) as the engine marshals them."""
    struct = struct_pb2.Struct()
    struct.update(_wire(props))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Plain values; unknowns become `Unknown`, as the dynamic provider sees them."""
    value = rpc.deserialize_properties(struct, keep_unknowns=True)
    assert isinstance(value, dict)
    return value


class DynamicProviderProcess:
    """One provider plugin process, one engine Log server, and a gRPC stub to the provider."""

    def __init__(self, project_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.engine = EngineLogServer()
        self.stderr_path = project_dir / "provider.stderr"
        environment = {**os.environ, **(env or {})}
        environment["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), environment.get("PYTHONPATH", "")) if p
        )
        environment.setdefault("PULUMI_PROJECT", project_dir.name)
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-u", "-m", "pulumi.dynamic", self.engine.address],
                cwd=project_dir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.stub.Configure(
            provider_pb2.ConfigureRequest(
                args=struct_pb2.Struct(), acceptSecrets=True, acceptResources=True
            )
        )

    def _read_port(self) -> int:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=STARTUP_TIMEOUT)
        line = self.process.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            message = f"dynamic provider did not start (stdout {line!r})\n{self.stderr()}"
            self.close()
            raise RuntimeError(message)
        return int(line)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    # -- the engine's calls ----------------------------------------------------------------

    def check(self, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        return self.stub.Check(
            provider_pb2.CheckRequest(urn=urn, olds=to_struct(olds), news=to_struct(news))
        )

    def diff(self, urn: str, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        return self.stub.Diff(
            provider_pb2.DiffRequest(urn=urn, id=id_, olds=to_struct(olds), news=to_struct(news))
        )

    def create(self, urn: str, props: dict[str, Any], *, preview: bool = False) -> Any:
        return self.stub.Create(
            provider_pb2.CreateRequest(urn=urn, properties=to_struct(props), preview=preview)
        )

    def update(self, urn: str, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        return self.stub.Update(
            provider_pb2.UpdateRequest(urn=urn, id=id_, olds=to_struct(olds), news=to_struct(news))
        )

    def read(self, urn: str, id_: str, props: dict[str, Any]) -> Any:
        return self.stub.Read(
            provider_pb2.ReadRequest(urn=urn, id=id_, properties=to_struct(props))
        )

    def close(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.engine.stop()

    def __enter__(self) -> DynamicProviderProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
