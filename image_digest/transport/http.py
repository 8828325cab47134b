"""One `RegistryTransport` per registry host: session, scheme, ping, auth, retries.

The first request to a registry pings `/v2/` once to learn its auth challenge; after that every
request carries Basic credentials or a cached Bearer token for its repository. A 401 on a
request drops that token and tries once more with a fresh one, then fails.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError, MaxRetryError, ProtocolError

from image_digest.errors import AuthenticationError, RegistryError
from image_digest.keychain.chain import Keychain
from image_digest.keychain.credentials import Basic, Credential, IdentityToken
from image_digest.transport.challenge import Challenge, parse_challenge
from image_digest.transport.deadline import Deadline
from image_digest.transport.options import TransportOptions
from image_digest.transport.retry import retry_policy
from image_digest.transport.token import Token, TokenCache, fetch_token, pull_scope

_UNSET: Any = object()
_HOST_POOLS = 4
_DRAIN_LIMIT = 65_536


class RegistryTransport:
    """HTTP access to one registry, safe to share between threads."""

    def __init__(
        self,
        registry: str,
        api_host: str,
        keychain: Keychain,
        options: TransportOptions,
    ):
        self.registry = registry
        self.options = options
        self.scheme = options.scheme_for(api_host)
        self.base_url = f"{self.scheme}://{api_host}"
        self._keychain = keychain
        self._session = _new_session(options)
        self._tokens = TokenCache()
        self._ping_lock = threading.Lock()
        self._fetch_locks: dict[str, threading.Lock] = {}
        self._fetch_locks_lock = threading.Lock()
        self._challenge: Challenge | None = _UNSET
        self._credential: Credential | None = _UNSET
        self._secrets: set[str] = set()
        self.request_count = 0

    # -- public -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        repository: str,
        path: str,
        *,
        headers: Mapping[str, str],
        deadline: Deadline,
        reference: str,
    ) -> requests.Response:
        """Send an authenticated request for `repository`; the caller closes the response."""
        challenge = self._ping(deadline, reference)
        url = f"{self.base_url}{path}"
        for attempt in (1, 2):
            auth_header, token = self._authorization(challenge, repository, deadline)
            all_headers = dict(headers)
            if auth_header:
                all_headers["Authorization"] = auth_header
            response = self._send(method, url, all_headers, deadline, reference)
            if response.status_code != 401:
                return response
            _release(response)
            fresh = parse_challenge(response.headers.get("WWW-Authenticate")) or challenge
            if challenge is None or attempt == 2:
                if challenge is None and fresh is not None:
                    challenge = fresh
                    continue
                raise self._unauthorized(reference, response)
            if token is not None:
                self._tokens.discard(pull_scope(repository), token)
            challenge = fresh
        raise AssertionError("unreachable")  # pragma: no cover

    def prefetch_tokens(self, repositories: Iterable[str], deadline: Deadline) -> None:
        """Fetch one token for many repositories (one round trip where the server allows)."""
        challenge = self._ping(deadline, reference=self.registry)
        if challenge is None or challenge.scheme != "bearer":
            return
        scopes = sorted({pull_scope(r) for r in repositories} - self._cached_scopes(repositories))
        for start in range(0, len(scopes), 100):
            self._fetch_token(challenge, scopes[start : start + 100], deadline)

    def redact(self, text: str) -> str:
        """Remove any credential we hold from text a registry sent back to us."""
        for secret in self._secrets:
            text = text.replace(secret, "[REDACTED]")
        return text

    def close(self) -> None:
        self._session.close()

    # -- auth ---------------------------------------------------------------------------------

    def _ping(self, deadline: Deadline, reference: str) -> Challenge | None:
        if self._challenge is not _UNSET:
            return self._challenge
        with self._ping_lock:
            if self._challenge is _UNSET:
                response = self._send("GET", f"{self.base_url}/v2/", {}, deadline, reference)
                with response:
                    _drain(response)
                    if response.status_code == 401:
                        challenge = parse_challenge(response.headers.get("WWW-Authenticate"))
                        if challenge is None or challenge.scheme not in ("basic", "bearer"):
                            raise AuthenticationError(
                                f"registry {self.registry} requires authentication with an "
                                "unsupported or malformed WWW-Authenticate challenge "
                                f"(while resolving {reference})",
                                reference=reference,
                                registry=self.registry,
                            )
                        self._challenge = challenge
                    else:
                        # 200 means open; some registries answer 404 here yet serve /v2/<repo>.
                        self._challenge = None
        return self._challenge

    def _credentials(self) -> Credential | None:
        if self._credential is _UNSET:
            credential = self._keychain.credentials_for(self.registry)
            if isinstance(credential, Basic):
                raw = f"{credential.username}:{credential.password}".encode()
                self._secrets |= {credential.password, base64.b64encode(raw).decode()}
            elif isinstance(credential, IdentityToken):
                self._secrets.add(credential.token)
            self._secrets.discard("")
            self._credential = credential
        return self._credential

    def _authorization(
        self, challenge: Challenge | None, repository: str, deadline: Deadline
    ) -> tuple[str | None, Token | None]:
        if challenge is None:
            return None, None
        if challenge.scheme == "basic":
            credential = self._credentials()
            if isinstance(credential, Basic):
                raw = f"{credential.username}:{credential.password}".encode()
                return f"Basic {base64.b64encode(raw).decode()}", None
            return None, None
        token = self._token_for(challenge, pull_scope(repository), deadline)
        return f"Bearer {token.value}", token

    def _token_for(self, challenge: Challenge, scope: str, deadline: Deadline) -> Token:
        """The cached token for `scope`, else one fetch shared by every thread that needs it
        (without this, a batch's first wave of lookups would each ask the token server)."""
        token = self._tokens.get(scope)
        if token is not None:
            return token
        with self._fetch_locks_lock:
            lock = self._fetch_locks.setdefault(scope, threading.Lock())
        # Waiting is bounded by our deadline; past it we fetch for ourselves.
        acquired = lock.acquire(timeout=max(0.0, deadline.remaining()))
        try:
            return self._tokens.get(scope) or self._fetch_token(challenge, [scope], deadline)
        finally:
            if acquired:
                lock.release()

    def _fetch_token(self, challenge: Challenge, scopes: list[str], deadline: Deadline) -> Token:
        remaining = max(0.1, deadline.remaining())
        self.request_count += 1
        token, granted = fetch_token(
            self._session,
            challenge,
            scopes,
            self._credentials(),
            registry=self.registry,
            registry_scheme=self.scheme,
            timeout=(self.options.connect_timeout, min(self.options.read_timeout, remaining)),
        )
        self._secrets.add(token.value)
        # A single requested scope is trusted even without an access claim naming it.
        self._tokens.put(granted or (scopes if len(scopes) == 1 else []), token)
        return token

    def _cached_scopes(self, repositories: Iterable[str]) -> set[str]:
        return {pull_scope(r) for r in repositories if self._tokens.get(pull_scope(r))}

    def _unauthorized(self, reference: str, response: requests.Response) -> AuthenticationError:
        credential = self._credentials()
        hint = (
            "the registry rejected the configured credentials"
            if credential is not None
            else "no credentials were found for it (explicit, docker config, Google ADC); "
            "run `docker login` or pass credentials"
        )
        return AuthenticationError(
            f"registry {self.registry} answered HTTP 401 for {reference}: {hint}",
            reference=reference,
            registry=self.registry,
        )

    # -- sending with retries -----------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        deadline: Deadline,
        reference: str,
    ) -> requests.Response:
        retry = retry_policy(self.options)
        attempts = 0
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise self._timed_out(reference, attempts)
            attempts += 1
            response: requests.Response | None = None
            error: Exception | None = None
            self.request_count += 1
            try:
                response = self._session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=(
                        min(self.options.connect_timeout, remaining),
                        min(self.options.read_timeout, remaining),
                    ),
                    # A HEAD has no body: reading it at once returns the connection to the
                    # pool; closing an unread streamed response would drop the connection.
                    stream=method != "HEAD",
                    allow_redirects=True,
                )
            except requests.exceptions.SSLError:
                raise RegistryError(
                    f"TLS verification failed for registry {self.registry} while resolving "
                    f"{reference}: its certificate is not trusted; pass the CA bundle "
                    "(ca_bundle=... / --ca-bundle) or, for a test registry, name it insecure",
                    reference=reference,
                    registry=self.registry,
                ) from None
            except requests.exceptions.TooManyRedirects:
                raise RegistryError(
                    f"registry {self.registry} redirected too many times while resolving "
                    f"{reference} (limit {self.options.max_redirects})",
                    reference=reference,
                    registry=self.registry,
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = exc
            if response is not None and not retry.is_retry(
                method, response.status_code, "Retry-After" in response.headers
            ):
                return response
            try:
                retry = retry.increment(
                    method,
                    url,
                    response=response.raw if response is not None else None,
                    error=ProtocolError(type(error).__name__) if error is not None else None,
                )
            except MaxRetryError:
                if response is not None:
                    return response
                raise self._unreachable(reference, error, attempts) from None
            wait = retry.get_backoff_time()
            if response is not None:
                asked = retry.get_retry_after(response.raw)
                wait = min(asked, self.options.max_retry_after) if asked is not None else wait
                _release(response)
            if wait > deadline.remaining():
                raise self._timed_out(reference, attempts)
            time.sleep(wait)

    def _timed_out(self, reference: str, attempts: int) -> RegistryError:
        return RegistryError(
            f"registry {self.registry} did not give an answer for {reference} within the "
            f"total time bound of {self.options.total_timeout:g} s ({attempts} attempts); "
            "raise total_timeout if the registry is just slow",
            reference=reference,
            registry=self.registry,
        )

    def _unreachable(self, reference: str, error: Exception | None, attempts: int) -> RegistryError:
        kind = type(error).__name__ if error is not None else "no response"
        return RegistryError(
            f"registry {self.registry} is unreachable while resolving {reference}: {kind} "
            f"after {attempts} attempts ({self.base_url})",
            reference=reference,
            registry=self.registry,
        )


def _drain(response: requests.Response) -> None:
    """Read what is left of a small body, so the connection can go back to the pool.

    Only a body whose declared length is small: an unbounded or slow one is not worth
    waiting for, and closing just costs a new connection later.
    """
    length = response.headers.get("Content-Length", "")
    if not length.isdigit() or int(length) > _DRAIN_LIMIT or response.raw is None:
        return
    # On failure the connection is dropped on close instead; nothing else is lost.
    with contextlib.suppress(requests.RequestException, OSError, ValueError, HTTPError):
        response.raw.read(_DRAIN_LIMIT, decode_content=False)


def _release(response: requests.Response) -> None:
    """Drain (keeping the connection) and close a response we will not use."""
    _drain(response)
    response.close()


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """A no-op auth hook: stops requests from applying ~/.netrc over our Authorization header."""
    return request


def _new_session(options: TransportOptions) -> requests.Session:
    session = requests.Session()
    # Several host pools (registry, token realm, a redirect target), so talking to the token
    # server does not evict and close the registry's kept-alive connections.
    adapter = HTTPAdapter(
        pool_connections=_HOST_POOLS, pool_maxsize=options.pool_size, max_retries=0
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = options.user_agent
    session.max_redirects = options.max_redirects
    # Environment proxies and CA settings apply, but ~/.netrc must never replace our auth.
    session.trust_env = True
    session.auth = _keep_headers
    session.verify = options.ca_bundle if options.ca_bundle else True
    return session
