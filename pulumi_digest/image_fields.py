"""Where each known resource type keeps its images, in the engine's wire names: the core's catalog.

Paths use the core's `image_digest.fields.paths` syntax: dotted camelCase keys, `[]` for every
element of a list, `*` for every value of a map, `key|json` for a JSON string. They are the
names a stack transform sees (`taskSpec`, not `task_spec`).
"""

from __future__ import annotations

from collections.abc import Mapping

from image_digest.fields.catalog import image_fields

IMAGE_FIELDS: Mapping[str, tuple[str, ...]] = image_fields("pulumi")
"""The built-in table: type token -> image paths. `pin_images(fields=...)` extends it."""
