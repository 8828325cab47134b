"""Images in Helm chart values, and the values that make the chart render them by digest.

A chart's templates decide where an image goes, but charts follow a few conventions for the
values that name it, under a key `image` (or `somethingImage`) at any depth
(`controller.image`, `master.image`, `sidecars[0].image`):

- a string, `image: "repo:tag"`, rendered as it is;
- a block `{repository, tag}`, optionally with `registry` (`registry/repository:tag`, as
  Bitnami's charts render it) and `digest`; ingress-nginx names the repository `image`
  beside its `registry`.

Pinning must change what the chart renders, so it writes where the template reads: a block
with a `digest` key gets the digest there; any other block gets `tag: "<tag>@sha256:..."`,
which the usual `{{ .repository }}:{{ .tag }}` renders as `repo:tag@sha256:...` (the
convention Renovate and Flux use); a string becomes `repo@sha256:...`. A block that leaves
its repository or tag to the chart's own defaults cannot be resolved from the values: it is
reported (`PartialImage`), never guessed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from image_digest.errors import InvalidReferenceError
from image_digest.fields.locations import Location
from image_digest.fields.selection import needs_resolution
from image_digest.fields.yaml_scalars import with_value
from image_digest.names.reference import parse
from image_digest.names.resolved import ResolvedImage

#: The key charts name an image with; `fooImage` keys are read too.
IMAGE_KEY = "image"


@dataclass(frozen=True)
class ValuesImage:
    """An image the values set: `at` is the image key's location, `reference` what to resolve,
    `target` the location to write and `writes` what goes there (see `pinned`)."""

    at: Location
    reference: str
    target: Location
    writes: Literal["image", "tag", "digest"]
    tag: str = ""

    def pinned(self, resolved: ResolvedImage) -> str:
        """The new value at `target`: the digest, `<tag>@<digest>`, or `repo@<digest>`."""
        if self.writes == "digest":
            return resolved.digest
        if self.writes == "tag":
            return f"{self.tag}@{resolved.digest}"
        return resolved.repo_digest


@dataclass(frozen=True)
class PartialImage:
    """An image block the values leave incomplete: the chart's defaults fill it in."""

    at: Location
    reason: str

    def describe(self) -> str:
        return f"{dotted(self.at)} ({self.reason})"


def values_images(values: Any) -> tuple[list[ValuesImage], list[PartialImage]]:
    """Every image the values set, in document order, and every image block they leave
    incomplete. References that already carry a digest are neither."""
    images: list[ValuesImage] = []
    partial: list[PartialImage] = []
    for found in _walk(values, ()):
        if isinstance(found, ValuesImage):
            images.append(found)
        else:
            partial.append(found)
    return images, partial


def pin_values(values: Any, images: list[ValuesImage], pins: Mapping[str, ResolvedImage]) -> Any:
    """A copy of `values` (of the containers on the way only) with each image in `pins`
    written where the chart reads it."""
    for image in images:
        if image.reference in pins:
            values = with_value(values, image.target, image.pinned(pins[image.reference]))
    return values


def dotted(location: Location) -> str:
    """`controller.image`, `sidecars[0].image`: a location as Helm's `--set` names it."""
    text = "".join(
        f"[{key}]" if isinstance(key, int) else "." + key.replace(".", "\\.") for key in location
    )
    return text.lstrip(".")


def _walk(obj: Any, here: Location) -> Iterator[ValuesImage | PartialImage]:
    if isinstance(obj, list | tuple):
        for index, item in enumerate(obj):
            yield from _walk(item, (*here, index))
        return
    if not isinstance(obj, Mapping):
        return
    for key, value in obj.items():
        if not isinstance(key, str):
            continue
        at = (*here, key)
        if _names_an_image(key):
            if isinstance(value, str):
                yield from _string(at, value, strict=key == IMAGE_KEY)
                continue
            if isinstance(value, Mapping) and _is_block(value):
                yield from _block(at, value)
                continue
        yield from _walk(value, at)


def _names_an_image(key: str) -> bool:
    return key == IMAGE_KEY or (key.endswith("Image") and key[:1].islower())


def _string(at: Location, value: str, *, strict: bool) -> Iterator[ValuesImage]:
    """`image: "repo:tag"`: any valid reference; under `fooImage`, one with a tag or host."""
    try:
        reference = parse(value)
    except InvalidReferenceError:
        return
    if not needs_resolution(value):
        return
    if strict or reference.tag is not None or "/" in reference.written_name:
        yield ValuesImage(at, value, at, "image")


def _is_block(block: Mapping[str, Any]) -> bool:
    return any(key in block for key in ("repository", "tag", "digest")) or (
        "registry" in block and IMAGE_KEY in block
    )


def _block(at: Location, block: Mapping[str, Any]) -> Iterator[ValuesImage | PartialImage]:
    digest = block.get("digest")
    if isinstance(digest, str) and digest:
        return  # already pinned by digest
    if any(not _plain(block.get(key)) for key in ("registry", "repository", "image", "tag")):
        return  # a value not known yet (a Pulumi preview's unknown): pinned once it is known
    name = _name(block)
    tag = _scalar(block.get("tag"))
    if "@" in (tag or "") or "@" in (name or ""):
        return  # `tag: "1.27@sha256:..."`: already pinned
    if name is None or tag is None:
        missing = "repository" if name is None else "tag"
        yield PartialImage(at, f"its {missing} comes from the chart's defaults")
        return
    reference = f"{name}:{tag}"
    try:
        parse(reference)
    except InvalidReferenceError as exc:
        yield PartialImage(at, f"{reference!r} is not a reference the values fix: {exc.rule}")
        return
    if "digest" in block:
        yield ValuesImage(at, reference, (*at, "digest"), "digest", tag)
    else:
        yield ValuesImage(at, reference, (*at, "tag"), "tag", tag)


def _name(block: Mapping[str, Any]) -> str | None:
    """`repository` (after `registry/` when given), else ingress-nginx's `registry/image`."""
    registry = _scalar(block.get("registry"))
    repository = _scalar(block.get("repository"))
    if repository is None and registry is not None:
        repository = _scalar(block.get(IMAGE_KEY))
    if repository is None:
        return None
    return f"{registry}/{repository}" if registry else repository


def _plain(value: Any) -> bool:
    """Is `value` something a values file can hold (as opposed to an unknown, or an Output)?"""
    return value is None or isinstance(value, str | int | float | bool | Mapping | list)


def _scalar(value: Any) -> str | None:
    """A value as a template prints it; None for absent, empty, or not a scalar."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value) or None
    return None


#: What `image-digest post-render` is called by, in a release's post-renderer setting.
POST_RENDER_NAME = "image-digest"


def post_renders(setting: Any) -> bool:
    """Does a release's post-renderer setting (a command, or a block of command and args)
    run `image-digest` (its post-render command, or a script named after it)?"""
    if isinstance(setting, str):
        return POST_RENDER_NAME in setting
    if isinstance(setting, Mapping):
        return any(post_renders(value) for value in setting.values())
    if isinstance(setting, list | tuple):
        return any(post_renders(item) for item in setting)
    return False


def chart_defaults_message(
    release: str, partial: list[PartialImage], unreadable: list[str], setting: str
) -> str:
    """The one warning per release: what of its images the program cannot see, and the
    post-renderer `setting` that pins them where Helm renders them."""
    unseen = [p.describe() for p in partial] + [
        f"{u} (not read by the program)" for u in unreadable
    ]
    also = f"; nor these values: {', '.join(unseen)}" if unseen else ""
    return (
        f"{release}: images the chart takes from its own defaults are not visible to the "
        f"program, so they are deployed as the chart tags them{also}; pin every rendered "
        f"image with Helm's post-renderer: {setting} (image-digest post-render, see the docs' "
        "Helm section)"
    )
