"""Pulumi's two documents: a preview (`pulumi preview --json`) and a stack export.

The shapes relied on, as the Pulumi CLI writes them (pulumi/pulumi: `pkg/display/json.go`
`previewDigest`, and `sdk/go/common/apitype` `UntypedDeployment`, `DeploymentV3`,
`ResourceV3`; CLI reference: https://www.pulumi.com/docs/iac/cli/commands/pulumi_preview/
"-j, --json: Serialize the preview diffs, operations, and overall output as JSON", and
https://www.pulumi.com/docs/iac/cli/commands/pulumi_stack_export/):

    preview: {"config": {...}, "steps": [{"op": "create", "urn": "urn:pulumi:...",
              "oldState": {...}, "newState": {"urn": ..., "type": ..., "inputs": {...}}}],
              "diagnostics": [...], "changeSummary": {"create": 1}, "duration": ...}
    export:  {"version": 3, "deployment": {"manifest": {...},
              "resources": [{"urn": ..., "type": ..., "custom": true, "inputs": {...},
                             "outputs": {...}, "delete": false}]}}

A step's `op` is one of same, create, update, delete, replace, create-replacement,
delete-replaced, read, read-replacement, refresh, discard, discard-replaced,
remove-pending-replace, import, import-replacement. Steps that deploy nothing new (`SKIPPED_OPS`)
are left out; any other step with a `newState` is audited, so an op added later is not missed.

Values the engine does not know yet are the string `UNKNOWN` (the SDKs' `rpc.UNKNOWN`);
secrets are `"[secret]"` in a preview and, in an export, an object signed with `SECRET_SIG`
holding `ciphertext`, or `plaintext` (a JSON text) with `--show-secrets`. Unknowns and
ciphertext stand for nothing; plaintext is audited as the value it holds, and a finding in
it is not printed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from image_digest.audit.resources import ALL_PUBLIC, Resource
from image_digest.errors import InputLimitError
from image_digest.safe_load import load_json

#: What the engine writes for a value not known until the update runs.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: The key and value that mark a secret object in serialized state.
SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
#: Preview steps whose `newState` is not about to be deployed.
SKIPPED_OPS = frozenset(
    {
        "same",
        "delete",
        "delete-replaced",
        "read",
        "read-replacement",
        "refresh",
        "discard",
        "discard-replaced",
        "remove-pending-replace",
    }
)


def is_preview(document: Any) -> bool:
    return isinstance(document, Mapping) and (
        isinstance(document.get("steps"), list) or "changeSummary" in document
    )


def is_export(document: Any) -> bool:
    """`{"version": 3, "deployment": {...}}`, or the bare deployment (it has a `manifest`)."""
    if not isinstance(document, Mapping):
        return False
    deployment = document.get("deployment", document)
    return isinstance(deployment, Mapping) and isinstance(deployment.get("manifest"), Mapping)


def preview_resources(preview: Mapping[str, Any], *, whole: bool = False) -> Iterator[Resource]:
    """The new state of every step that deploys something; `whole`: of every step that
    leaves a resource standing, unchanged (`same`) ones too."""
    skipped = SKIPPED_OPS - {"same"} if whole else SKIPPED_OPS
    for step in _list(preview.get("steps")):
        if not isinstance(step, Mapping) or step.get("op") in skipped:
            continue
        state = step.get("newState")
        if isinstance(state, Mapping):
            yield _resource(state, str(step.get("urn") or state.get("urn")))


def export_resources(export: Mapping[str, Any]) -> Iterator[Resource]:
    """Every resource of an exported deployment except those pending deletion."""
    deployment = export.get("deployment", export)
    for state in _list(deployment.get("resources")):
        if isinstance(state, Mapping) and not state.get("delete"):
            yield _resource(state, str(state.get("urn")))


def _resource(state: Mapping[str, Any], urn: str) -> Resource:
    revealed: list[str] = []
    inputs = _plain(state.get("inputs"), reveal=True, revealed=revealed)
    public = _plain(state.get("inputs"), reveal=False) if revealed else ALL_PUBLIC
    return Resource("pulumi", str(state.get("type")), urn, inputs, public)


def _plain(value: Any, *, reveal: bool, revealed: list[str] | None = None) -> Any:
    """`value` with unknowns and unreadable secrets as None; readable secrets unwrapped when
    `reveal` (each noted in `revealed`), else None too."""
    if isinstance(value, str):
        return None if value == UNKNOWN else value
    if isinstance(value, list):
        return [_plain(item, reveal=reveal, revealed=revealed) for item in value]
    if not isinstance(value, Mapping):
        return value
    if value.get(SECRET_SIG[0]) == SECRET_SIG[1]:
        plaintext = value.get("plaintext")
        if not reveal or not isinstance(plaintext, str):
            return None
        try:
            secret = load_json(plaintext, "a secret's plaintext")
        except InputLimitError:
            raise
        except ValueError:
            return None
        if revealed is not None:
            revealed.append(plaintext)
        return _plain(secret, reveal=reveal, revealed=revealed)
    return {key: _plain(item, reveal=reveal, revealed=revealed) for key, item in value.items()}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
