"""Pin container images to digests in CDK for Terraform programs (cdktf or its fork cdktn).

- `pin(image)`: the `repo@sha256:...` string, resolved at synth.
- `DigestImage(scope, id, image=...)`: a construct with `.digest` and `.repo_digest`.
- `RegistryDigest(scope, id, image=...)`: resolved by Terraform at plan time instead.
- `PinImages()`: an aspect that pins every known image attribute across a stack.

Thin by design: references are parsed and resolved by `image_digest`, never here.
"""

from image_digest.errors import install_extra

try:
    import constructs  # noqa: F401  (cdktf and cdktn load later, from the construct at hand)
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        f"cdktf_digest needs constructs and a CDK for Terraform ({missing}): "
        f"{install_extra('cdktf', 'cdktn')} (cdktf: HashiCorp's; cdktn: its maintained fork)",
        name=missing.name,
    ) from None

from cdktf_digest.aspect import PinImages
from cdktf_digest.digest_image import DigestImage
from cdktf_digest.errors import PinError, UnresolvedTokenError, UnsafeRewriteError
from cdktf_digest.image_paths import IMAGE_FIELDS, IMAGE_PATHS
from cdktf_digest.pin import pin
from cdktf_digest.registry_digest import RegistryDigest

__all__ = [
    "IMAGE_FIELDS",
    "IMAGE_PATHS",
    "DigestImage",
    "PinError",
    "PinImages",
    "RegistryDigest",
    "UnresolvedTokenError",
    "UnsafeRewriteError",
    "pin",
]
