"""Where each Terraform resource type keeps its container images: the core's catalog.

Paths use the core's syntax (`image_digest.fields.paths`): dotted attribute names as synthesized
(snake_case), `[]` for every element of a list, `key|json` for a JSON string. Nested blocks
that allow one item (`template`, `spec`) are synthesized as objects by the provider bindings,
repeated blocks (`containers`, `container`) as lists; one-element lists are walked too.
"""

from __future__ import annotations

from collections.abc import Mapping

from image_digest.fields.catalog import image_fields

#: Resource type -> attribute paths holding image references. Read-only; extend it per aspect
#: with `PinImages(fields={...})`.
IMAGE_FIELDS: Mapping[str, tuple[str, ...]] = image_fields("terraform")

#: The table's former name, kept for programs written against it.
IMAGE_PATHS = IMAGE_FIELDS
