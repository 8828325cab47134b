"""Bounded work: a failed `/v2/` ping fails the references waiting on that registry at once,
a batch has one deadline as a whole, and the per-reference bound is 30 s unless
`total_timeout=`, `--timeout` or `IMAGE_DIGEST_TIMEOUT` says otherwise.

Requests are counted at a fault server; no wall time is asserted here (the batch bound's
timings are in benchmarks/, BENCHMARKS.md).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from image_digest import InvalidOptionError, RegistryError, Resolver
from image_digest.transport.options import DEFAULT_TOTAL_TIMEOUT
from tests.audit.cli import run_cli
from tests.support.fault_server import FaultConnection, FaultServer, RawRequest


def dead_ping(request: RawRequest, connection: FaultConnection) -> None:
    """A registry whose every request is reset, the `/v2/` ping first."""
    connection.reset()


def trickling_manifests(request: RawRequest, connection: FaultConnection) -> None:
    """An open registry that answers `/v2/` and then trickles every manifest forever."""
    if request.path == "/v2/":
        connection.respond(200, {"Content-Type": "application/json"}, b"{}")
        return
    connection.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    connection.trickle(itertools.repeat(b"X-Slow: 1\r\n"), interval=0.05)


def test_a_failed_ping_fails_every_waiting_reference_without_asking_again(make_resolver):
    with FaultServer(dead_ping) as server:
        resolver = make_resolver(max_workers=8)
        refs = [f"{server.host}/app{n}:v1" for n in range(20)]
        outcome = resolver.resolve_each(refs)
        pings = [r for r in server.requests if r.path == "/v2/"]

    assert len(pings) == 3  # one ping: the first attempt and its two retries (BOUNDED)
    assert len(server.requests) == len(pings)
    for ref in refs:
        error = outcome[ref]
        assert isinstance(error, RegistryError) and ref in str(error)


def test_a_batch_ends_at_its_own_bound_naming_it(make_resolver):
    with FaultServer(trickling_manifests) as server:
        resolver = make_resolver(total_timeout=30, batch_timeout=0.5, max_workers=2)
        refs = [f"{server.host}/app{n}:v1" for n in range(6)]
        outcome = resolver.resolve_each(refs)

    for ref in refs:
        error = outcome[ref]
        assert isinstance(error, RegistryError), error
        assert "batch's time bound of 0.5 s (batch_timeout)" in str(error)
        assert ref in str(error)


def test_the_default_bound_per_reference_is_thirty_seconds_and_a_batch_twice_that(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("IMAGE_DIGEST_TIMEOUT", raising=False)
    with Resolver(credentials={}) as resolver:
        assert resolver.options.total_timeout == DEFAULT_TOTAL_TIMEOUT == 30
        assert resolver.options.batch_seconds() == 60


def test_the_environment_sets_the_bound_and_an_argument_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IMAGE_DIGEST_TIMEOUT", "7.5")
    with Resolver() as resolver:
        assert resolver.options.total_timeout == 7.5
    with Resolver(total_timeout=3) as resolver:
        assert resolver.options.total_timeout == 3


@pytest.mark.parametrize("value", ["soon", "0", "-5", "inf"])
def test_a_bad_timeout_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("IMAGE_DIGEST_TIMEOUT", value)
    with pytest.raises(InvalidOptionError, match="IMAGE_DIGEST_TIMEOUT"):
        Resolver()


def test_the_cli_timeout_bounds_each_reference(tmp_path: Path) -> None:
    with FaultServer(trickling_manifests) as server:
        ref = f"{server.host}/app:v1"
        done = run_cli("resolve", "--timeout", "0.4", ref)
        by_env = run_cli("resolve", ref, env={"IMAGE_DIGEST_TIMEOUT": "0.3"})

    # Whichever ends first (the reference's bound, or the batch's at twice that) is named.
    assert done.returncode == 1 and ref in done.stderr
    assert any(bound in done.stderr for bound in ("bound of 0.4 s", "bound of 0.8 s"))
    assert by_env.returncode == 1
    assert any(bound in by_env.stderr for bound in ("bound of 0.3 s", "bound of 0.6 s"))


@pytest.mark.parametrize("command", ["resolve", "lock", "check", "audit", "pin-vars"])
def test_every_resolving_command_takes_timeout(command: str) -> None:
    done = run_cli(command, "--help")
    assert "--timeout SECONDS" in done.stdout and "IMAGE_DIGEST_TIMEOUT" in done.stdout


def test_a_bad_cli_timeout_is_a_usage_error() -> None:
    done = run_cli("resolve", "--timeout", "never", "nginx:1.25")
    assert done.returncode == 2
    assert "total_timeout must be a number of seconds" in done.stderr
