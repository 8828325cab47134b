"""One `RegistryTransport` per registry host: session, scheme, ping, auth, retries.

The first request to a registry pings `/v2/` once to learn its auth challenge; after that every
request carries Basic credentials or a cached Bearer token for its repository. A 401 on a
request drops that token and tries once more with a fresh one, then fails.

Credentials stay with the registry: a challenge from a redirect target is never answered (the
session's redirect rules are in `session.py`), and every credential we hold is scrubbed from
what the registry sends back before it can reach an error. Every request runs under the
resolution's `Deadline`, on the wire too (see `deadline.py`).
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Iterable, Mapping
from time import monotonic
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError, MaxRetryError, NameResolutionError, ProtocolError

from image_digest.errors import (
    AuthenticationError,
    DigestError,
    NotARegistryError,
    RegistryError,
    printable,
)
from image_digest.keychain.chain import Keychain
from image_digest.keychain.credentials import Basic, Credential, ExchangeToken, IdentityToken
from image_digest.transport.challenge import Challenge, parse_challenge
from image_digest.transport.connection import enforcing
from image_digest.transport.deadline import Deadline
from image_digest.transport.denied import access_denied, registry_said
from image_digest.transport.errorbody import error_body
from image_digest.transport.exchange import exchange_token
from image_digest.transport.held import HeldCredential
from image_digest.transport.options import TransportOptions
from image_digest.transport.retry import retry_policy
from image_digest.transport.secrets import Secrets
from image_digest.transport.session import DowngradeRedirect, drain, new_session, origin, release
from image_digest.transport.tls import check_ca_bundle, tls_failure
from image_digest.transport.token import (
    Token,
    TokenCache,
    basic_header,
    fetch_token,
    pull_scope,
    url_host,
)

_UNSET: Any = object()
#: Seconds a failed `/v2/` ping is remembered: the references waiting on it, and those that
#: ask meanwhile, fail at once with its error instead of each trying it again in turn.
PING_FAILURE_MEMORY = 10.0


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
        self._session = new_session(options)
        self._tokens = TokenCache()
        self._ping_lock = threading.Lock()
        self._fetch_locks: dict[str, threading.Lock] = {}
        self._fetch_locks_lock = threading.Lock()
        self._challenge: Challenge | None = _UNSET
        #: How `/v2/` answered when it did not answer as a registry API does (no 200 or 401,
        #: no Docker-Distribution-API-Version header): a hint that this is no registry.
        self._no_api: str | None = None
        self._ping_failure: tuple[float, DigestError] | None = None
        self._exchanged: tuple[ExchangeToken, IdentityToken] | None = None
        self._secrets = Secrets()
        self._held = HeldCredential(registry, keychain, self._secrets)
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
            auth_header, token = self._authorization(challenge, repository, deadline, reference)
            held = self._held.generation
            all_headers = dict(headers)
            if auth_header:
                all_headers["Authorization"] = auth_header
            response = self._send(method, url, all_headers, deadline, reference)
            if response.status_code == 404 and self._no_api and not _speaks_registry(response):
                release(response)
                raise self._not_a_registry(reference)
            if response.status_code != 401:
                return response
            if not self._sameorigin(response.url):
                # A redirect target asking for credentials gets none, and no token either.
                release(response)
                raise self._unauthorized(reference, response)
            fresh = parse_challenge(response.headers.get("WWW-Authenticate")) or challenge
            if challenge is None and fresh is not None and attempt == 1:
                release(response)
                challenge = fresh
                continue
            # Asking again would change nothing when the token's access claim grants nothing,
            # when the registry says the token lacks the scope (RFC 6750 insufficient_scope:
            # the token server decided), or for Basic credentials the keychain, asked again,
            # answers the same.
            if (
                challenge is None
                or attempt == 2
                or (token is not None and token.grants_nothing)
                or (token is not None and fresh is not None and _insufficient_scope(fresh))
                or (challenge.scheme == "basic" and not self._held.renew(held))
            ):
                raise self._denied(
                    method, url, all_headers, response, repository, deadline, reference
                )
            release(response)
            if token is not None:
                self._tokens.discard(pull_scope(repository), token)
            challenge = fresh
        raise AssertionError("unreachable")  # pragma: no cover

    def credential_source(self) -> str:
        """Which credentials this transport sends, in words without any secret."""
        return self._held.source

    def prefetch_tokens(self, repositories: Iterable[str], deadline: Deadline) -> None:
        """Fetch one token for many repositories (one round trip where the server allows)."""
        challenge = self._ping(deadline, reference=self.registry)
        if challenge is None or challenge.scheme != "bearer":
            return
        scopes = sorted({pull_scope(r) for r in repositories} - self._cached_scopes(repositories))
        for start in range(0, len(scopes), 100):
            self._fetch_token(challenge, scopes[start : start + 100], deadline, self.registry)

    def redact(self, text: str) -> str:
        """Remove any credential we hold from text a registry sent back to us."""
        return self._secrets.redact(text)

    def scrub(self, error: DigestError) -> DigestError:
        """`error` and its chained exceptions with every credential we hold removed."""
        return self._secrets.scrub(error)

    def close(self) -> None:
        self._session.close()

    # -- auth ---------------------------------------------------------------------------------

    def _ping(self, deadline: Deadline, reference: str) -> Challenge | None:
        if self._challenge is not _UNSET:
            return self._challenge
        self._raise_recent_ping_failure(reference)
        with self._ping_lock:
            if self._challenge is _UNSET:
                self._raise_recent_ping_failure(reference)
                asked = not deadline.expired()  # out of time before asking says nothing of it
                try:
                    response = self._send("GET", f"{self.base_url}/v2/", {}, deadline, reference)
                except DigestError as exc:
                    if asked:
                        self._ping_failure = (monotonic() + PING_FAILURE_MEMORY, exc)
                    raise
                with response:
                    drain(response)
                    if response.status_code == 401 and not self._sameorigin(response.url):
                        raise self._unauthorized(reference, response)
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
                        # 200 means open; some registries answer 404 here yet serve /v2/<repo>,
                        # so a 404 is only a hint, until a request for a repository is 404 too.
                        self._challenge = None
                        if response.status_code != 200 and not _speaks_registry(response):
                            self._no_api = f"HTTP {response.status_code}"
        return self._challenge

    def _raise_recent_ping_failure(self, reference: str) -> None:
        """Fail at once when this registry's `/v2/` ping failed moments ago."""
        failure = self._ping_failure
        if failure is None or monotonic() >= failure[0]:
            return
        kind = AuthenticationError if isinstance(failure[1], AuthenticationError) else RegistryError
        raise kind(
            f"registry {self.registry} was not asked for {reference}: its /v2/ check failed "
            f"moments ago ({failure[1]})",
            reference=reference,
            registry=self.registry,
        )

    def _credentials(self) -> Credential | None:
        """The credential to send now (see `held.py`: asked once, renewed by its issuer)."""
        return self._held.current()

    def _authorization(
        self, challenge: Challenge | None, repository: str, deadline: Deadline, reference: str
    ) -> tuple[str | None, Token | None]:
        if challenge is None:
            return None, None
        if challenge.scheme == "basic":
            credential = self._credentials()
            if isinstance(credential, Basic):
                return basic_header(credential), None
            return None, None
        token = self._token_for(challenge, pull_scope(repository), deadline, reference)
        return f"Bearer {token.value}", token

    def _token_for(
        self, challenge: Challenge, scope: str, deadline: Deadline, reference: str
    ) -> Token:
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
            return self._tokens.get(scope) or self._fetch_token(
                challenge, [scope], deadline, reference
            )
        finally:
            if acquired:
                lock.release()

    def _fetch_token(
        self, challenge: Challenge, scopes: list[str], deadline: Deadline, reference: str
    ) -> Token:
        peer = f"token server {url_host(challenge.realm or '')} for registry {self.registry}"

        def send(method: str, url: str, **kwargs: Any) -> requests.Response:
            headers = kwargs.pop("headers", {})
            return self._send(method, url, headers, deadline, reference, peer=peer, **kwargs)

        refusals: list[AuthenticationError] = []

        def refused(response: requests.Response, repositories: str) -> AuthenticationError:
            code, message = error_body(response, deadline)
            status = response.status_code
            refusals.append(self.denied(status, repositories, reference, code, message, who=peer))
            return refusals[-1]

        for attempt in (1, 2):
            credential = self._credentials()
            held = self._held.generation
            if isinstance(credential, ExchangeToken):
                credential = self._exchange(credential, challenge, scopes, send, refused, reference)
            try:
                token, granted = fetch_token(
                    send,
                    challenge,
                    scopes,
                    credential,
                    registry=self.registry,
                    registry_scheme=self.scheme,
                    reference=reference,
                    refused=refused,
                )
                break
            except AuthenticationError as error:
                # Refused: once more if the keychain, asked again, has another credential.
                if attempt == 2 or error not in refusals or not self._held.renew(held):
                    raise
        self._secrets.add(token.value)
        # A single requested scope is trusted even without an access claim naming it.
        self._tokens.put(granted or (scopes if len(scopes) == 1 else []), token)
        return token

    def _exchange(
        self,
        credential: ExchangeToken,
        challenge: Challenge,
        scopes: list[str],
        send: Any,
        refused: Any,
        reference: str,
    ) -> IdentityToken:
        """The refresh token ACR gives for this Entra token (one exchange per Entra token)."""
        exchanged = self._exchanged
        if exchanged is not None and exchanged[0] is credential:
            return exchanged[1]
        refresh = exchange_token(
            send,
            self.base_url,
            challenge.params.get("service") or self.registry,
            credential,
            registry=self.registry,
            reference=reference,
            repositories=", ".join(scope.split(":")[1] for scope in scopes),
            refused=refused,
        )
        self._secrets.add(refresh.token)
        self._exchanged = (credential, refresh)
        return refresh

    def _cached_scopes(self, repositories: Iterable[str]) -> set[str]:
        return {pull_scope(r) for r in repositories if self._tokens.get(pull_scope(r))}

    def _unauthorized(self, reference: str, response: requests.Response) -> AuthenticationError:
        """A 401 from a host we were redirected to: it never gets our credentials."""
        return AuthenticationError(
            f"registry {self.registry} redirected the request for {reference} to "
            f"{url_host(response.url)}, which answered HTTP 401; credentials are "
            "never sent to another host",
            reference=reference,
            registry=self.registry,
        )

    def _denied(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        response: requests.Response,
        repository: str,
        deadline: Deadline,
        reference: str,
    ) -> AuthenticationError:
        """The final 401 for `repository`, with the registry's own error text: from this
        response's body, or, a HEAD having none, from one GET of the same URL."""
        if method == "GET":
            with response:
                code, message = error_body(response, deadline)
        else:
            release(response)
            code, message = self._error_text_by_get(url, headers, deadline, reference)
        return self.denied(401, repository, reference, code, message)

    def denied(
        self,
        status: int,
        repository: str | None,
        reference: str,
        code: str | None,
        message: str,
        *,
        who: str | None = None,
    ) -> AuthenticationError:
        """The error for a 401/403 from this registry (or `who`, its token server); `code`
        and `message` as it sent them."""
        said = registry_said(
            printable(self.redact(code), 64) if code else code,
            printable(self.redact(message), 200),
        )
        return access_denied(
            who=who or f"registry {self.registry}",
            status=status,
            reference=reference,
            registry=self.registry,
            repositories=repository,
            source=self.credential_source(),
            said=said,
        )

    def _error_text_by_get(
        self, url: str, headers: Mapping[str, str], deadline: Deadline, reference: str
    ) -> tuple[str | None, str]:
        try:
            response = self._send("GET", url, headers, deadline, reference)
        except DigestError:
            return None, ""
        with response:
            if response.status_code not in (401, 403):
                return None, ""
            return error_body(response, deadline)

    # -- sending with retries -----------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        deadline: Deadline,
        reference: str,
        *,
        peer: str | None = None,
        **request_options: Any,
    ) -> requests.Response:
        """Send with retries, within `deadline`; the response may be any status.

        `peer` names who is being talked to in errors (the registry, unless it is its token
        server); `request_options` go to `requests` (params, data, allow_redirects).
        """
        peer = peer or f"registry {self.registry}"
        retry = retry_policy(self.options)
        attempts = 0
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise self._timed_out(reference, attempts, peer, deadline)
            attempts += 1
            response: requests.Response | None = None
            error: Exception | None = None
            self.request_count += 1
            try:
                with enforcing(deadline):
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
                        # Per request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
                        # override a session's CA bundle, but not a request's.
                        verify=self.options.ca_bundle or True,
                        **{"allow_redirects": True, **request_options},
                    )
            except requests.exceptions.SSLError as exc:
                raise tls_failure(
                    exc,
                    url=exc.request.url if exc.request and exc.request.url else url,
                    peer=peer,
                    reference=reference,
                    registry=self.registry,
                    api_host=urlsplit(self.base_url).netloc,
                    options=self.options,
                ) from None
            except requests.exceptions.TooManyRedirects:
                raise RegistryError(
                    f"{peer} redirected too many times while resolving {reference} "
                    f"(limit {self.options.max_redirects})",
                    reference=reference,
                    registry=self.registry,
                ) from None
            except DowngradeRedirect as exc:
                raise RegistryError(
                    f"{peer} redirected the request for {reference} from HTTPS to plain HTTP "
                    f"({exc.target_host}); refused, as the answer could be forged in transit",
                    reference=reference,
                    registry=self.registry,
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = exc
            except (requests.RequestException, ValueError) as exc:
                # A malformed redirect or header from the peer (bad Location, conflicting
                # Content-Length, a header value requests refuses to send...).
                raise RegistryError(
                    f"{peer} sent an answer that cannot be used while resolving {reference}: "
                    f"{type(exc).__name__}",
                    reference=reference,
                    registry=self.registry,
                ) from None
            except OSError:
                # requests' own check of the CA bundle (it vanished since the Resolver was made).
                check_ca_bundle(self.options)
                raise
            if deadline.expired():
                # Whatever arrived is what was left when the deadline cut the connection.
                if response is not None:
                    response.close()
                raise self._timed_out(reference, attempts, peer, deadline)
            if response is not None and not retry.is_retry(
                method, response.status_code, "Retry-After" in response.headers
            ):
                return response
            if error is not None and _unresolved(error):
                # A name that does not resolve now will not in a second either: say so at once.
                raise self._unreachable(reference, error, attempts, peer) from None
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
                raise self._unreachable(reference, error, attempts, peer) from None
            wait = retry.get_backoff_time()
            if response is not None:
                try:
                    asked = retry.get_retry_after(response.raw)
                except (HTTPError, ValueError, OverflowError):
                    asked = None  # a malformed Retry-After: back off as if there were none
                wait = min(asked, self.options.max_retry_after) if asked is not None else wait
                release(response)
            if wait > deadline.remaining():
                raise self._timed_out(reference, attempts, peer, deadline)
            time.sleep(wait)

    def _sameorigin(self, url: str | None) -> bool:
        """Whether `url` (where a response finally came from) is this registry itself."""
        if not url:
            return True
        return origin(url) == origin(self.base_url)

    def _timed_out(
        self, reference: str, attempts: int, peer: str, deadline: Deadline
    ) -> RegistryError:
        return RegistryError(
            f"{peer} did not give a complete answer for {reference} within {deadline.bound} "
            f"({attempts} attempts); raise it (--timeout, IMAGE_DIGEST_TIMEOUT) if the registry "
            "is just slow",
            reference=reference,
            registry=self.registry,
        )

    def _unreachable(
        self, reference: str, error: Exception | None, attempts: int, peer: str
    ) -> RegistryError:
        tried = f"{attempts} attempt{'s' if attempts != 1 else ''} to {self.base_url}"
        return RegistryError(
            f"{peer} is unreachable while resolving {reference}: "
            f"{_describe(error, self.base_url, self.options)} ({tried})",
            reference=reference,
            registry=self.registry,
        )

    def _not_a_registry(self, reference: str) -> NotARegistryError:
        host = urlsplit(self.base_url).netloc
        return NotARegistryError(
            f"{host} is not a container registry: it has no registry API (GET "
            f"{self.base_url}/v2/ answered {self._no_api} without a "
            "Docker-Distribution-API-Version header, and so did the request for "
            f"{reference}); check the host name in the reference",
            reference=reference,
            registry=self.registry,
        )


def _speaks_registry(response: requests.Response) -> bool:
    """Does a response look like the registry API's: its version header, or a JSON body
    (the distribution spec's error object)?"""
    if response.headers.get("Docker-Distribution-API-Version"):
        return True
    content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _causes(error: BaseException) -> list[BaseException]:
    """`error` and what it wraps (urllib3's `reason`, chained exceptions, exception args)."""
    causes: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and len(causes) < 10:
        causes.append(seen)
        seen = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
    return causes + [
        arg
        for cause in causes
        for arg in getattr(cause, "args", ())
        if isinstance(arg, BaseException)
    ]


def _unresolved(error: BaseException) -> bool:
    return any(isinstance(cause, NameResolutionError) for cause in _causes(error))


def _describe(error: Exception | None, base_url: str, options: TransportOptions) -> str:
    """What went wrong with a connection, in words (never the peer's own text)."""
    if error is None:
        return "no response"
    host = urlsplit(base_url).hostname or base_url
    causes = _causes(error)
    errnos = {cause.errno for cause in causes if isinstance(cause, OSError)}
    if _unresolved(error):
        return f"host name does not resolve: no DNS record for {host}"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return f"connection refused: nothing listens at {urlsplit(base_url).netloc}"
    if errnos & {errno.ENETUNREACH, errno.EHOSTUNREACH}:
        return f"network unreachable: no route to {host}"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"connecting timed out (connect_timeout {options.connect_timeout:g} s)"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return f"no answer within read_timeout {options.read_timeout:g} s"
    if any(isinstance(cause, ConnectionResetError) for cause in causes):
        return "the connection was reset"
    return f"the connection failed ({type(error).__name__})"


def _insufficient_scope(challenge: Challenge) -> bool:
    """A 401 saying the token lacks the scope, not that it expired: a new one would too."""
    return challenge.params.get("error") == "insufficient_scope"
