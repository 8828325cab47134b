"""Manifest and blob operations of the OCI distribution API, over a `RegistryTransport`.

The digest of a tag comes from `HEAD /v2/<repo>/manifests/<tag>` (`Docker-Content-Digest`).
When the registry refuses HEAD or omits the header, we GET the manifest and hash it ourselves;
when it sends both, they must agree. Every digest is validated, every body is size-capped.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import HTTPError

from image_digest.errors import (
    DigestError,
    DigestMismatchError,
    InvalidReferenceError,
    RegistryError,
    RepositoryNotFoundError,
    TagNotFoundError,
    printable,
    quoted,
)
from image_digest.names.mediatypes import ALL_MANIFEST_TYPES, MANIFEST_ACCEPT
from image_digest.names.reference import validate_digest
from image_digest.transport import Deadline, RegistryTransport
from image_digest.transport.body import BodyTooLargeError, read_capped
from image_digest.transport.errorbody import error_body

_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
# 403 too: a HEAD has no body, and the GET's error body says why (or the GET is allowed).
_FALLBACK_TO_GET = frozenset({400, 403, 404, 405, 406, 415, 501})


@dataclass(frozen=True)
class Descriptor:
    """What a registry says about one manifest."""

    digest: str
    media_type: str | None
    size: int | None = None


@dataclass(frozen=True)
class Manifest:
    """A manifest body whose digest we have checked."""

    descriptor: Descriptor
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body)
        except (ValueError, RecursionError):  # hostile nesting raises RecursionError
            value = None
        if not isinstance(value, dict):
            raise RegistryError(
                f"manifest {self.descriptor.digest} is not a JSON object",
                status=None,
            )
        return value


class RegistryClient:
    """Manifest and blob reads for one registry."""

    def __init__(self, transport: RegistryTransport):
        self.transport = transport
        self.registry = transport.registry

    def descriptor(
        self, reference: str, repository: str, identifier: str, deadline: Deadline
    ) -> tuple[Descriptor, Manifest | None]:
        """The digest `identifier` (a tag) points at; the body too if we had to GET it."""
        response = self._manifest_request("HEAD", reference, repository, identifier, deadline)
        with response:
            if response.status_code == 200:
                header = response.headers.get("Docker-Content-Digest")
                if header:
                    digest = self._checked_digest(header, reference)
                    media_type = self._media_type(response, reference)
                    return Descriptor(digest, media_type, _content_length(response)), None
            elif response.status_code not in _FALLBACK_TO_GET:
                raise self._status_error(response, reference, repository, identifier)
        manifest = self.manifest(reference, repository, identifier, deadline)
        return manifest.descriptor, manifest

    def manifest(
        self,
        reference: str,
        repository: str,
        identifier: str,
        deadline: Deadline,
        expected_digest: str | None = None,
    ) -> Manifest:
        """GET a manifest, hash it, and check it against the header and `expected_digest`."""
        response = self._manifest_request("GET", reference, repository, identifier, deadline)
        with response:
            if response.status_code != 200:
                raise self._status_error(response, reference, repository, identifier)
            header = response.headers.get("Docker-Content-Digest")
            header_digest = self._checked_digest(header, reference) if header else None
            body = self._read_capped(response, reference, "manifest", deadline)
            media_type = self._media_type(response, reference)
        algorithm = (expected_digest or header_digest or "sha256:").split(":", 1)[0]
        digest = f"{algorithm}:{_HASHES[algorithm](body).hexdigest()}"
        for claimed, source in (
            (header_digest, "Docker-Content-Digest header"),
            (expected_digest, "requested digest"),
        ):
            if claimed is not None and claimed != digest:
                raise DigestMismatchError(
                    f"registry {self.registry} served a manifest for {reference} whose content "
                    f"hashes to {digest}, but its {source} says {claimed}; refusing to pin a "
                    "digest the content does not match",
                    reference=reference,
                    registry=self.registry,
                )
        if header_digest is None and expected_digest is None and not _looks_like_manifest(body):
            # Nothing vouches for these bytes: a body cut short by a closed connection (no
            # Content-Length), or whatever a redirect led to (an error page, `{}`), would hash
            # to a wrong digest. A manifest is a JSON object with a schemaVersion or mediaType.
            raise RegistryError(
                f"registry {self.registry} served a manifest for {reference} that is not a "
                "manifest (not a JSON object with a schemaVersion or mediaType: truncated, or "
                "something else), without a Docker-Content-Digest to check it against; "
                "refusing to pin its hash",
                reference=reference,
                registry=self.registry,
            )
        if media_type is None:
            media_type = _body_media_type(body)
        return Manifest(Descriptor(digest, media_type, len(body)), body)

    def blob(self, reference: str, repository: str, digest: str, deadline: Deadline) -> bytes:
        """GET a small blob (an image config), verified against its digest."""
        response = self.transport.request(
            "GET",
            repository,
            f"/v2/{repository}/blobs/{digest}",
            headers={},
            deadline=deadline,
            reference=reference,
        )
        with response:
            if response.status_code != 200:
                raise self._status_error(response, reference, repository, digest)
            body = self._read_capped(response, reference, "config blob", deadline)
        algorithm = digest.split(":", 1)[0]
        actual = f"{algorithm}:{_HASHES[algorithm](body).hexdigest()}"
        if actual != digest:
            raise DigestMismatchError(
                f"registry {self.registry} served blob {digest} for {reference} whose content "
                f"hashes to {actual}",
                reference=reference,
                registry=self.registry,
            )
        return body

    # -- helpers ------------------------------------------------------------------------------

    def _manifest_request(
        self, method: str, reference: str, repository: str, identifier: str, deadline: Deadline
    ) -> requests.Response:
        """A manifest request with the full Accept list (partial lists get wrong answers)."""
        return self.transport.request(
            method,
            repository,
            f"/v2/{repository}/manifests/{identifier}",
            headers={"Accept": MANIFEST_ACCEPT},
            deadline=deadline,
            reference=reference,
        )

    def _quote(self, text: str, limit: int) -> str:
        """Text the registry sent, quoted for an error message: without any credential we hold
        (redacted before anything else, so no fragment of one survives), escaped, short."""
        return quoted(self.transport.redact(text), limit)

    def _plain(self, text: str, limit: int) -> str:
        """Like `_quote`, unquoted: control characters escaped, so it stays one line."""
        return printable(self.transport.redact(text), limit)

    def _checked_digest(self, value: str, reference: str) -> str:
        # Raised outside the except block: the inner error quotes the raw header, and must not
        # ride along as this one's __context__.
        with contextlib.suppress(InvalidReferenceError):
            return validate_digest(value.strip())
        raise RegistryError(
            f"registry {self.registry} sent a malformed Docker-Content-Digest "
            f"{self._quote(value, 80)} for {reference}; expected 'sha256:' and 64 hex "
            "digits",
            reference=reference,
            registry=self.registry,
        )

    def _read_capped(
        self, response: requests.Response, reference: str, what: str, deadline: Deadline
    ) -> bytes:
        cap = self.transport.options.max_manifest_bytes
        declared = _content_length(response)
        if declared is not None and declared > cap:
            raise self._too_large(reference, what, declared, cap)
        try:
            body = read_capped(response, cap, deadline)
        except BodyTooLargeError as exc:
            raise self._too_large(reference, what, exc.size, cap) from None
        except (requests.RequestException, HTTPError, OSError) as exc:
            if deadline.expired():  # the deadline cut the connection
                raise self._too_slow(reference, what, deadline) from None
            raise RegistryError(
                f"registry {self.registry} broke off the {what} for {reference}: "
                f"{type(exc).__name__}",
                reference=reference,
                registry=self.registry,
            ) from None
        if deadline.expired():  # cut at a chunk boundary: what we have may be partial
            raise self._too_slow(reference, what, deadline)
        if declared is not None and len(body) != declared:
            raise RegistryError(
                f"registry {self.registry} sent a truncated {what} for {reference} "
                f"({len(body)} of {declared} bytes)",
                reference=reference,
                registry=self.registry,
            )
        return body

    def _repository_tags(self, reference: str, repository: str) -> list[str] | None:
        """The repository's tags (first page, possibly none), or None when it does not exist.

        Many registries say MANIFEST_UNKNOWN for a missing repository too; the tags list
        tells them apart, and names the tags a mistyped one was probably meant to be. Asked
        only on this error path, never when resolving succeeds; one request, its body capped.
        """
        with Deadline(self.transport.options.connect_timeout * 2) as deadline:
            try:
                response = self.transport.request(
                    "GET",
                    repository,
                    f"/v2/{repository}/tags/list?n={_TAGS_LISTED}",
                    headers={},
                    deadline=deadline,
                    reference=reference,
                )
            except DigestError:
                return []
            with response:
                if response.status_code == 404:
                    code, _ = error_body(response, deadline)
                    return None if code == "NAME_UNKNOWN" else []
                if response.status_code != 200:
                    return []
                return _listed_tags(response, deadline)

    def _too_slow(self, reference: str, what: str, deadline: Deadline) -> RegistryError:
        return RegistryError(
            f"registry {self.registry} sent the {what} for {reference} too slowly: "
            f"{deadline.bound} ran out; raise it (--timeout, IMAGE_DIGEST_TIMEOUT) if the "
            "registry is just slow",
            reference=reference,
            registry=self.registry,
        )

    def _media_type(self, response: requests.Response, reference: str) -> str | None:
        raw = response.headers.get("Content-Type")
        if not raw:
            return None
        media_type = raw.split(";", 1)[0].strip().lower()
        if media_type in ALL_MANIFEST_TYPES or media_type.endswith("+json"):
            return media_type
        if media_type == "application/json":
            return None
        raise RegistryError(
            f"registry {self.registry} answered {reference} with Content-Type "
            # The header as sent: redaction must see it before any case change.
            f"{self._quote(raw.split(';', 1)[0].strip(), 80)}, which is not a manifest "
            "media type (is this really a registry, or a login page?)",
            reference=reference,
            registry=self.registry,
        )

    def _too_large(self, reference: str, what: str, size: int, cap: int) -> RegistryError:
        return RegistryError(
            f"registry {self.registry} sent a {what} for {reference} of at least {size} bytes, "
            f"over the {cap}-byte limit (max_manifest_bytes)",
            reference=reference,
            registry=self.registry,
        )

    def _status_error(
        self, response: requests.Response, reference: str, repository: str, identifier: str
    ) -> DigestError:
        status = response.status_code
        code, message = error_body(response)
        if status == 403:
            return self.transport.denied(403, repository, reference, code, message)
        if code is not None:
            code, message = self._plain(code, 64), self._plain(message, 200)
        detail = f" ({code}: {message})" if code else ""
        where = f"registry {self.registry}"
        if status == 404 or code in ("NAME_UNKNOWN", "MANIFEST_UNKNOWN"):
            tags = None if code == "NAME_UNKNOWN" else self._repository_tags(reference, repository)
            if tags is None:
                return RepositoryNotFoundError(
                    f"repository {repository} not found on {where} while resolving "
                    f"{reference}{detail}",
                    reference=reference,
                    registry=self.registry,
                )
            return TagNotFoundError(
                f"{identifier!s} not found in repository {repository} on {where} while "
                f"resolving {reference}{detail}{_did_you_mean(identifier, tags)}",
                reference=reference,
                registry=self.registry,
            )
        return RegistryError(
            f"{where} answered HTTP {status} for {reference}{detail}",
            reference=reference,
            registry=self.registry,
            status=status,
            code=code,
        )


#: Tags asked for on a missing-tag error: enough for "did you mean", one capped page.
_TAGS_LISTED = 1000
_MAX_TAGS_BODY = 256 * 1024


def _listed_tags(response: requests.Response, deadline: Deadline) -> list[str]:
    """The `tags` of a tags/list answer; [] for anything else (it only feeds a hint)."""
    try:
        value = json.loads(read_capped(response, _MAX_TAGS_BODY, deadline))
    except (BodyTooLargeError, TimeoutError, ValueError, requests.RequestException, OSError):
        return []
    tags = value.get("tags") if isinstance(value, dict) else None
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def _did_you_mean(identifier: str, tags: list[str]) -> str:
    """`; did you mean 'v1.2.3'?` for a mistyped tag, from the repository's own tags."""
    if identifier.startswith("sha256:"):
        return ""
    close = difflib.get_close_matches(identifier, tags, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(quoted(tag, 80) for tag in close)}?" if close else ""


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def _looks_like_manifest(body: bytes) -> bool:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and ("schemaVersion" in value or "mediaType" in value)


def _body_media_type(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    media_type = value.get("mediaType") if isinstance(value, dict) else None
    return media_type if isinstance(media_type, str) else None
