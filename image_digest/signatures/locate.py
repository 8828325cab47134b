"""Where a digest's cosign signatures are: its `.sig` tag, and its OCI 1.1 referrers.

Three places, all read-only (a signature may be in any of them; `online` asks the tag first
and the referrers only when no signature there counts):

- the `sha256-<hex>.sig` tag, where cosign stores signatures by default;
- the referrers API, `GET /v2/<repo>/referrers/<digest>?artifactType=...` (OCI distribution
  spec v1.1, "Listing Referrers"), where `cosign sign --registry-referrers-mode=oci-1-1`
  stores a signature manifest whose `subject` is the image;
- on a registry without that API (it answers 404, as distribution 2.8 does), the referrers
  tag schema the same spec defines for it: an index under the tag `sha256-<hex>`.

Each signature manifest's simple-signing layers are fetched by digest (so checked against
the manifest), with their base64 signature annotation. Nothing here judges a signature.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import HTTPError

from image_digest.errors import DigestError, RegistryError
from image_digest.names.mediatypes import MANIFEST_ACCEPT, OCI_INDEX
from image_digest.names.reference import validate_digest
from image_digest.registry.client import RegistryClient
from image_digest.safe_load import load_json
from image_digest.signatures.payload import (
    SIGNATURE_ANNOTATION,
    SIGNATURE_ARTIFACT_TYPE,
    SIMPLE_SIGNING_MEDIA_TYPE,
    referrers_tag,
    signature_tag,
)
from image_digest.signatures.verify import Candidate
from image_digest.transport import Deadline
from image_digest.transport.body import BodyTooLargeError, read_capped

#: Signature layers read per digest at most: a hostile registry cannot make us fetch more.
MAX_SIGNATURES = 32
_MAX_BODY = 4 * 1024 * 1024


def tag_candidates(
    client: RegistryClient, text: str, repository: str, digest: str, deadline: Deadline
) -> list[Candidate]:
    """The signature layers under `digest`'s `.sig` tag (maybe none): where cosign signs."""
    tag = signature_tag(digest)
    document = _get_json(client, text, repository, f"manifests/{tag}", MANIFEST_ACCEPT, deadline)
    if document is None:
        return []
    return _layers(client, text, repository, [(f"tag {tag}", document)], deadline)


def referrer_candidates(
    client: RegistryClient, text: str, repository: str, digest: str, deadline: Deadline
) -> list[Candidate]:
    """The signature layers of `digest`'s OCI 1.1 signature referrers (maybe none)."""
    manifests: list[tuple[str, dict[str, Any]]] = []
    for referrer in _referrers(client, text, repository, digest, deadline):
        found = _get_json(
            client, text, repository, f"manifests/{referrer}", MANIFEST_ACCEPT, deadline
        )
        if found is not None and _subject_digest(found) == digest:
            manifests.append((f"referrer {referrer}", found))
    return _layers(client, text, repository, manifests, deadline)


def candidates(
    client: RegistryClient, text: str, repository: str, digest: str, deadline: Deadline
) -> list[Candidate]:
    """Every cosign signature layer stored for `digest` in `repository` (maybe none)."""
    return tag_candidates(client, text, repository, digest, deadline) + referrer_candidates(
        client, text, repository, digest, deadline
    )


def _layers(
    client: RegistryClient,
    text: str,
    repository: str,
    manifests: list[tuple[str, dict[str, Any]]],
    deadline: Deadline,
) -> list[Candidate]:
    found_layers: list[Candidate] = []
    for where, manifest in manifests:
        for layer_digest, annotation in _signature_layers(manifest):
            if len(found_layers) >= MAX_SIGNATURES:
                return found_layers
            payload = client.blob(text, repository, layer_digest, deadline)
            signature = _decoded(annotation)
            if signature is not None:
                found_layers.append(Candidate(payload, signature, annotation, where))
    return found_layers


def _referrers(
    client: RegistryClient, text: str, repository: str, digest: str, deadline: Deadline
) -> list[str]:
    """Digests of the signature manifests that name `digest` as their subject: from the
    referrers API, else (404) from the referrers tag schema's index."""
    query = f"?artifactType={quote(SIGNATURE_ARTIFACT_TYPE, safe='')}"
    index = _get_json(client, text, repository, f"referrers/{digest}{query}", OCI_INDEX, deadline)
    if index is None:
        index = _get_json(
            client, text, repository, f"manifests/{referrers_tag(digest)}", OCI_INDEX, deadline
        )
    if index is None:
        return []
    listed = index.get("manifests")
    if not isinstance(listed, list):
        return []
    found: list[str] = []
    for entry in listed:
        if not isinstance(entry, dict) or entry.get("artifactType") != SIGNATURE_ARTIFACT_TYPE:
            continue  # a server may ignore the filter (no OCI-Filters-Applied header)
        entry_digest = entry.get("digest")
        if isinstance(entry_digest, str) and _valid(entry_digest):
            found.append(entry_digest)
    return found[:MAX_SIGNATURES]


def _signature_layers(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        return []
    found = []
    for layer in layers:
        if not isinstance(layer, dict) or layer.get("mediaType") != SIMPLE_SIGNING_MEDIA_TYPE:
            continue
        annotations = layer.get("annotations")
        signature = annotations.get(SIGNATURE_ANNOTATION) if isinstance(annotations, dict) else None
        layer_digest = layer.get("digest")
        if isinstance(signature, str) and isinstance(layer_digest, str) and _valid(layer_digest):
            found.append((layer_digest, signature))
    return found


def _subject_digest(manifest: dict[str, Any]) -> str | None:
    subject = manifest.get("subject")
    value = subject.get("digest") if isinstance(subject, dict) else None
    return value if isinstance(value, str) else None


def _decoded(annotation: str) -> bytes | None:
    try:
        return base64.b64decode(annotation, validate=True)
    except (binascii.Error, ValueError):
        return None


def _valid(digest: str) -> bool:
    try:
        validate_digest(digest)
    except DigestError:
        return False
    return True


def _get_json(
    client: RegistryClient,
    text: str,
    repository: str,
    path: str,
    accept: str,
    deadline: Deadline,
) -> dict[str, Any] | None:
    """GET `/v2/<repository>/<path>` as a JSON object; None when the registry answers 404
    (no such tag, or no referrers API). Other failures are the registry's: `RegistryError`."""
    registry = client.registry
    what = path.split("?", 1)[0]
    response = client.transport.request(
        "GET",
        repository,
        f"/v2/{repository}/{path}",
        headers={"Accept": accept},
        deadline=deadline,
        reference=text,
    )
    with response:
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RegistryError(
                f"registry {registry} answered HTTP {response.status_code} for {what} while "
                f"looking for signatures of {text}",
                reference=text,
                registry=registry,
                status=response.status_code,
            )
        try:
            body = read_capped(response, _MAX_BODY, deadline)
        except (BodyTooLargeError, TimeoutError, requests.RequestException, HTTPError, OSError):
            raise RegistryError(
                f"registry {registry} sent an unreadable or oversized {what} while looking "
                f"for signatures of {text}",
                reference=text,
                registry=registry,
            ) from None
    try:
        value = load_json(body, f"{what} of {text} on {registry}")
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {}
