"""The `requests.Session` every registry gets: pooled, deadline-aware, careful with redirects.

Credentials stay with the registry: a redirect to another host (or port, or scheme) drops the
Authorization header, a redirect from HTTPS down to plain HTTP is refused, `~/.netrc` never
adds credentials of its own, and a redirect's body is never read whole.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError

from image_digest.transport.connection import DeadlineAdapter
from image_digest.transport.options import TransportOptions
from image_digest.transport.token import url_host

if TYPE_CHECKING:
    from requests.sessions import _Settings  # the stubs' name for these settings

_HOST_POOLS = 4
_DRAIN_LIMIT = 65_536


class DowngradeRedirect(requests.RequestException):
    """A redirect from HTTPS to plain HTTP, which we never follow."""

    def __init__(self, target_host: str):
        super().__init__("redirect from https to http refused")
        self.target_host = target_host


class _RegistrySession(requests.Session):
    """A session whose redirects keep credentials at home and never downgrade to HTTP."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str, Any, Any, Any], _Settings] = {}

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        """Proxy and CA settings from the environment, read once per host for the session's
        life: requests re-reads every variable of `os.environ` twice per request, which was
        a third of the CPU a HEAD cost us."""
        if proxies or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert)
        settings = self._environment.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, {}, stream, verify, cert)
            self._environment[key] = settings
        fresh = settings.copy()
        fresh["proxies"] = dict(settings["proxies"])
        return fresh

    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        new_url = prepared_request.url or ""
        old_url = response.request.url or ""
        if urlsplit(old_url).scheme == "https" and urlsplit(new_url).scheme != "https":
            raise DowngradeRedirect(url_host(new_url))
        # Like requests, drop Authorization when the host, port or scheme changes; unlike
        # requests, never pick up credentials for the new host from ~/.netrc.
        if "Authorization" in prepared_request.headers and origin(old_url) != origin(new_url):
            del prepared_request.headers["Authorization"]


def origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return (parts.scheme, parts.hostname, port)


def drain(response: requests.Response) -> None:
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


def release(response: requests.Response) -> None:
    """Drain (keeping the connection) and close a response we will not use."""
    drain(response)
    response.close()


def _skip_redirect_body(
    response: requests.Response, *args: Any, **kwargs: Any
) -> requests.Response:
    """requests reads a redirect's body, whole and uncapped, before following it. Read a small
    declared one (the connection stays alive); leave any other unread and drop the connection."""
    if response.is_redirect and response.request.method != "HEAD":
        length = response.headers.get("Content-Length", "")
        if not (length.isdigit() and int(length) <= _DRAIN_LIMIT):
            response.raw.close()
            response._content = b""  # what requests would have read, now known to be nothing
    return response


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """A no-op auth hook: stops requests from applying ~/.netrc over our Authorization header."""
    return request


def new_session(options: TransportOptions) -> requests.Session:
    session = _RegistrySession()
    # Several host pools (registry, token realm, a redirect target), so talking to the token
    # server does not evict and close the registry's kept-alive connections.
    adapter = DeadlineAdapter(
        pool_connections=_HOST_POOLS, pool_maxsize=options.pool_size, max_retries=0
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = options.user_agent
    session.max_redirects = options.max_redirects
    # Environment proxies and CA settings apply, but ~/.netrc must never replace our auth.
    session.trust_env = True
    session.auth = _keep_headers
    session.hooks["response"].append(_skip_redirect_body)
    session.verify = options.ca_bundle if options.ca_bundle else True
    return session
