"""Ways to turn tagged references into digests, each a function `refs -> {ref: digest}`.

Every contender starts cold (no cached ping, token or connection), so one call is one
honest "resolve these for a deployment" run. The harness checks every digest it returns.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from image_digest import Resolver
from image_digest.names.mediatypes import MANIFEST_ACCEPT
from image_digest.resolver import DEFAULT_MAX_WORKERS

Resolve = Callable[[list[str]], dict[str, str]]


@dataclass(frozen=True)
class Contender:
    """A named way to resolve references.

    `sampled` contenders pay the same cost for every reference, so at large N the harness may
    run them on a sample and extrapolate per reference (and says so in the table); `slow`
    ones run fewer rounds.
    """

    name: str
    resolve: Resolve
    sampled: bool = False
    slow: bool = False
    note: str = ""


def ours(max_workers: int = DEFAULT_MAX_WORKERS) -> Resolve:
    """`Resolver.resolve_many` with a fresh Resolver (cold: ping, token, connections)."""

    def run(refs: list[str]) -> dict[str, str]:
        with Resolver(max_workers=max_workers) as resolver:
            results = resolver.resolve_many(refs)
        return {ref: image.digest for ref, image in results.items()}

    return run


def skopeo(auth_dir: Path) -> Resolve:
    """`skopeo inspect --raw` as one process per reference, like a shell loop would do.

    Anonymous (the token server grants anonymous pull); `auth_dir` holds an empty auth file
    so the user's own logins are neither read nor used.
    """
    auth_file = auth_dir / "auth.json"
    if not auth_file.exists():
        auth_file.write_text('{"auths": {}}')
    env = {**os.environ, "REGISTRY_AUTH_FILE": str(auth_file), "DOCKER_CONFIG": str(auth_dir)}

    def run(refs: list[str]) -> dict[str, str]:
        digests = {}
        for ref in refs:
            result = subprocess.run(
                ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
                capture_output=True,
                env=env,
                timeout=60,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"skopeo failed for {ref}: {result.stderr.decode()[:500]}")
            digests[ref] = "sha256:" + hashlib.sha256(result.stdout).hexdigest()
        return digests

    return run


def oras_available() -> str | None:
    """None if the oras Python SDK can be used, else why not."""
    if importlib.util.find_spec("oras") is None:
        return "the oras Python SDK is not installed (pip install oras)"
    return None


def oras_sdk() -> Resolve:
    """The oras Python SDK: one `oras.provider.Registry` per repository, HEAD per reference.

    oras-py has no call that returns a manifest digest (`get_manifest` returns the parsed
    JSON, so the exact bytes to hash are gone), so this uses its public request wrapper
    `Registry.do_request(url, "HEAD")`, which answers the token challenge itself. One client
    per repository, because a client keeps a single token and, on the 401 a second
    repository answers with, retries with that same token and gives up.
    """
    import oras.container  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import oras.provider  # type: ignore[import-untyped,import-not-found,unused-ignore]

    def run(refs: list[str]) -> dict[str, str]:
        clients: dict[str, oras.provider.Registry] = {}
        digests = {}
        for ref in refs:
            container = oras.container.Container(ref)
            client = clients.get(container.api_prefix)
            if client is None:
                client = oras.provider.Registry(hostname=container.registry, insecure=True)
                clients[container.api_prefix] = client
            url = f"{client.prefix}://{container.manifest_url()}"
            response = client.do_request(url, "HEAD", headers={"Accept": MANIFEST_ACCEPT})
            digest = response.headers.get("Docker-Content-Digest")
            if response.status_code != 200 or not digest:
                raise RuntimeError(f"oras HEAD {ref} answered HTTP {response.status_code}")
            digests[ref] = digest
        for client in clients.values():
            client.session.close()
        return digests

    return run


def bare_http(pool: int = DEFAULT_MAX_WORKERS) -> Resolve:
    """The least a Python client can do: raw `http.client`, no library, same pool size.

    It knows the protocol in advance (one ping, one multi-scope anonymous token, then HEADs
    on `pool` kept-alive connections), with no parsing, validation, retries or error
    handling. Its time is what this machine's registry, proxy and interpreter need anyway,
    a measured floor next to the computed one.
    """

    def run(refs: list[str]) -> dict[str, str]:
        host = refs[0].split("/", 1)[0]
        ping, _ = _bare_request(host, "GET", "/v2/")
        challenge = ping.getheader("WWW-Authenticate") or ""
        params = dict(
            part.split("=", 1) for part in challenge.split(" ", 1)[1].replace('"', "").split(",")
        )
        repos = sorted({ref.split("/", 1)[1].rsplit(":", 1)[0] for ref in refs})
        query = urlencode(
            [("service", params["service"])] + [("scope", f"repository:{r}:pull") for r in repos]
        )
        realm_host = params["realm"].split("/")[2]
        token_path = "/" + params["realm"].split("/", 3)[3]
        _, body = _bare_request(realm_host, "GET", f"{token_path}?{query}")
        headers = {"Authorization": f"Bearer {json.loads(body)['token']}"}
        headers["Accept"] = MANIFEST_ACCEPT
        chunks = [refs[i::pool] for i in range(min(pool, len(refs)))]

        def worker(chunk: list[str]) -> dict[str, str]:
            connection = http.client.HTTPConnection(host, timeout=30)
            found = {}
            for ref in chunk:
                repo, tag = ref.split("/", 1)[1].rsplit(":", 1)
                connection.request("HEAD", f"/v2/{repo}/manifests/{tag}", headers=headers)
                response = connection.getresponse()
                response.read()
                found[ref] = response.getheader("Docker-Content-Digest") or ""
            connection.close()
            return found

        digests: dict[str, str] = {}
        with ThreadPoolExecutor(len(chunks)) as executor:
            for found in executor.map(worker, chunks):
                digests.update(found)
        return digests

    return run


def _bare_request(host: str, method: str, path: str) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection(host, timeout=30)
    connection.request(method, path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body
