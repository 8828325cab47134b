"""Local stand-ins for the cloud APIs the keychains call, as `Edge` handlers.

- `EcrApi`: Amazon ECR's and ECR Public's `GetAuthorizationToken` (the AWS JSON 1.1 protocol
  boto3 speaks: a POST with `X-Amz-Target`, SigV4-signed), tokens valid 12 hours by `clock`.
  https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
- `AcrTokenService`: Azure Container Registry's `/oauth2/exchange` (Entra token -> refresh
  token) and `/oauth2/token` (refresh token or admin Basic -> access token), signing real JWTs
  with a `TokenServer`'s key so a token-auth docker-registry accepts them.
  https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from werkzeug import Request, Response

from tests.support.token_server import TokenServer

ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
ECR_PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken"
_SIGV4 = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/[0-9]+/([a-z0-9-]+)/([a-z0-9-]+)/")
TWELVE_HOURS = 12 * 3600.0


def json_reply(body: object, status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(body), status, {"Content-Type": "application/json", **headers})


@dataclass(frozen=True)
class EcrCall:
    target: str
    region: str
    service: str


@dataclass
class EcrApi:
    """Answers `GetAuthorizationToken` for `access_key_id` with `AWS:<password>`."""

    access_key_id: str
    password: str
    clock: Callable[[], float] = time.time
    lifetime: float = TWELVE_HOURS
    calls: list[EcrCall] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        target = request.headers.get("X-Amz-Target", "")
        signed = _SIGV4.match(request.headers.get("Authorization", ""))
        if request.method != "POST" or target not in (ECR_TARGET, ECR_PUBLIC_TARGET):
            return json_reply({"__type": "UnknownOperationException"}, 400)
        if signed is None or signed.group(1) != self.access_key_id:
            return json_reply(
                {
                    "__type": "UnrecognizedClientException",
                    "message": "The security token included in the request is invalid.",
                },
                400,
            )
        self.calls.append(EcrCall(target, signed.group(2), signed.group(3)))
        token = base64.b64encode(f"AWS:{self.password}".encode()).decode()
        data = {"authorizationToken": token, "expiresAt": self.clock() + self.lifetime}
        if target == ECR_PUBLIC_TARGET:
            return json_reply({"authorizationData": data}, **{"Content-Type": _AMZ_JSON})
        data["proxyEndpoint"] = f"https://{request.host}"
        return json_reply({"authorizationData": [data]}, **{"Content-Type": _AMZ_JSON})


_AMZ_JSON = "application/x-amz-json-1.1"


class AcrTokenService:
    """ACR's token endpoints for one registry name (`service`).

    `entra_token` is the only Entra access token the exchange accepts; `admin` is the
    registry's admin user (Basic at GET /oauth2/token, as `docker login` with it does).
    Anonymous pull is disabled, as it is by default on ACR.
    """

    def __init__(self, tokens: TokenServer, service: str, entra_token: str, admin: tuple[str, str]):
        self.tokens = tokens
        self.service = service
        self.entra_token = entra_token
        self.admin = admin
        self.exchanges: list[dict[str, str]] = []
        self._refresh: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        if request.path == "/oauth2/exchange" and request.method == "POST":
            return self._exchange(form)
        if request.path == "/oauth2/token" and request.method == "POST":
            user = self._refresh.get(form.get("refresh_token", ""))
            scopes = form.get("scope", "").split()
            return self._issue(user, form.get("service"), scopes)
        if request.path == "/oauth2/token" and request.method == "GET":
            user = self._basic_user(request.headers.get("Authorization", ""))
            return self._issue(user, request.args.get("service"), request.args.getlist("scope"))
        return json_reply({"errors": [{"code": "NOT_FOUND", "message": "not found"}]}, 404)

    def _exchange(self, form: dict[str, str]) -> Response:
        with self._lock:
            self.exchanges.append({k: v for k, v in form.items() if k != "access_token"})
        if form.get("grant_type") != "access_token" or form.get("service") != self.service:
            return json_reply({"errors": [{"code": "UNSUPPORTED", "message": "bad grant"}]}, 400)
        if form.get("access_token") != self.entra_token:
            return json_reply({"errors": [{"code": "UNAUTHORIZED", "message": "bad token"}]}, 401)
        refresh = f"acr-refresh-{len(self._refresh) + 1}"
        with self._lock:
            self._refresh[refresh] = "entra-identity"
        return json_reply({"refresh_token": refresh})

    def grant_refresh_token(self, value: str, user: str = "config-identity") -> None:
        """Accept `value` as a refresh token (one `az acr login` put in a docker config)."""
        with self._lock:
            self._refresh[value] = user

    def _basic_user(self, authorization: str) -> str | None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        user, _, password = base64.b64decode(value).decode(errors="replace").partition(":")
        return user if (user, password) == self.admin else None

    def _issue(self, user: str | None, service: str | None, scopes: list[str]) -> Response:
        if user is None or service != self.service:
            body = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
            return json_reply(body, 401)
        issued = self.tokens.issue(user, service, scopes)
        return json_reply({"access_token": issued["token"]})
