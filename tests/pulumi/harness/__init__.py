"""A stand-in for the parts of the Pulumi engine the tests need (there is no Pulumi CLI here).

- `provider_process`: the dynamic provider started exactly as the engine starts it, over gRPC;
- `engine`: a resource monitor that applies transforms through the SDK's real callback server
  and serves dynamic resources through that provider process;
- `program`: runs a program under `pulumi.runtime.set_mocks` with that monitor.
"""
