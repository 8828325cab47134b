"""The error every pulumi_digest entry point raises when an image cannot be pinned.

It is the core's `image_digest.PinError` (the same class `cdktf_digest` raises): it carries the
core's errors unchanged (their messages say why and what to do) and adds who asked. It is also
a `ValueError`, which the Pulumi SDK reports as a bad input *naming the resource* that consumed
the value ("While processing resource: 'app' ..."), so even `pin`, which cannot know its
consumer, ends up with the resource in the message.
"""

from __future__ import annotations

from image_digest.errors import PinError

__all__ = ["PinError"]
