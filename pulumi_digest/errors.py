"""The error every pulumi_digest entry point raises when an image cannot be pinned.

It carries the core's errors unchanged (their messages say why and what to do) and adds who
asked. It is also a `ValueError`, which the Pulumi SDK reports as a bad input *naming the
resource* that consumed the value ("While processing resource: 'app' ..."), so even `pin`,
which cannot know its consumer, ends up with the resource in the message.
"""

from __future__ import annotations

from collections.abc import Mapping

from image_digest import DigestError


class PinError(DigestError, ValueError):
    """An image could not be pinned; it is never deployed by tag instead.

    `errors` maps each failing reference to the core's error; `resource_type` and
    `resource_name` name the resource when the caller knew it (`pin_images`, `DigestImage`).
    """

    def __init__(
        self,
        errors: Mapping[str, DigestError],
        *,
        resource_type: str | None = None,
        resource_name: str | None = None,
    ) -> None:
        who = f" of {resource_type} {resource_name!r}" if resource_name else ""
        causes = "\n".join(f"  {reference}: {error}" for reference, error in errors.items())
        super().__init__(
            f"pulumi_digest could not pin the image{who}; refusing to deploy it by tag:\n{causes}",
            reference=next(iter(errors), None),
        )
        self.resource_type = resource_type
        self.resource_name = resource_name
        self.errors = dict(errors)
