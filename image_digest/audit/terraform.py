"""Terraform's two documents: a plan in JSON, and a synthesized CDKTF stack (`cdk.tf.json`).

A plan (`terraform show -json PLANFILE`, format_version 1.x) lists `resource_changes`, each
with `address` (`module.x.aws_ecs_task_definition.app`), `type`, `mode` and `change`:
`actions` (`["create"]`, `["update"]`, `["delete", "create"]`, `["no-op"]`, `["read"]`,
`["delete"]`), the planned `after` values, `after_unknown`, which marks values known only
after apply (Terraform leaves those out of `after`), and `after_sensitive`, which marks
sensitive ones (their findings are not printed). Only resources being created or updated
deploy anything; what is deleted, read or left as it is, is not audited.

A synthesized stack is Terraform's JSON configuration: `resource.<type>.<name>` holds each
resource's arguments (cdktf's `//` metadata beside them). Its values may be expressions
(`${var.image}`, `repo@${data.x.y.sha256_digest}`) known only at plan time: they are not
references, so they are not findings; audit the plan to see their values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from image_digest.audit.resources import ALL_PUBLIC, Resource

#: Actions of a resource change that deploy its `after` values.
DEPLOYING_ACTIONS = frozenset({"create", "update"})
#: Actions after which the resource stands with its `after` values (unchanged ones too).
STANDING_ACTIONS = DEPLOYING_ACTIONS | {"no-op"}


def is_plan(document: Any) -> bool:
    return (
        isinstance(document, Mapping)
        and "format_version" in document
        and ("resource_changes" in document or "planned_values" in document)
    )


def is_state(document: Any) -> bool:
    """`terraform show -json` without a plan file: the state, which deploys nothing."""
    return (
        isinstance(document, Mapping)
        and "format_version" in document
        and "terraform_version" in document
        and not is_plan(document)
    )


def is_stack(document: Any) -> bool:
    return isinstance(document, Mapping) and isinstance(document.get("resource"), Mapping)


def plan_resources(plan: Mapping[str, Any], *, whole: bool = False) -> Iterator[Resource]:
    """The resources a plan creates or updates, with their known planned values; `whole`:
    every resource standing after apply, those it leaves unchanged too."""
    actions = STANDING_ACTIONS if whole else DEPLOYING_ACTIONS
    for change in _list(plan.get("resource_changes")):
        if not isinstance(change, Mapping) or not isinstance(change.get("change"), Mapping):
            continue
        if change.get("mode", "managed") != "managed":
            continue  # a data source reads, it deploys nothing
        planned = change["change"]
        if not actions.intersection(_list(planned.get("actions"))):
            continue
        after = _without(planned.get("after"), planned.get("after_unknown"))
        sensitive = planned.get("after_sensitive")
        public = _without(after, sensitive) if _marks_any(sensitive) else ALL_PUBLIC
        address = str(change.get("address"))
        yield Resource("terraform", str(change.get("type")), address, after, public)


def state_resources(state: Mapping[str, Any]) -> Iterator[Resource]:
    """The managed resources of `terraform show -json` without a plan file: what runs now."""
    values = state.get("values")
    module = values.get("root_module") if isinstance(values, Mapping) else None
    yield from _module_resources(module)


def _module_resources(module: Any) -> Iterator[Resource]:
    if not isinstance(module, Mapping):
        return
    for item in _list(module.get("resources")):
        if isinstance(item, Mapping) and item.get("mode", "managed") == "managed":
            props = item.get("values")
            sensitive = item.get("sensitive_values")
            public = _without(props, sensitive) if _marks_any(sensitive) else ALL_PUBLIC
            address = str(item.get("address"))
            yield Resource("terraform", str(item.get("type")), address, props, public)
    for child in _list(module.get("child_modules")):
        yield from _module_resources(child)


def stack_resources(stack: Mapping[str, Any]) -> Iterator[Resource]:
    """Every `resource.<type>.<name>` of a Terraform JSON configuration."""
    for resource_type, blocks in stack["resource"].items():
        if not isinstance(blocks, Mapping):
            continue
        for name, attributes in blocks.items():
            if isinstance(attributes, Mapping):
                props = {k: v for k, v in attributes.items() if k != "//"}
                yield Resource("terraform", resource_type, f"{resource_type}.{name}", props)


def _without(after: Any, marks: Any) -> Any:
    """`after` with None in place of each value `marks` marks (`after_unknown` or
    `after_sensitive`: `after`'s shape, `true` where a value is marked)."""
    if marks is True:
        return None
    if isinstance(after, Mapping) and isinstance(marks, Mapping):
        return {k: _without(v, marks.get(k)) for k, v in after.items()}
    if isinstance(after, list) and isinstance(marks, list):
        return [_without(v, marks[i] if i < len(marks) else None) for i, v in enumerate(after)]
    return after


def _marks_any(marks: Any) -> bool:
    """Does `after_sensitive` mark any value at all?"""
    if isinstance(marks, Mapping):
        return any(_marks_any(mark) for mark in marks.values())
    if isinstance(marks, list):
        return any(_marks_any(mark) for mark in marks)
    return marks is True


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
