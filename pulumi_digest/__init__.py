"""Pulumi adapters over the image_digest core: deploy every image by digest, never by tag.

Three ways, from smallest to widest:

- `pin(image)`: an Output with `repo@sha256:...` for one image;
- `DigestImage(name, image=...)`: a resource whose `digest` shows up in previews and state;
- `pin_images()`: a stack transform that pins every known image field of every resource.

Unit tests of such programs under Pulumi's mocks: `pulumi_digest.testing.set_mocks`.
"""

from image_digest.errors import install_extra

try:
    import pulumi  # noqa: F401  (the SDK every module here adapts)
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        f"pulumi_digest needs the Pulumi SDK ({missing}): {install_extra('pulumi')}",
        name=missing.name,
    ) from None

from .errors import PinError
from .image_fields import IMAGE_FIELDS
from .pin import pin
from .provider import DigestImageProvider
from .resource import DigestImage
from .transform import ImagePinner, pin_images

__all__ = [
    "IMAGE_FIELDS",
    "DigestImage",
    "DigestImageProvider",
    "ImagePinner",
    "PinError",
    "pin",
    "pin_images",
]
