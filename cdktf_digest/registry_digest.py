"""`RegistryDigest`: resolve at plan time, for programs synthesized once and planned later.

It declares the docker provider's `docker_registry_image` data source, as the avocano
application's Terraform docs do, so Terraform asks the registry on every plan and the
synthesized JSON never goes stale. Needs the docker provider (`DockerProvider`) in the stack.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from cdktf_digest.errors import PinError
from cdktf_digest.framework import Flavor, flavor_of, is_token
from image_digest import InvalidReferenceError, parse

#: Terraform regex for a trailing `:tag` (a colon followed by no `/`, so `host:5000/app` stays).
_TRAILING_TAG = "/:[^:/]+$/"


class RegistryDigest(Construct):
    """`.repo_digest` is the token `repo@${data.docker_registry_image.<id>.sha256_digest}`.

    `image` may be a literal (checked now, with the core's parser) or a token such as a
    `TerraformVariable`'s value; `provider` selects a non-default docker provider.
    """

    def __init__(self, scope: Construct, id: str, *, image: str, provider: Any = None) -> None:
        super().__init__(scope, id)
        flavor = flavor_of(self)
        data_source = flavor.docker("data_docker_registry_image").DataDockerRegistryImage
        self.image = image
        self.data = data_source(self, "image", name=image, provider=provider)
        self.data.override_logical_id(id)
        self.digest: str = self.data.sha256_digest
        self.repo_digest: str = self._pinned(flavor)

    def _pinned(self, flavor: Flavor) -> str:
        """The repository as written plus `@digest`; Terraform drops the tag of a token."""
        if is_token(self.image, flavor):
            return f"{flavor.lib.Fn.replace(self.image, _TRAILING_TAG, '')}@{self.digest}"
        try:
            return parse(self.image).with_digest(self.digest)
        except InvalidReferenceError as err:
            raise PinError({self.image: err}, {self.image: [self.node.path]}) from err
