"""The lifetime every short-lived credential shares (`keychain/refreshing.py`), on its own:
an injected clock, real threads, a fetch that counts its calls."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from image_digest.keychain import Basic
from image_digest.keychain.credentials import Credential
from image_digest.keychain.refreshing import RefreshingCredentials

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Source:
    """Hands out `token-1`, `token-2`... valid `lifetime` seconds; fails while `down`."""

    def __init__(self, clock: Clock, lifetime: float | None = HOUR) -> None:
        self.clock, self.lifetime, self.down, self.calls = clock, lifetime, False, 0

    def __call__(self, key: str) -> Credential | None:
        self.calls += 1
        if self.down:
            return None
        expires = self.clock() + self.lifetime if self.lifetime is not None else None
        return Basic(key, f"token-{self.calls}", expires_at=expires)


def _tokens(source: Source, clock: Clock) -> RefreshingCredentials[str]:
    return RefreshingCredentials(source, renew_ahead=300, default_lifetime=600, clock=clock)


def _password(credential: Credential | None) -> str | None:
    return credential.password if isinstance(credential, Basic) else None


def test_fetched_once_per_lifetime_and_renewed_ahead_of_its_end():
    clock = Clock()
    source = Source(clock)
    tokens = _tokens(source, clock)
    assert _password(tokens.get("r")) == "token-1"
    clock.now += HOUR - 301
    assert _password(tokens.get("r")) == "token-1"
    clock.now += 1  # 5 minutes before the end
    assert _password(tokens.get("r")) == "token-2"
    assert source.calls == 2


def test_a_short_lifetime_is_renewed_halfway():
    clock = Clock()
    source = Source(clock, lifetime=120)
    tokens = _tokens(source, clock)
    tokens.get("r")
    clock.now += 59
    assert source.calls == 1 and _password(tokens.get("r")) == "token-1"
    clock.now += 1
    assert _password(tokens.get("r")) == "token-2"


def test_an_answer_without_expiry_gets_the_default_lifetime():
    clock = Clock()
    source = Source(clock, lifetime=None)
    tokens = _tokens(source, clock)
    first = tokens.get("r")
    assert first is not None and first.expires_at == clock.now + 600
    clock.now += 299
    assert tokens.get("r") is first
    clock.now += 1
    assert _password(tokens.get("r")) == "token-2"


def test_a_failed_renewal_keeps_the_valid_credential_and_backs_off():
    clock = Clock()
    source = Source(clock)
    tokens = _tokens(source, clock)
    tokens.get("r")
    source.down = True
    clock.now += HOUR - 300  # renewal due, and it fails: the token in hand still works
    assert _password(tokens.get("r")) == "token-1" and source.calls == 2
    clock.now += 59
    assert _password(tokens.get("r")) == "token-1" and source.calls == 2
    clock.now += 1  # a minute later: tried again, fails again
    assert _password(tokens.get("r")) == "token-1" and source.calls == 3
    clock.now += 240  # its end: tried again (due since +120 s), fails: anonymous for now
    assert tokens.get("r") is None and source.calls == 4
    source.down = False
    clock.now += 239  # the delay doubled again (60 s, 120 s, 240 s)
    assert tokens.get("r") is None and source.calls == 4
    clock.now += 1  # and the source is back: never anonymous for good
    assert _password(tokens.get("r")) == "token-5"


def test_the_backoff_stops_growing_at_its_cap():
    clock = Clock()
    source = Source(clock)
    source.down = True
    tokens = RefreshingCredentials(
        source, renew_ahead=300, default_lifetime=600, clock=clock, max_retry=200
    )
    for delay in (60, 120, 200, 200):
        tokens.get("r")
        calls = source.calls
        clock.now += delay - 1
        tokens.get("r")
        assert source.calls == calls
        clock.now += 1
    tokens.get("r")
    assert source.calls == 5


def test_an_already_expired_answer_counts_as_a_failure():
    clock = Clock()
    source = Source(clock, lifetime=-1)
    tokens = _tokens(source, clock)
    assert tokens.get("r") is None
    assert tokens.get("r") is None and source.calls == 1


def test_keys_have_their_own_lifetimes():
    clock = Clock()
    source = Source(clock)
    tokens = _tokens(source, clock)
    assert _password(tokens.get("eu")) == "token-1"
    assert _password(tokens.get("us")) == "token-2"
    assert _password(tokens.get("eu")) == "token-1"
    assert tokens.holds("eu") and not tokens.holds("ap")
    assert sorted(tokens.asked()) == ["eu", "us"]


def test_concurrent_callers_share_one_renewal():
    """One caller fetches; the others wait for it (or arrive after it) and fetch nothing."""
    clock = Clock()
    entered, release = threading.Event(), threading.Event()
    source = Source(clock)

    def slow(key: str) -> Credential | None:
        entered.set()
        assert release.wait(timeout=60)
        return source(key)

    tokens = RefreshingCredentials(slow, renew_ahead=300, default_lifetime=600, clock=clock)
    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(tokens.get, "r")
        assert entered.wait(timeout=60)
        others = [pool.submit(tokens.get, "r") for _ in range(7)]
        release.set()
        answers = [future.result() for future in (first, *others)]
    assert source.calls == 1
    assert all(answer is answers[0] for answer in answers)


def test_callers_keep_the_valid_credential_while_another_renews():
    clock = Clock()
    entered, release = threading.Event(), threading.Event()
    source = Source(clock)

    def slow(key: str) -> Credential | None:
        if source.calls:
            entered.set()
            assert release.wait(timeout=60)
        return source(key)

    tokens = RefreshingCredentials(slow, renew_ahead=300, default_lifetime=600, clock=clock)
    tokens.get("r")
    clock.now += HOUR - 300
    with ThreadPoolExecutor(max_workers=2) as pool:
        renewing = pool.submit(tokens.get, "r")
        assert entered.wait(timeout=60)
        assert _password(tokens.get("r")) == "token-1"  # no wait: still valid
        release.set()
        assert _password(renewing.result()) == "token-2"
