"""`PinImages`: an aspect that pins every image attribute it knows, across a stack.

Aspects visit constructs top-down, one at a time; resolving per visit would make one request
round per resource. So the visit of the construct the aspect was added to collects the images
of every resource below it, resolves them in one `resolve_many` batch (one per platform, when a
resource type dictates its platform, as Lambda does), then rewrites each resource; the
inherited visits of the constructs below have nothing left to do. Values that already carry a
digest, CDK tokens, skipped prefixes and images the stack builds itself are left alone without
a network call. Afterwards every resource is searched for tags left in fields no table covers:
a warning annotation each, or one error in strict mode.

Values behind tokens are read as synth writes them: `Fn.jsonencode([...])` container
definitions become `${jsonencode([...])}`, whose image strings are pinned in place (so the
digest is what `terraform plan` sees). Modules (`TerraformHclModule`) are pinned in their
input variables named like images (`image`, `*_image`, `*_images`: `pin-vars`' rule). An image
field holding an expression no one can pin at synth (`${var.image}`, a repository URL with
`:latest`) gets a warning naming the resource and the field.

cdktf and cdktn apply aspects per stack, never those added to the `App`: add this to a stack.
An aspect that was never applied by the time the program exits (added to the `App`, or to a
stack never synthesized) says so on stderr, since no tag it should have pinned was pinned.
"""

from __future__ import annotations

import atexit
import sys
import warnings
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Unpack

from constructs import IConstruct

from cdktf_digest.attributes import (
    element_type,
    set_strings,
    synthesized_attributes,
    with_tokens_resolved,
)
from cdktf_digest.errors import PinError, UnsafeRewriteError
from cdktf_digest.framework import Flavor, flavor_of, loaded_flavors
from cdktf_digest.helm import pin_helm_releases
from cdktf_digest.image_paths import IMAGE_FIELDS
from cdktf_digest.options import using_resolver
from image_digest import BatchResolutionError, DigestError, ResolvedImage, Resolver
from image_digest.entry_options import (
    ResolverOptions,
    ResolverSettings,
    check_exclusive,
    resolver_options,
)
from image_digest.fields.builds import LocalBuilds, left_alone_message
from image_digest.fields.catalog import merged_fields, platform_rules
from image_digest.fields.locations import string_changes
from image_digest.fields.paths import find_images, find_values, replace_images
from image_digest.fields.selection import needs_resolution
from image_digest.fields.terraform_expressions import Expression, is_expression, pinned_by_terraform
from image_digest.fields.tfvars import named_images
from image_digest.fields.unpinned import (
    UnpinnedImagesError,
    strict_mode,
    unpinned_images,
    unpinned_message,
)

_PLATFORM_RULES = platform_rules("terraform")
#: Aspects not yet applied to any construct; jsii holds those added to an App until exit.
_NOT_APPLIED: weakref.WeakSet[PinImages] = weakref.WeakSet()
_NEVER_APPLIED = (
    "cdktf_digest: warning: a PinImages aspect was never applied, so nothing was pinned by it: "
    "cdktf and cdktn run no aspects added to the App; add it to each TerraformStack "
    "(Aspects.of(stack).add(PinImages()))\n"
)


@atexit.register
def _report_never_applied() -> None:
    if len(_NOT_APPLIED):
        sys.stderr.write(_NEVER_APPLIED)


#: Keys of a module block that are Terraform's own, not the module's input variables.
_MODULE_META = frozenset({"source", "version", "providers", "depends_on", "count", "for_each"})


def _type_of(resource: Any) -> str:
    return element_type(resource)


def _module_paths(attributes: Mapping[str, Any]) -> tuple[str, ...]:
    """A module's input variables that hold images, by their names (`pin-vars`' rule)."""
    paths = (
        path
        for name, value in attributes.items()
        if name not in _MODULE_META
        for path, _ in named_images(name, value)
    )
    return tuple(dict.fromkeys(paths))


def expression_message(where: str, resource_type: str, path: str, text: str) -> str:
    """The warning for an image field whose value only Terraform can evaluate."""
    return (
        f"{where}: image at {path} of {resource_type} is the Terraform expression {text!r}: "
        "only Terraform knows its value, so PinImages cannot pin it at synth; pin the value "
        "where the program knows it (pin(), DigestImage), resolve it at plan time "
        "(RegistryDigest), or check the plan with image-digest audit"
    )


class _ImplementsIAspect(type):
    """jsii reads `__jsii_ifaces__` when an aspect first crosses into JavaScript; answering
    then lets one class be the `IAspect` of whichever framework(s) the program imported."""

    @property
    def __jsii_ifaces__(cls) -> list[type]:
        return [flavor.lib.IAspect for flavor in loaded_flavors()]


@dataclass
class _Resource:
    """One resource of the stack: its attributes as synth writes them, and its image paths."""

    construct: Any
    attributes: dict[str, Any]
    paths: tuple[str, ...]

    @property
    def type(self) -> str:
        return _type_of(self.construct)

    @property
    def path(self) -> str:
        return str(self.construct.node.path)


@dataclass
class _Target:
    """One resource to rewrite: the images to pin there, and the platform to pin them for."""

    resource: _Resource
    images: list[str]
    platform: str | None


class PinImages(metaclass=_ImplementsIAspect):
    """Add with `Aspects.of(stack).add(PinImages())` to pin every known image attribute.

    `fields` adds resource types (or more paths for known ones) to `IMAGE_FIELDS`
    (`{"acme_worker": ["spec.image"]}`; `image_paths` is its former name); `skip_prefixes`
    leaves matching references as written; `strict` (or `IMAGE_DIGEST_STRICT=1`) fails synth
    on any image left as a tag; `lock`, `mode`, `ca_bundle` and `insecure_registries` configure
    the resolver created for each batch (or pass your own `resolver`, not both).
    """

    __jsii_type__ = None  # what jsii.implements sets: a native object, not a jsii class

    def __init__(
        self,
        *,
        platform: str | None = None,
        skip_prefixes: Iterable[str] = (),
        fields: Mapping[str, str | Iterable[str]] | None = None,
        strict: bool | None = None,
        resolver: Resolver | None = None,
        image_paths: Mapping[str, str | Iterable[str]] | None = None,
        options: ResolverOptions | None = None,
        **settings: Unpack[ResolverSettings],
    ) -> None:
        if image_paths is not None:
            warnings.warn(
                "PinImages(image_paths=...) is now PinImages(fields=...)",
                DeprecationWarning,
                stacklevel=2,
            )
        self.platform = platform
        self.skip_prefixes = tuple(skip_prefixes)
        self.fields = merged_fields(merged_fields(IMAGE_FIELDS, image_paths), fields)
        self.strict = strict_mode(strict)
        self._options = resolver_options(options, **settings)
        check_exclusive(resolver, self._options)
        self._resolver = resolver
        _NOT_APPLIED.add(self)

    def visit(self, node: IConstruct) -> None:
        """Pin everything under the construct this aspect was added to, in one batch.

        Visits of the constructs below it (aspects are inherited) have nothing left to do.
        Synthesizing again finds only digests, so no state is kept between visits.
        """
        _NOT_APPLIED.discard(self)
        flavor = flavor_of(node)
        if not any(aspect is self for aspect in flavor.lib.Aspects.of(node).all):
            return
        resources = [
            self._resource(c, flavor)
            for c in node.node.find_all()
            if flavor.lib.TerraformResource.is_terraform_resource(c)
            or isinstance(c, flavor.lib.TerraformModule)
        ]
        builds = LocalBuilds("terraform")
        for resource in resources:
            builds.record(resource.type, resource.path, resource.attributes)
        targets = [t for r in resources if (t := self._target(r, flavor, builds)) is not None]
        if targets:
            self._pin(targets, flavor)
        pin_helm_releases(  # Helm values: cdktf_digest/helm.py
            resources, flavor, self._resolve, self.platform, self.skip_prefixes
        )
        self._report_unpinned(resources, flavor, builds)

    def _resource(self, construct: Any, flavor: Flavor) -> _Resource:
        """A resource (or module) with its attributes as synth writes them, tokens resolved."""
        attributes = with_tokens_resolved(construct, synthesized_attributes(construct), flavor.lib)
        if isinstance(construct, flavor.lib.TerraformModule):
            paths = _module_paths(attributes)
        else:
            paths = self.fields.get(_type_of(construct), ())
        return _Resource(construct, attributes, paths)

    def _target(self, resource: _Resource, flavor: Flavor, builds: LocalBuilds) -> _Target | None:
        images = []
        for image in dict.fromkeys(find_images(resource.attributes, resource.paths)):
            if is_expression(image) or not needs_resolution(image, self.skip_prefixes):
                continue
            if (built := builds.find(image)) is not None:
                annotations = flavor.lib.Annotations.of(resource.construct)
                note = annotations.add_warning if built.pushed else annotations.add_info
                note(left_alone_message(image, built))
                continue
            images.append(image)
        if not images:
            return None
        rule = _PLATFORM_RULES.get(resource.type)
        platform = rule.platform_for(resource.attributes) if rule else self.platform
        return _Target(resource, images, platform)

    def _pin(self, targets: list[_Target], flavor: Flavor) -> None:
        uses: dict[str, list[str]] = defaultdict(list)
        batches: dict[str | None, list[str]] = defaultdict(list)
        for target in targets:
            for image in target.images:
                uses[image].append(target.resource.path)
                if image not in batches[target.platform]:
                    batches[target.platform].append(image)
        resolved = self._resolve(batches, uses)
        for target in targets:
            resource = target.resource
            pins = {image: resolved[image, target.platform] for image in target.images}
            mapping = {image: pin.repo_digest for image, pin in pins.items()}
            rewritten = replace_images(resource.attributes, resource.paths, mapping)
            try:
                set_strings(resource.construct, string_changes(resource.attributes, rewritten))
            except UnsafeRewriteError as err:
                raise PinError.at(resource.path, err.reference or target.images[0], err) from err
            resource.attributes = rewritten
            for pin in pins.values():
                if pin.warning:
                    flavor.lib.Annotations.of(resource.construct).add_warning(pin.warning)

    def _report_unpinned(
        self, resources: list[_Resource], flavor: Flavor, builds: LocalBuilds
    ) -> None:
        """A warning annotation for every tag in a field no table covers (an error if strict),
        and for every image field holding an expression only Terraform can evaluate."""
        messages = []
        for resource in resources:
            for message in _expression_messages(resource):
                flavor.lib.Annotations.of(resource.construct).add_warning(message)
            for found in unpinned_images(
                resource.attributes, covered=resource.paths, skip_prefixes=self.skip_prefixes
            ):
                if builds.find(found.reference) is not None:
                    continue
                message = unpinned_message(resource.path, resource.type, found, "PinImages")
                messages.append(message)
                if not self.strict:
                    flavor.lib.Annotations.of(resource.construct).add_warning(message)
        if messages and self.strict:
            raise UnpinnedImagesError(messages)

    def _resolve(
        self, batches: Mapping[str | None, list[str]], uses: Mapping[str, list[str]]
    ) -> dict[tuple[str, str | None], ResolvedImage]:
        """Every image of every platform batch: (image, platform) -> its resolution."""
        resolved: dict[tuple[str, str | None], ResolvedImage] = {}
        try:
            with using_resolver(self._resolver, self._options) as resolver:
                for platform, images in batches.items():
                    for image, pin in resolver.resolve_many(images, platform=platform).items():
                        resolved[image, platform] = pin
        except BatchResolutionError as err:
            raise PinError(err.errors, uses) from err
        except DigestError as err:  # the resolver itself could not be set up (e.g. lock file)
            raise PinError(dict.fromkeys(uses, err), uses) from err
        return resolved


def _expression_messages(resource: _Resource) -> list[str]:
    messages = []
    for path in resource.paths:
        for value in find_values(resource.attributes, path):
            if isinstance(value, Expression):
                text = value.text
            elif is_expression(value):
                text = value
            else:
                continue
            if not pinned_by_terraform(text):
                messages.append(expression_message(resource.path, resource.type, path, text))
    return list(dict.fromkeys(messages))
