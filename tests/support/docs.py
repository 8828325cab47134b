"""Code blocks of the project's Markdown files, so tests run the docs exactly as written."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def code_blocks(markdown: str | Path, language: str = "python") -> list[str]:
    """Every fenced block of `language` in `markdown` (a path relative to the repository)."""
    text = (ROOT / markdown).read_text()
    return [body for lang, body in _FENCE.findall(text) if lang == language]


def code_block(markdown: str | Path, needle: str, language: str = "python") -> str:
    """The one block of `language` in `markdown` that contains `needle`."""
    (block,) = [body for body in code_blocks(markdown, language) if needle in body]
    return block


def catalog_table() -> str:
    """The README's table of covered types, rendered from `image_digest.fields.catalog`."""
    from image_digest.fields.catalog import BUILDS, CATALOG

    def code(items: Iterable[str], missing: str = "(Pulumi only)") -> str:
        return ", ".join(f"`{item}`" for item in items) or missing

    rows = [
        "| kind | Pulumi types | Terraform / CDKTF types | image fields: Pulumi; Terraform |",
        "| --- | --- | --- | --- |",
    ]
    for kind in CATALOG:
        pulumi, terraform = kind.fields_for("pulumi"), kind.fields_for("terraform")
        if not kind.pulumi:
            fields = f"(Terraform only); {code(terraform)}"
        else:
            fields = code(pulumi) + ("" if not kind.terraform else f"; {code(terraform)}")
        if kind.platform is not None:
            fields += f" (platform from `{kind.platform.field}`)"
        types = f"{code(kind.pulumi, '(Terraform only)')} | {code(kind.terraform)}"
        rows.append(f"| {kind.title} | {types} | {fields} |")
    rows.append("")
    rows.append(
        "Never looked up, because the program builds them: "
        + "; ".join(f"{build.title} (`{'`, `'.join(build.names)}`)" for build in BUILDS)
        + "."
    )
    return "\n".join(rows) + "\n"


def rendered_signature(name: str, obj: object) -> str:
    """`name(params)` as the docs' reference tables write it: the code's own parameters and
    defaults, without annotations (and without `self`)."""
    import inspect

    target = obj.__init__ if inspect.isclass(obj) else obj  # type: ignore[misc]
    parts: list[str] = []
    keyword_only = False
    for parameter in inspect.signature(target).parameters.values():  # type: ignore[arg-type]
        if parameter.name == "self":
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not keyword_only:
            parts.append("*")
            keyword_only = True
        if parameter.kind is parameter.VAR_KEYWORD:
            parts.append(f"**{parameter.name}")
            continue
        default = parameter.default
        parts.append(
            parameter.name if default is parameter.empty else f"{parameter.name}={default!r}"
        )
    return f"{name}({', '.join(parts)})"
