"""Push in-memory images to a registry through the plain registry HTTP API.

Deliberately independent of the library under test: fixtures must not depend on the code they
are used to check. Handles anonymous, Basic and Bearer-token registries by answering the 401
``WWW-Authenticate`` challenge once and reusing the resulting ``Authorization`` header.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from .images import Image, Index

TIMEOUT = 10.0
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


class PushError(AssertionError):
    """The registry refused an upload; the message carries its status and body."""


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """Split ``Bearer realm="...",service="..."`` into ``("bearer", {"realm": ..., ...})``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        match.group(1).lower(): match.group(2) if match.group(2) is not None else match.group(3)
        for match in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), params


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP Basic credentials."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


class RegistryClient:
    """HTTP to one repository that answers a 401 challenge once and keeps the header.

    Bearer tokens are requested with scope ``repository:<repo>:pull,push``.
    """

    def __init__(
        self,
        base_url: str,
        repo: str,
        session: requests.Session,
        auth: tuple[str, str] | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.repo = repo
        self.session = session
        self.auth = auth
        self.authorization: str | None = None

    def url(self, path: str) -> str:
        return f"{self.base_url}/v2/{self.repo}/{path}"

    def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, data: bytes = b""
    ) -> requests.Response:
        response = self._send(method, url, headers, data)
        if response.status_code == 401 and self._answer_challenge(response):
            response = self._send(method, url, headers, data)
        return response

    def _send(
        self, method: str, url: str, headers: dict[str, str] | None, data: bytes
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if self.authorization:
            all_headers["Authorization"] = self.authorization
        return self.session.request(
            method, url, headers=all_headers, data=data, timeout=TIMEOUT, allow_redirects=False
        )

    def _answer_challenge(self, response: requests.Response) -> bool:
        """Earn an Authorization header from a 401; False when there is nothing to try."""
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            if self.auth is None:
                return False
            self.authorization = basic_authorization(*self.auth)
            return True
        if scheme == "bearer" and "realm" in params:
            self.authorization = "Bearer " + self._fetch_token(params)
            return True
        return False

    def _fetch_token(self, params: dict[str, str]) -> str:
        query = {"scope": f"repository:{self.repo}:pull,push"}
        if "service" in params:
            query["service"] = params["service"]
        response = self.session.get(params["realm"], params=query, auth=self.auth, timeout=TIMEOUT)
        _check(response, f"token request to {params['realm']}")
        body = response.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise PushError(f"token response from {params['realm']} has no token: {body}")
        return str(token)


def _check(response: requests.Response, what: str, expected: tuple[int, ...] = (200,)) -> None:
    if response.status_code not in expected:
        raise PushError(
            f"{what}: HTTP {response.status_code} (expected {expected}): {response.text[:500]}"
        )


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def push_blob(client: RegistryClient, digest: str, data: bytes) -> None:
    """Monolithic upload (POST then PUT ?digest=), skipped when the blob already exists."""
    blob_url = client.url(f"blobs/{digest}")
    if client.request("HEAD", blob_url).status_code == 200:
        return
    started = client.request("POST", client.url("blobs/uploads/"))
    _check(started, f"starting upload of {digest}", (202,))
    location = urljoin(blob_url, started.headers["Location"])
    finished = client.request(
        "PUT",
        _with_query(location, digest=digest),
        headers={"Content-Type": "application/octet-stream"},
        data=data,
    )
    _check(finished, f"uploading blob {digest}", (201,))
    stored = finished.headers.get("Docker-Content-Digest")
    if stored is not None and stored != digest:
        raise PushError(f"registry stored blob {digest} as {stored}")


def push_manifest(client: RegistryClient, reference: str, manifest: bytes, media_type: str) -> str:
    """PUT ``manifest`` under a tag or digest; returns the registry's Docker-Content-Digest."""
    response = client.request(
        "PUT",
        client.url(f"manifests/{reference}"),
        headers={"Content-Type": media_type},
        data=manifest,
    )
    _check(response, f"putting manifest {client.repo}:{reference}", (201,))
    return response.headers.get("Docker-Content-Digest", "")


def _push_image(client: RegistryClient, image: Image, reference: str) -> str:
    for digest, data in image.blobs.items():
        push_blob(client, digest, data)
    return push_manifest(client, reference, image.manifest, image.media_type)


def push(
    base_url: str,
    repo: str,
    tag: str,
    artifact: Image | Index,
    *,
    session: requests.Session | None = None,
    auth: tuple[str, str] | None = None,
) -> str:
    """Upload ``artifact`` to ``base_url`` as ``repo:tag``; returns its digest.

    For an index the children go first, by digest, since the registry checks that they exist.
    Raises :class:`PushError` if the registry's Docker-Content-Digest differs from ours.
    """
    client = RegistryClient(base_url, repo, session or requests.Session(), auth)
    if isinstance(artifact, Index):
        for child in artifact.children:
            child_digest = _push_image(client, child, child.digest)
            if child_digest != child.digest:
                raise PushError(f"registry stored child {child.digest} as {child_digest!r}")
        stored = push_manifest(client, tag, artifact.manifest, artifact.media_type)
    else:
        stored = _push_image(client, artifact, tag)
    if stored != artifact.digest:
        raise PushError(
            f"registry reports digest {stored!r} for {repo}:{tag}, expected {artifact.digest}"
        )
    return stored
