"""What a batch costs, counted where the requests land: a proxy in front of a real token-auth
docker-registry (pings, HEADs, GETs, statuses, connections) and the token server's own log.

Issue 5's rule: one HEAD per distinct reference, at most one ping and one token request per
registry (one token per repository where the token server refuses multi-scope tokens),
nothing for references that already carry a digest. No timing assertions here; the times
are in BENCHMARKS.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from benchmarks.proxy import LatencyProxy, ProxyStats
from image_digest import (
    BatchResolutionError,
    InvalidReferenceError,
    RepositoryNotFoundError,
    Resolver,
    TagNotFoundError,
)
from tests.support.images import Image
from tests.support.registry import RegistryServer, require_tools
from tests.support.token_server import TokenRequest, TokenServer

PULL = "repository:{}:pull"


@pytest.fixture(autouse=True)
def _no_user_logins(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))


@pytest.fixture(scope="module")
def proxy(token_registry: RegistryServer) -> Iterator[LatencyProxy]:
    """Counts every request that reaches the token registry (no delay)."""
    with LatencyProxy(token_registry.host, delay=0) as counting:
        yield counting


class Meter:
    """`start()` after setting up (pushes ask for tokens too); `cost()` for what came since."""

    def __init__(self, proxy: LatencyProxy, tokens: TokenServer) -> None:
        self.proxy = proxy
        self.tokens = tokens
        self.start()

    def start(self) -> None:
        self.proxy.reset()
        self._tokens_before = len(self.tokens.token_requests())

    def cost(self) -> Cost:
        return Cost(self.proxy.stats(), self.tokens.token_requests()[self._tokens_before :])


@pytest.fixture
def meter(proxy: LatencyProxy, token_registry: RegistryServer) -> Meter:
    assert token_registry.token_server is not None
    return Meter(proxy, token_registry.token_server)


class Cost:
    """Requests one test caused at the registry (via the proxy) and at the token server."""

    def __init__(self, registry: ProxyStats, token_requests: list[TokenRequest]) -> None:
        self.registry = registry
        self.kinds = registry.kinds()
        self.token_scopes = [scopes_of(r) for r in token_requests]

    @property
    def statuses(self) -> Counter[int]:
        return Counter(r.status for r in self.registry.requests)


def scopes_of(request: TokenRequest) -> list[str]:
    return sorted(scope for value in request.query.get("scope", []) for scope in value.split())


def push_repos(
    registry: RegistryServer,
    make_image: Callable[..., Image],
    repos: list[str],
    tags: tuple[str, ...],
    host: str,
) -> dict[str, str]:
    """Push a distinct image to every repo:tag; returns {reference via `host`: digest}."""
    return {
        f"{host}/{repo}:{tag}": registry.push(repo, tag, make_image())
        for repo in repos
        for tag in tags
    }


def in_flight_peak(stats: ProxyStats) -> int:
    """Most requests the registry had in hand at one moment."""
    events = sorted(
        [(r.arrived, 1) for r in stats.requests] + [(r.answered, -1) for r in stats.requests]
    )
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def test_one_head_per_distinct_reference_one_ping_one_token(
    token_registry, proxy, meter, unique_repo, make_image
):
    repos = [f"{unique_repo}/r{i}" for i in range(4)]
    pushed = push_repos(token_registry, make_image, repos, ("a", "b", "c"), proxy.host)
    latest = token_registry.push(repos[0], "latest", make_image())
    first, second = list(pushed)[:2]
    pinned = f"{proxy.host}/{repos[1]}@{pushed[f'{proxy.host}/{repos[1]}:a']}"
    tag_and_digest = f"{proxy.host}/{repos[2]}:b@{pushed[f'{proxy.host}/{repos[2]}:b']}"
    refs = [
        *pushed,
        first,  # the same string again
        second,
        f"{proxy.host}/{repos[0]}",  # ...:latest, spelled two ways
        f"{proxy.host}/{repos[0]}:latest",
        pinned,  # digests: no request at all
        tag_and_digest,
    ]
    meter.start()

    with Resolver() as resolver:
        results = resolver.resolve_many(refs)

    cost = meter.cost()
    assert set(results) == set(refs)
    for ref, digest in pushed.items():
        assert results[ref].digest == digest
    assert results[f"{proxy.host}/{repos[0]}"].digest == latest
    assert results[f"{proxy.host}/{repos[0]}:latest"].digest == latest
    assert results[pinned].source == results[tag_and_digest].source == "reference"
    distinct_tags = len(pushed) + 1
    assert cost.kinds == Counter({"HEAD manifest": distinct_tags, "ping": 1})
    assert cost.statuses == Counter({200: distinct_tags, 401: 1})  # the 401 is the ping
    assert cost.token_scopes == [sorted(PULL.format(repo) for repo in repos)]


def test_references_with_digests_cost_nothing(
    token_registry, proxy, meter, unique_repo, make_image
):
    digest = token_registry.push(unique_repo, "v1", make_image())
    refs = [f"{proxy.host}/{unique_repo}@{digest}", f"{proxy.host}/{unique_repo}:v1@{digest}"]
    meter.start()

    with Resolver() as resolver:
        results = resolver.resolve_many(refs)

    cost = meter.cost()
    assert {r.digest for r in results.values()} == {digest}
    assert cost.kinds == Counter()
    assert cost.token_scopes == []


def test_a_second_batch_pays_only_its_new_heads(
    token_registry, proxy, meter, unique_repo, make_image
):
    repos = [f"{unique_repo}/r{i}" for i in range(3)]
    first = push_repos(token_registry, make_image, repos, ("a", "b"), proxy.host)
    later = push_repos(token_registry, make_image, repos, ("c",), proxy.host)
    meter.start()

    with Resolver() as resolver:
        resolver.resolve_many(first)
        after_first = meter.cost()
        results = resolver.resolve_many([*first, *later])

    cost = meter.cost()
    assert {ref: results[ref].digest for ref in later} == later
    assert after_first.kinds == Counter({"HEAD manifest": len(first), "ping": 1})
    # Cached pins cost nothing; the new tags cost one HEAD each; ping and token are reused.
    assert cost.kinds == Counter({"HEAD manifest": len(first) + len(later), "ping": 1})
    assert len(cost.token_scopes) == 1


def test_one_worker_keeps_one_connection(token_registry, proxy, meter, unique_repo, make_image):
    repos = [f"{unique_repo}/r{i}" for i in range(2)]
    pushed = push_repos(token_registry, make_image, repos, ("a", "b", "c"), proxy.host)
    meter.start()

    with Resolver(max_workers=1) as resolver:
        results = resolver.resolve_many(pushed)

    cost = meter.cost()
    assert {ref: r.digest for ref, r in results.items()} == pushed
    assert cost.kinds == Counter({"HEAD manifest": len(pushed), "ping": 1})
    assert cost.registry.connections == 1  # ping and every HEAD on one kept-alive connection


def test_lookups_run_concurrently_within_the_pool(token_registry, unique_repo, make_image):
    """A delaying proxy keeps each HEAD in flight long enough to see the overlap."""
    with LatencyProxy(token_registry.host, delay=0.1) as slow:
        pushed = push_repos(token_registry, make_image, [unique_repo], ("a", "b", "c"), slow.host)
        pushed |= push_repos(token_registry, make_image, [unique_repo], ("d", "e", "f"), slow.host)
        with Resolver(max_workers=3) as resolver:
            results = resolver.resolve_many(pushed)
        heads = ProxyStats([r for r in slow.stats().requests if r.method == "HEAD"])

    assert {ref: r.digest for ref, r in results.items()} == pushed
    assert len(heads.requests) == 6
    assert 2 <= in_flight_peak(heads) <= 3


def test_one_failure_does_not_stop_the_others(
    token_registry, proxy, meter, unique_repo, make_image
):
    repos = [f"{unique_repo}/r{i}" for i in range(2)]
    pushed = push_repos(token_registry, make_image, repos, ("a", "b"), proxy.host)
    missing_tag = f"{proxy.host}/{repos[0]}:no-such-tag"
    missing_repo = f"{proxy.host}/{unique_repo}/never-pushed:v1"
    malformed = f"{proxy.host}/{repos[0]}:bad tag"
    refs = [missing_tag, *pushed, missing_repo, malformed]
    meter.start()

    with Resolver() as resolver, pytest.raises(BatchResolutionError) as caught:
        resolver.resolve_many(refs)

    error = caught.value
    assert {ref: r.digest for ref, r in error.results.items()} == pushed
    assert set(error.errors) == {missing_tag, missing_repo, malformed}
    assert isinstance(error.errors[missing_tag], TagNotFoundError)
    assert isinstance(error.errors[missing_repo], RepositoryNotFoundError)
    assert isinstance(error.errors[malformed], InvalidReferenceError)
    for ref in (missing_tag, missing_repo, malformed):
        assert ref in str(error)
    heads = [r for r in meter.cost().registry.requests if r.method == "HEAD"]
    assert sum(r.status == 200 for r in heads) == len(pushed)


def test_resolve_each_returns_errors_beside_results(token_registry, proxy, unique_repo, make_image):
    pushed = push_repos(token_registry, make_image, [unique_repo], ("a",), proxy.host)
    missing = f"{proxy.host}/{unique_repo}:gone"

    with Resolver() as resolver:
        outcome = resolver.resolve_each([*pushed, missing])

    assert list(outcome) == [*pushed, missing]
    assert outcome[next(iter(pushed))].digest == next(iter(pushed.values()))
    assert isinstance(outcome[missing], TagNotFoundError)


# -- a token server that grants one repository per token ----------------------------------------


@pytest.fixture(scope="module")
def single_scope() -> Iterator[tuple[RegistryServer, TokenServer, LatencyProxy]]:
    """A token registry whose token server ignores all but the first repository scope."""
    require_tools()
    with (
        TokenServer(username="alice", password="s3cret", multi_scope=False) as tokens,
        RegistryServer("token", username="alice", password="s3cret", token_server=tokens) as reg,
        LatencyProxy(reg.host, delay=0) as counting,
    ):
        yield reg, tokens, counting


def test_without_multi_scope_tokens_one_token_per_repository_and_no_failed_head(
    single_scope, unique_repo, make_image
):
    registry, tokens, counting = single_scope
    repos = [f"{unique_repo}/r{i}" for i in range(3)]
    pushed = push_repos(registry, make_image, repos, ("a", "b", "c"), counting.host)
    counting.reset()
    tokens.reset()

    with Resolver() as resolver:
        results = resolver.resolve_many(pushed)

    assert {ref: r.digest for ref, r in results.items()} == pushed
    stats = counting.stats()
    assert stats.kinds() == Counter({"HEAD manifest": len(pushed), "ping": 1})
    assert [r.status for r in stats.requests if r.method == "HEAD"] == [200] * len(pushed)
    asked = [scopes_of(r) for r in tokens.token_requests()]
    # One multi-scope try (granted for one repository only), then one per other repository.
    assert len(asked) == len(repos)
    assert asked[0] == sorted(PULL.format(repo) for repo in repos)
    assert sorted(scope for scopes in asked[1:] for scope in scopes) == sorted(
        set(asked[0]) - {PULL.format(repos[0])}
    )


def test_environment_proxies_apply_to_every_request_of_a_batch(
    token_registry, proxy, meter, unique_repo, make_image, monkeypatch
):
    """The transport reads the proxy variables once per host; they must still govern every
    request. The counting proxy doubles as a forward proxy (Go's server takes absolute-form
    targets); the registry is named `localhost`, so NO_PROXY=127.0.0.1 exempts only the token
    server."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    pushed = push_repos(token_registry, make_image, [unique_repo], ("a", "b", "c"), "direct")
    local = f"localhost:{token_registry.port}"
    direct = {ref.replace("direct", local, 1): digest for ref, digest in pushed.items()}
    monkeypatch.setenv("HTTP_PROXY", f"http://{proxy.host}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    meter.start()

    with Resolver() as resolver:
        results = resolver.resolve_many(direct)

    assert {ref: r.digest for ref, r in results.items()} == direct
    assert meter.cost().kinds == Counter({"HEAD manifest": len(direct), "ping": 1})
