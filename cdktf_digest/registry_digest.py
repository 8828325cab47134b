"""`RegistryDigest`: resolve at plan time, for programs synthesized once and planned later.

It declares the docker provider's `docker_registry_image` data source, as the avocano
application's Terraform docs do, so Terraform asks the registry on every plan and the
synthesized JSON never goes stale. Needs the docker provider (`DockerProvider`) in the stack.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from cdktf_digest.errors import PinError
from cdktf_digest.framework import flavor_of, is_token
from image_digest import InvalidReferenceError, Reference, parse

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
        reference = None if is_token(image, flavor) else self._parse(image)
        data_source = flavor.docker("data_docker_registry_image").DataDockerRegistryImage
        self.image = image
        self.data = data_source(self, "image", name=image, provider=provider)
        self.data.override_logical_id(id)
        self.digest: str = self.data.sha256_digest
        if reference is not None:
            self.repo_digest: str = reference.with_digest(self.digest)
        else:  # only Terraform knows the name: drop its tag there
            repository = flavor.lib.Fn.replace(image, _TRAILING_TAG, "")
            self.repo_digest = f"{repository}@{self.digest}"

    def _parse(self, image: str) -> Reference:
        try:
            return parse(image)
        except InvalidReferenceError as err:
            raise PinError.at(self.node.path, image, err) from err
