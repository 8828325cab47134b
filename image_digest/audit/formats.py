"""Tell an input file's format by its content, never its name, and read its resources.

CI jobs name files freely (`plan.json`, `tfplan.out.json`, `preview.txt`), and a stack export
and a preview are both `.json`; so each reader says whether a parsed document is its kind,
and the first that does reads it. JSON is tried first; what is not JSON is read as YAML
(Kubernetes manifests, which needs PyYAML: the `audit` extra). Both go through
`image_digest.safe_load`, so a hostile file (deep nesting, a YAML alias bomb) is refused with
one line naming it and the limit, before anything walks it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from image_digest.audit import kubernetes, pulumi, terraform
from image_digest.audit.resources import Document, Resource
from image_digest.errors import InputLimitError, install_extra
from image_digest.safe_load import load_json, load_yaml_all

#: Every format, as named in messages and in `--json` output.
FORMATS = {
    "terraform-plan": "a Terraform plan (terraform show -json PLANFILE)",
    "cdktf": "a CDKTF stack (cdk.tf.json)",
    "pulumi-preview": "a Pulumi preview (pulumi preview --json)",
    "pulumi-export": "a Pulumi stack export (pulumi stack export)",
    "kubernetes": "Kubernetes YAML or JSON manifests",
}
#: Formats read only for what runs (`whole=True`), never audited.
STANDING_FORMATS = {"terraform-state": "Terraform state (terraform show -json, no plan file)"}

_Reader = tuple[str, Callable[[Any], bool], Callable[[Any, bool], Iterable[Resource]]]
_JSON_READERS: tuple[_Reader, ...] = (
    (
        "terraform-plan",
        terraform.is_plan,
        lambda doc, whole: terraform.plan_resources(doc, whole=whole),
    ),
    (
        "pulumi-preview",
        pulumi.is_preview,
        lambda doc, whole: pulumi.preview_resources(doc, whole=whole),
    ),
    ("pulumi-export", pulumi.is_export, lambda doc, _: pulumi.export_resources(doc)),
    ("cdktf", terraform.is_stack, lambda doc, _: terraform.stack_resources(doc)),
    ("kubernetes", kubernetes.is_manifest, lambda doc, _: kubernetes.manifest_resources([doc])),
)


class UnreadableInputError(ValueError):
    """An input file cannot be read, or is none of the formats audit knows."""


def read_document(path: str, *, whole: bool = False) -> Document:
    """The resources `path` deploys, in the format its content shows; `whole`: every
    resource it leaves standing (a plan's or a preview's unchanged ones too), not only the
    ones it changes."""
    try:
        return _read_document(path, whole)
    except InputLimitError as exc:
        raise UnreadableInputError(f"{path}: {exc.rule}") from None


def _read_document(path: str, whole: bool) -> Document:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()  # `audit -`
        text = data.decode("utf-8-sig")
    except OSError as exc:
        raise UnreadableInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _unknown(path, "it is not UTF-8 text") from None
    if not text.strip():
        raise _unknown(path, "it is empty")
    try:
        document = load_json(text, path)
    except InputLimitError:
        raise
    except ValueError as exc:
        return _read_yaml(path, text, json_error=exc)
    if terraform.is_state(document) and whole:
        return Document(path, "terraform-state", tuple(terraform.state_resources(document)))
    if terraform.is_state(document):
        raise _unknown(
            path,
            "it is Terraform state (terraform show -json without a plan file), which deploys "
            "nothing; audit the plan instead: terraform plan -out tfplan && terraform show "
            "-json tfplan > plan.json",
        )
    for name, recognizes, read in _JSON_READERS:
        if recognizes(document):
            return Document(path, name, tuple(read(document, whole)))
    return _unknown_json(path, document)


def _read_yaml(path: str, text: str, *, json_error: ValueError) -> Document:
    if text.lstrip().startswith(("{", "[")):
        raise _unknown(path, f"it starts like JSON but is not valid JSON: {json_error}")
    try:
        import yaml  # type: ignore[import-untyped]  # the `audit` extra, for Kubernetes YAML
    except ModuleNotFoundError:
        raise _unknown(
            path,
            "it is not JSON, and reading it as Kubernetes YAML needs PyYAML: "
            + install_extra("audit"),
        ) from None
    try:
        documents = load_yaml_all(text, path)
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise _unknown(path, f"it is neither JSON nor YAML: {detail}") from None
    if not any(kubernetes.is_manifest(document) for document in documents):
        raise _unknown(path, "it is YAML, but no document in it has a Kubernetes `kind`")
    return Document(path, "kubernetes", tuple(kubernetes.manifest_resources(documents)))


def _unknown_json(path: str, document: Any) -> Document:
    if isinstance(document, dict):
        keys = ", ".join(sorted(document)[:8]) or "none"
        raise _unknown(path, f"it is a JSON object with none of their keys (its keys: {keys})")
    raise _unknown(path, f"it is JSON, but a {type(document).__name__}, not an object")


def _unknown(path: str, reason: str) -> UnreadableInputError:
    tried = "; ".join(FORMATS.values())
    return UnreadableInputError(f"{path}: not an input audit reads ({reason}); tried: {tried}")
