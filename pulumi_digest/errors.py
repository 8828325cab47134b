"""Errors that add the Pulumi resource to the core's message, so the failing one is obvious."""

from __future__ import annotations

from collections.abc import Mapping

from image_digest import DigestError


class PinError(DigestError):
    """A resource's image could not be pinned; never deployed by tag instead.

    `errors` maps each failing reference to the core's error (its message says why and what
    to do); `resource_type` and `resource_name` say which resource asked for it.
    """

    def __init__(self, resource_type: str, resource_name: str, errors: Mapping[str, DigestError]):
        causes = "\n".join(f"  {reference}: {error}" for reference, error in errors.items())
        super().__init__(
            f"pulumi_digest could not pin the image of {resource_type} {resource_name!r}; "
            f"refusing to deploy it by tag:\n{causes}",
            reference=next(iter(errors), None),
        )
        self.resource_type = resource_type
        self.resource_name = resource_name
        self.errors = dict(errors)
