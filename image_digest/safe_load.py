"""JSON and YAML written by someone else, read with limits: the one loader for every input.

Plans, previews, manifests, variables files, lock files and Terraform's query all come from
outside the library, and every reader walks what it loads. Two shapes would turn a small file
into a hang, an exhausted memory or a `RecursionError` traceback: deep nesting (`[[[[...`),
and YAML aliases that repeat a node exponentially (a "billion laughs" of 673 bytes expands to
hundreds of millions of nodes). So an input is refused, with one line naming it and the rule,
when it nests deeper than `MAX_DEPTH`, or when its aliases expand it, all its documents
together, beyond `MAX_ALIASED_NODES` nodes (counted on the composed node graph, visiting each
node once, before anything is built). Anchors and merge keys within the bound keep working.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from image_digest.errors import InputLimitError

if TYPE_CHECKING:
    import yaml  # type: ignore[import-untyped]

#: How deep lists and objects may nest; real plans and manifests stay well under 50.
MAX_DEPTH = 100
#: How many nodes a YAML document may expand to through its aliases (a document without
#: aliases is bounded by its own size and is never refused for it).
MAX_ALIASED_NODES = 1_000_000


def too_deep(source: str) -> InputLimitError:
    return InputLimitError(
        source,
        f"nested more than {MAX_DEPTH} levels deep, which image-digest refuses "
        "(a limit against hostile input)",
    )


def load_json(text: str | bytes, source: str) -> Any:
    """`json.loads(text)`, refused when it nests deeper than `MAX_DEPTH` (a `ValueError` when
    it is not JSON, as from `json.loads`)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise too_deep(source) from None
    check_depth(value, source)
    return value


def check_depth(value: Any, source: str) -> None:
    """Refuse `value` (lists and dicts) when it nests deeper than `MAX_DEPTH`; iterative, so
    any depth can be measured."""
    pending: list[tuple[Iterable[Any], int]] = [([value], 0)]
    while pending:
        items, depth = pending.pop()
        for item in items:
            if isinstance(item, dict | list):
                if depth + 1 > MAX_DEPTH:
                    raise too_deep(source)
                pending.append((item.values() if isinstance(item, dict) else item, depth + 1))


def load_yaml_all(text: str, source: str) -> list[Any]:
    """Every document of a YAML stream, as `yaml.safe_load_all` builds them, each checked
    for depth and alias expansion before it is built. Needs PyYAML (the `audit` extra);
    a `yaml.YAMLError` when the text is not YAML."""
    return [data for _, data in compose_yaml_all(text, source)]


def compose_yaml_all(text: str, source: str) -> list[tuple[yaml.Node, Any]]:
    """Every document of a YAML stream as (its node tree, with positions in `text`; its
    data), with the limits of `load_yaml_all`: for readers that change the text in place."""
    loader = _loader_class()(text)
    loader.source = source
    try:
        documents = []
        counted = (0, 0)  # nodes with aliases expanded, distinct nodes: over the whole stream
        while loader.check_node():
            node = loader.get_node()
            counted = _check_expansion(node, source, counted)
            documents.append((node, loader.construct_document(node)))
        return documents
    finally:
        loader.dispose()


_LOADER: type[Any] | None = None


def _loader_class() -> type[Any]:
    """PyYAML's pure-Python safe loader, composing with a depth bound. (libyaml's C loader
    composes recursively in C, where no depth bound can be put.)"""
    global _LOADER
    if _LOADER is None:
        import yaml

        class BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]
            source = "YAML"
            _depth = 0

            def compose_node(self, parent: Any, index: Any) -> Any:
                self._depth += 1
                try:
                    if self._depth > MAX_DEPTH:
                        raise too_deep(self.source)
                    return super().compose_node(parent, index)
                finally:
                    self._depth -= 1

        _LOADER = BoundedLoader
    return _LOADER


def _check_expansion(
    root: yaml.Node, source: str, before: tuple[int, int] = (0, 0)
) -> tuple[int, int]:
    """Refuse a composed document whose aliases make it nest deeper than `MAX_DEPTH`, expand
    the stream (with the `before` documents' expanded and distinct node counts) beyond
    `MAX_ALIASED_NODES` nodes, or contain itself; else the stream's counts with this document.
    Each node is visited once: the size and height of a node an alias repeats are remembered,
    not recomputed."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()
    earlier, distinct = before
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in children)
            height[key] = 1 + max((height[id(child)] for child in children), default=0)
            if height[key] > MAX_DEPTH:
                raise too_deep(source)
            expanded = earlier + size[key]
            if expanded > MAX_ALIASED_NODES and expanded > distinct:
                raise InputLimitError(
                    source,
                    f"YAML aliases expand it to more than {MAX_ALIASED_NODES:,} nodes, which "
                    "image-digest refuses (a limit against alias bombs); write the values out",
                )
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise InputLimitError(
                source, "a YAML alias refers to a node that contains it, which image-digest refuses"
            )
        open_nodes.add(key)
        distinct += 1
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in size)
    return earlier + size[id(root)], distinct


def _children(node: yaml.Node) -> list[yaml.Node]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
