"""The benchmark's world: a token-auth docker-registry and its token server, each behind a
latency proxy, holding `n_refs` distinct tagged images spread over `repositories` repos.

The registry's token realm names the *proxied* token server, so token traffic is delayed and
counted like registry traffic. Images are pushed straight to the registry (only the push's
token requests pass the proxy, and the counters are reset afterwards).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests

from benchmarks.proxy import DEFAULT_DELAY, LatencyProxy, Proxy, ProxyProcess, ProxyStats
from tests.support.images import OCI_MANIFEST, build_image, canonical_json, sha256_digest
from tests.support.push import RegistryClient, push_blob, push_manifest
from tests.support.registry import RegistryServer
from tests.support.token_server import TokenServer

USERNAME = "bench"
PASSWORD = "bench-secret"


class _ProxiedRealmRegistry(RegistryServer):
    """A token-mode registry whose challenge sends clients to `realm` (the token proxy)."""

    def __init__(self, realm: str, token_server: TokenServer):
        super().__init__("token", username=USERNAME, password=PASSWORD, token_server=token_server)
        self.realm = realm

    def config(self) -> dict[str, Any]:
        config = super().config()
        config["auth"]["token"]["realm"] = self.realm
        return config


@dataclass
class Environment:
    """Everything a contender needs; `references` name the registry *through the proxy*."""

    registry: RegistryServer
    tokens: TokenServer
    registry_proxy: Proxy
    token_proxy: Proxy
    delay: float
    repositories: int
    references: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)

    def stats(self) -> ProxyStats:
        """Requests seen by both proxies since the last `reset`."""
        return self.registry_proxy.stats() + self.token_proxy.stats()

    def reset(self) -> None:
        self.registry_proxy.reset()
        self.token_proxy.reset()

    def set_delay(self, seconds: float) -> None:
        """Change both proxies' delay (0 shows what the machine alone costs)."""
        self.registry_proxy.set_delay(seconds)
        self.token_proxy.set_delay(seconds)
        self.delay = seconds

    def refs(self, n: int) -> list[str]:
        """The first `n` references; they cycle through the repositories."""
        if n > len(self.references):
            raise ValueError(f"only {len(self.references)} references were pushed, not {n}")
        return self.references[:n]


def reference_name(k: int, repositories: int) -> tuple[str, str]:
    """(repository, tag) of the k-th reference: repositories round-robin, tags v0, v1, ..."""
    return f"bench/repo-{k % repositories:02d}", f"v{k // repositories}"


def tagged_manifest(base_manifest: bytes, tag: str) -> bytes:
    """The base image's manifest with an annotation, so every tag has its own digest."""
    document = json.loads(base_manifest)
    document["annotations"] = {"org.example.benchmark.tag": tag}
    return canonical_json(document)


@contextmanager
def environment(
    n_refs: int = 100,
    *,
    repositories: int = 20,
    delay: float = DEFAULT_DELAY,
    multi_scope: bool = True,
    proxy_process: bool = True,
) -> Iterator[Environment]:
    """Start token server, registry and both proxies; push `n_refs` images; tear down after.

    `proxy_process=True` runs each proxy in its own process so its CPU work does not compete
    with the benchmarked code for this interpreter's GIL.
    """

    def start_proxy(upstream: str) -> Proxy:
        if proxy_process:
            return stack.enter_context(ProxyProcess(upstream, delay=delay))
        return stack.enter_context(LatencyProxy(upstream, delay=delay))

    with ExitStack() as stack:
        tokens = stack.enter_context(
            TokenServer(username=USERNAME, password=PASSWORD, multi_scope=multi_scope)
        )
        token_proxy = start_proxy(tokens.url.removeprefix("http://"))
        realm = f"http://{token_proxy.host}/token"
        registry = stack.enter_context(_ProxiedRealmRegistry(realm, tokens))
        registry_proxy = start_proxy(registry.host)
        env = Environment(registry, tokens, registry_proxy, token_proxy, delay, repositories)
        _push_all(env, n_refs)
        env.reset()
        tokens.reset()
        yield env


def _push_all(env: Environment, n_refs: int) -> None:
    by_repo: dict[str, list[tuple[int, str]]] = {}
    for k in range(n_refs):
        repo, tag = reference_name(k, env.repositories)
        by_repo.setdefault(repo, []).append((k, tag))

    def push_repo(repo: str) -> dict[int, tuple[str, str]]:
        client = RegistryClient(env.registry.url, repo, requests.Session(), (USERNAME, PASSWORD))
        base = build_image(f"benchmark image for {repo}")
        for digest, data in base.blobs.items():
            push_blob(client, digest, data)
        pushed = {}
        for k, tag in by_repo[repo]:
            manifest = tagged_manifest(base.manifest, tag)
            stored = push_manifest(client, tag, manifest, OCI_MANIFEST)
            assert stored == sha256_digest(manifest), (repo, tag, stored)
            pushed[k] = (f"{env.registry_proxy.host}/{repo}:{tag}", stored)
        client.session.close()
        return pushed

    results: dict[int, tuple[str, str]] = {}
    with ThreadPoolExecutor(4) as pool:
        for pushed in pool.map(push_repo, by_repo):
            results.update(pushed)
    for k in range(n_refs):
        ref, digest = results[k]
        env.references.append(ref)
        env.digests[ref] = digest
