"""Secrets in the property dicts a stack transform receives.

The SDK deserializes a secret as a marker dict and pushes secretness up to the enclosing list
or dict, so one secret env var hides a whole container list behind the marker. Images are
found on the revealed values; a changed top-level property is re-marked secret if any part of
it was, and an unchanged one is handed back exactly as received.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.runtime import rpc


def reveal(value: Any) -> tuple[Any, bool]:
    """`value` with every secret marker removed, and whether there was one."""
    if rpc.is_rpc_secret(value):
        inner, _ = reveal(rpc.unwrap_rpc_secret(value))
        return inner, True
    if isinstance(value, dict):
        found = False
        out: dict[Any, Any] = {}
        for key, item in value.items():
            out[key], secret = reveal(item)
            found = found or secret
        return out, found
    if isinstance(value, list):
        items = [reveal(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


def reveal_props(props: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Revealed top-level properties and the names of those that held a secret."""
    revealed: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in props.items():
        revealed[key], secret = reveal(value)
        if secret:
            secret_keys.add(key)
    return revealed, secret_keys


def conceal_props(
    original: Mapping[str, Any],
    revealed: Mapping[str, Any],
    rewritten: Mapping[str, Any],
    secret_keys: set[str],
) -> dict[str, Any]:
    """The props to hand back: originals where nothing changed, re-marked secrets elsewhere."""
    out: dict[str, Any] = {}
    for key, value in rewritten.items():
        if key in revealed and revealed[key] is value:  # replace_images keeps untouched parts
            out[key] = original[key]
        elif key in secret_keys:
            out[key] = rpc.wrap_rpc_secret(value)
        else:
            out[key] = value
    return out
