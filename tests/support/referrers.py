"""A registry that offers the OCI 1.1 referrers API, emulated in front of a real one.

Debian's docker-registry (distribution 2.8) predates the API: `GET /v2/<name>/referrers/<digest>`
is a 404 there. This front relays everything to the real registry and answers that one
endpoint itself, as the OCI distribution spec v1.1 defines it ("Listing Referrers",
https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers):
an OCI image index (`application/vnd.oci.image.index.v1+json`) of the descriptors of every
manifest pushed through it whose `subject` is that digest, each with its `artifactType`;
with `?artifactType=` it filters and says so in `OCI-Filters-Applied`. A digest nothing
refers to gets an empty index, never a 404 (which would mean "no API").
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import defaultdict
from typing import Any

from werkzeug import Request, Response

from .edge import Handler, forward

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_REFERRERS = re.compile(r"^/v2/(?P<repo>.+)/referrers/(?P<digest>sha256:[a-f0-9]{64})$")
_MANIFEST_PUT = re.compile(r"^/v2/(?P<repo>.+)/manifests/(?P<ref>[^/]+)$")


class ReferrersFront:
    """The handler (`handler`) for an `Edge`; `asked` counts referrers API requests."""

    def __init__(self, base_url: str):
        self._relay = forward(base_url)
        self._referrers: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._lock = threading.Lock()
        self.asked = 0

    def handler(self) -> Handler:
        return self._handle

    def _handle(self, request: Request) -> Response:
        listing = _REFERRERS.match(request.path)
        if listing is not None and request.method == "GET":
            return self._list(listing["repo"], listing["digest"], request.args.get("artifactType"))
        response = self._relay(request)
        put = _MANIFEST_PUT.match(request.path)
        if put is not None and request.method == "PUT" and response.status_code == 201:
            self._remember(put["repo"], request.get_data())
        return response

    def _remember(self, repo: str, body: bytes) -> None:
        try:
            manifest = json.loads(body)
        except ValueError:
            return
        subject = manifest.get("subject") if isinstance(manifest, dict) else None
        if not isinstance(subject, dict) or not isinstance(subject.get("digest"), str):
            return
        descriptor: dict[str, Any] = {
            "mediaType": manifest.get("mediaType"),
            "digest": "sha256:" + hashlib.sha256(body).hexdigest(),
            "size": len(body),
        }
        artifact_type = manifest.get("artifactType") or manifest.get("config", {}).get("mediaType")
        if artifact_type:
            descriptor["artifactType"] = artifact_type
        if manifest.get("annotations"):
            descriptor["annotations"] = manifest["annotations"]
        with self._lock:
            self._referrers[(repo, subject["digest"])].append(descriptor)

    def _list(self, repo: str, digest: str, artifact_type: str | None) -> Response:
        with self._lock:
            self.asked += 1
            found = list(self._referrers.get((repo, digest), []))
        headers = {"Content-Type": OCI_INDEX}
        if artifact_type:
            found = [d for d in found if d.get("artifactType") == artifact_type]
            headers["OCI-Filters-Applied"] = "artifactType"
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found})
        return Response(body, 200, headers)
