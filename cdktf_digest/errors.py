"""Errors that say which construct asked for the image, on top of the core's own message.

`PinError` is the core's (`image_digest.PinError`, the same class `pulumi_digest` raises),
with the construct path as who asked; the two errors below are CDKTF's own.

A failed pin must stop synth: deploying the tag instead would defeat the point. Synth runs
through jsii, which keeps only an exception's message, so the message carries everything:
the construct path, the reference and the core's explanation.
"""

from __future__ import annotations

from image_digest import DigestError
from image_digest.errors import PinError

_TOKEN_ADVICE = (
    "its value is only known to Terraform, after synth; to resolve it at plan time, "
    "use cdktf_digest.RegistryDigest(scope, id, image=...) and deploy its .repo_digest"
)


class UnresolvedTokenError(DigestError, ValueError):
    """The image is a CDK token (e.g. another resource's attribute): synth cannot resolve it."""

    def __init__(self, token: str, where: str | None = None):
        place = f"{where}: " if where else ""
        super().__init__(f"{place}image {token!r} is an unresolved CDK token; {_TOKEN_ADVICE}")
        self.token = token


class UnsafeRewriteError(DigestError):
    """An image attribute cannot be changed alone: synth stops rather than write anything else.

    `construct` is the resource's construct path, `attribute` the attribute path, with
    `[index]` for list elements; `reference` the image there, when one place is to blame.
    """

    def __init__(
        self,
        construct: str,
        resource_type: str,
        attribute: str,
        reason: str,
        reference: str | None = None,
    ):
        super().__init__(
            f"{construct} ({resource_type}): cannot change the image at {attribute} without "
            f"changing other values: {reason}; declare that list in one place (the binding's "
            "argument or one add_override), or set its image with cdktf_digest.pin(...)",
            reference=reference,
        )
        self.construct = construct
        self.resource_type = resource_type
        self.attribute = attribute


__all__ = ["PinError", "UnresolvedTokenError", "UnsafeRewriteError"]
