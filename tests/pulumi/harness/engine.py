"""A resource monitor that does what the engine does where the tests depend on it.

`pulumi.runtime.set_mocks` installs a `MockMonitor` that neither runs transforms registered
with `register_resource_transform` nor talks to providers. This subclass fills both gaps the
engine's way:

- transforms: the SDK registers each one as a `Callback` (token + address of the program's
  callback gRPC server). Like the engine's `wrapTransformCallback`, we send a marshalled
  `TransformRequest` to that server's `Invoke` and use the returned properties, for the
  resource's own transforms first and the stack's after;
- dynamic resources (`pulumi-python:dynamic/...`): served by a real `python -m
  pulumi.dynamic` process: `Check`, then (with prior state) `Diff`, then `Create`/`Update`
  unless previewing; during a preview the checked inputs stand in for the outputs.

Everything else goes to the test's `Mocks.new_resource`, as with the stock mock monitor.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import callback_pb2, callback_pb2_grpc, provider_pb2, resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from .provider_process import DynamicProviderProcess, from_struct

DYNAMIC_PREFIX = "pulumi-python:dynamic"
UNKNOWN = "<unknown>"


class EngineError(Exception):
    """What the engine would report for a failed registration."""


@dataclass
class Registration:
    """One resource as the engine saw it: inputs after transforms, and its outputs."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str = ""
    checked: dict[str, Any] | None = None  # dynamic resources: inputs after Check
    changes: bool | None = None  # dynamic resources with prior state: the Diff's verdict
    raw_inputs: dict[str, Any] = field(default_factory=dict)  # as deserialized: secrets marked


@dataclass
class State:
    """Outputs of the last non-preview run, by URN, for the next run's Check/Diff/Update."""

    resources: dict[str, Registration] = field(default_factory=dict)


def comparable(value: Any) -> Any:
    """Plain data for assertions: unknowns become `UNKNOWN`, secrets their values."""
    if rpc.is_rpc_secret(value):
        return comparable(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if value == rpc.UNKNOWN or type(value).__name__ == "Unknown":
        return UNKNOWN
    return value


class EngineMonitor(MockMonitor):
    """`MockMonitor` plus transforms over gRPC and dynamic resources through a real provider."""

    def __init__(
        self,
        mocks: Mocks,
        *,
        preview: bool,
        provider: DynamicProviderProcess | None = None,
        state: State | None = None,
    ) -> None:
        super().__init__(mocks)
        self.preview = preview
        self.provider = provider
        self.state = state or State()
        self.registrations: dict[str, Registration] = {}
        self._stack_callbacks: list[callback_pb2.Callback] = []
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()
        self.transforms_in_flight = 0
        self.max_transforms_in_flight = 0

    # -- transforms ------------------------------------------------------------------------

    def RegisterStackTransform(self, request: callback_pb2.Callback) -> Any:
        self._stack_callbacks.append(request)
        return super().RegisterStackTransform(request)  # type: ignore[no-untyped-call]

    def _invoke(self, callback: callback_pb2.Callback, request: bytes) -> bytes:
        with self._lock:
            channel = self._channels.get(callback.target)
            if channel is None:
                channel = self._channels[callback.target] = grpc.insecure_channel(callback.target)
            self.transforms_in_flight += 1
            self.max_transforms_in_flight = max(
                self.max_transforms_in_flight, self.transforms_in_flight
            )
        try:
            response = callback_pb2_grpc.CallbacksStub(channel).Invoke(
                callback_pb2.CallbackInvokeRequest(token=callback.token, request=request)
            )
        except grpc.RpcError as error:
            raise EngineError(error.details()) from None
        finally:
            with self._lock:
                self.transforms_in_flight -= 1
        return bytes(response.response)

    def _transform(self, request: resource_pb2.RegisterResourceRequest) -> struct_pb2.Struct:
        properties = request.object
        for callback in [*request.transforms, *self._stack_callbacks]:
            transform_request = resource_pb2.TransformRequest(
                name=request.name,
                type=request.type,
                parent=request.parent,
                custom=request.custom,
                properties=properties,
                options=resource_pb2.TransformResourceOptions(),
            )
            raw = self._invoke(callback, transform_request.SerializeToString())
            response = resource_pb2.TransformResponse.FromString(raw)
            if response.HasField("properties"):
                properties = response.properties
        return properties

    # -- registrations ---------------------------------------------------------------------

    def RegisterResource(self, request: resource_pb2.RegisterResourceRequest) -> Any:
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        _ensure_event_loop()  # type: ignore[no-untyped-call]
        urn = self.make_urn(request.parent, request.type, request.name)
        properties = self._transform(request)
        inputs = rpc.deserialize_properties(properties, keep_unknowns=True)
        if request.type.startswith(DYNAMIC_PREFIX):
            registration = self._dynamic(request, urn, from_struct(properties))
        else:
            registration = self._mocked(request, urn, inputs)
        registration.inputs = comparable(inputs)
        registration.raw_inputs = inputs
        with self._lock:
            self.registrations[request.name] = registration
            self.resources[urn] = MockMonitor.ResourceRegistration(
                urn, registration.id, registration.outputs
            )
        outputs = _sync_await(rpc.serialize_properties(registration.outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=registration.id, object=outputs)

    def _mocked(
        self, request: resource_pb2.RegisterResourceRequest, urn: str, inputs: dict[str, Any]
    ) -> Registration:
        id_, outputs = self.mocks.new_resource(
            MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
        )
        return Registration(urn, request.type, request.name, {}, dict(outputs), id_ or "")

    def _dynamic(
        self, request: resource_pb2.RegisterResourceRequest, urn: str, news: dict[str, Any]
    ) -> Registration:
        if self.provider is None:
            raise EngineError(f"{request.type}: no dynamic provider process in this test")
        old = self.state.resources.get(urn)
        old_inputs = old.checked if old is not None and old.checked is not None else {}
        checked = self.provider.check(urn, old_inputs, news)
        if checked.failures:
            problems = "; ".join(
                f"property {f.property} value {news.get(f.property)!r} has a problem: {f.reason}"
                for f in checked.failures
            )
            raise EngineError(f"{request.type} resource '{request.name}': {problems}")
        checked_inputs = from_struct(checked.inputs)
        registration = Registration(
            urn, request.type, request.name, {}, {}, checked=comparable(checked_inputs)
        )
        if old is not None:
            diff = self.provider.diff(urn, old.id, old.outputs, checked_inputs)
            registration.changes = diff.changes == provider_pb2.DiffResponse.DIFF_SOME
            if diff.replaces:
                raise EngineError(f"{request.name}: unexpected replacement of {diff.replaces}")
        if self.preview:
            registration.id = old.id if old is not None else ""
            registration.outputs = (
                old.outputs if old is not None and not registration.changes else checked_inputs
            )
        elif old is None:
            created = self.provider.create(urn, checked_inputs)
            registration.id, registration.outputs = created.id, from_struct(created.properties)
        elif registration.changes:
            updated = self.provider.update(urn, old.id, old.outputs, checked_inputs)
            registration.id, registration.outputs = old.id, from_struct(updated.properties)
        else:
            registration.id, registration.outputs = old.id, old.outputs
        if not self.preview:
            self.state.resources[urn] = registration
        return registration

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
