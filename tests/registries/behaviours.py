"""How eight public registries answer, emulated in front of one real docker-registry.

Each `Spec` is one registry as its clients see it: the API host, its challenge (realm,
service, extra params), where its token service lives, and how it answers a repository the
client may not see (which, for most of them, is also how it answers one that does not
exist). `Emulation` is the Edge handler that plays it: it issues and checks tokens itself
and relays granted requests to the docker-registry under a per-registry prefix, which
produces the manifests, digests and 404s. Every behaviour cites where it is documented or
observed.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from werkzeug import Request, Response

from tests.support.edge import Handler, forward

#: What a registry answers when a token does not grant the repository: (status, code,
#: message). `{repo}` is filled in.
Refusal = tuple[int, str, str]


@dataclass(frozen=True)
class Spec:
    name: str
    #: the host in image references (Docker Hub: `docker.io`) and the API host
    ref_host: str
    api_host: str
    #: `None`: Basic auth (ECR); else the Bearer realm and service of the challenge
    realm: str | None
    service: str
    token_host: str
    #: the right credentials, as `docker login` would take them
    user: str
    password: str
    #: the answer to a manifest request whose token does not grant the repository
    refusal: Refusal
    #: anonymous tokens are refused outright (401 at the token endpoint) for repositories
    #: that are not public (GHCR), or for every repository (ACR: anonymous pull is off)
    anonymous: str = "public-only"  # "public-only" | "token-refused-for-hidden" | "none"
    #: whether a repository that does not exist is told apart (404) for a client that may
    #: pull everything (ECR, ACR, Harbor); the others hide it behind `refusal` too
    reveals_missing: bool = False
    #: extra challenge parameters the registry adds on /v2/ (GHCR adds a scope)
    ping_extra: str = ""

    @property
    def basic(self) -> bool:
        return self.realm is None


def _distribution_error(status: int, code: str, message: str, **headers: str) -> Response:
    body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]})
    return Response(body, status, {"Content-Type": "application/json", **headers})


SPECS = [
    # Docker Hub: token service at auth.docker.io, service registry.docker.io; a repository an
    # anonymous token does not grant (private, or missing) is a 401 UNAUTHORIZED
    # "authentication required" with error="insufficient_scope".
    # https://docs.docker.com/reference/api/registry/auth/ (token flow, realm and service)
    # https://distribution.github.io/distribution/spec/auth/token/ (insufficient_scope)
    Spec(
        "dockerhub",
        "docker.io",
        "registry-1.docker.io",
        "https://auth.docker.io/token",
        "registry.docker.io",
        "auth.docker.io",
        "hubuser",
        "dckr_pat_hub",
        (401, "UNAUTHORIZED", "authentication required"),
    ),
    # GHCR: realm https://ghcr.io/token, service ghcr.io, and /v2/ names a sample scope. An
    # anonymous token for a package that is not public is refused at the token endpoint (401),
    # and a request without a token is 401 "authentication required".
    # https://github.com/openai/tunnel-client/issues/75 (token endpoint 401 for a private image)
    # https://github.com/Mic92/niks3/issues/229 (UNAUTHORIZED "authentication required")
    Spec(
        "ghcr",
        "ghcr.io",
        "ghcr.io",
        "https://ghcr.io/token",
        "ghcr.io",
        "ghcr.io",
        "x-access-token",
        "ghp_emulated",
        (401, "UNAUTHORIZED", "authentication required"),
        anonymous="token-refused-for-hidden",
        ping_extra=',scope="repository:user/image:pull"',
    ),
    # Container Registry: realm https://gcr.io/v2/token; a repository the caller cannot see
    # (or that does not exist) is a 401 that points at the authentication docs.
    # https://cloud.google.com/container-registry/docs/advanced-authentication
    Spec(
        "gcr",
        "gcr.io",
        "gcr.io",
        "https://gcr.io/v2/token",
        "gcr.io",
        "gcr.io",
        "oauth2accesstoken",
        "ya29.emulated-gcr",
        (
            401,
            "UNAUTHORIZED",
            "You don't have the needed permissions to perform this operation, and you may "
            "have invalid credentials. To authenticate your request, follow the steps in: "
            "https://cloud.google.com/container-registry/docs/advanced-authentication",
        ),
    ),
    # Artifact Registry: realm https://LOCATION-docker.pkg.dev/v2/token; a 403 DENIED that says
    # "(or it may not exist)".
    # https://github.com/terraform-google-modules/terraform-google-kubernetes-engine/issues/1779
    # https://cloud.google.com/artifact-registry/docs/docker/authentication
    Spec(
        "artifact-registry",
        "us-docker.pkg.dev",
        "us-docker.pkg.dev",
        "https://us-docker.pkg.dev/v2/token",
        "us-docker.pkg.dev",
        "us-docker.pkg.dev",
        "oauth2accesstoken",
        "ya29.emulated-ar",
        (
            403,
            "DENIED",
            'Permission "artifactregistry.repositories.downloadArtifacts" denied on resource '
            '"projects/p/locations/us/repositories/{top}" (or it may not exist)',
        ),
    ),
    # ECR: Basic auth with user AWS and a GetAuthorizationToken password; no anonymous pull; a
    # missing repository is a 404 NAME_UNKNOWN; an expired token a 403 "Your authorization
    # token has expired. Reauthenticate and try again."
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html
    # https://github.com/aws/aws-cli/issues/6580 (the expired-token denial)
    Spec(
        "ecr",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        None,
        "ecr.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "AWS",
        "ecr-emulated-password",
        (401, "UNAUTHORIZED", "Not Authorized"),
        anonymous="none",
        reveals_missing=True,
    ),
    # ACR: realm https://NAME.azurecr.io/oauth2/token, service NAME.azurecr.io; anonymous pull
    # is off by default (the token endpoint refuses); /oauth2/exchange trades an Entra token
    # for a refresh token; a missing repository is a 404 NAME_UNKNOWN.
    # https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md
    # https://learn.microsoft.com/azure/container-registry/anonymous-pull-access
    Spec(
        "acr",
        "myregistry.azurecr.io",
        "myregistry.azurecr.io",
        "https://myregistry.azurecr.io/oauth2/token",
        "myregistry.azurecr.io",
        "myregistry.azurecr.io",
        "myregistry",
        "acr-admin-password",
        (401, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization"),
        anonymous="none",
        reveals_missing=True,
    ),
    # Quay: realm https://quay.io/v2/auth, service quay.io; a repository the token does not
    # grant (private or missing) is a 401 "access to the requested resource is not authorized".
    # https://docs.quay.io/api/ (v2 auth) and https://github.com/quay/quay (endpoints/v2)
    Spec(
        "quay",
        "quay.io",
        "quay.io",
        "https://quay.io/v2/auth",
        "quay.io",
        "quay.io",
        "quayuser+robot",
        "quay-robot-token",
        (401, "UNAUTHORIZED", "access to the requested resource is not authorized"),
    ),
    # Harbor: realm https://HOST/service/token, service harbor-registry; a private project's
    # repository (or a missing one) is a 401 "unauthorized to access repository"; a client that
    # may pull everything gets a 404 for a missing repository.
    # https://goharbor.io/docs/main/working-with-projects/working-with-images/pulling-pushing-images/
    Spec(
        "harbor",
        "harbor.example.com",
        "harbor.example.com",
        "https://harbor.example.com/service/token",
        "harbor-registry",
        "harbor.example.com",
        "robot$ci",
        "harbor-robot-secret",
        (
            401,
            "UNAUTHORIZED",
            "unauthorized to access repository: {repo}, action: pull: unauthorized to "
            "access repository: {repo}, action: pull",
        ),
        reveals_missing=True,
    ),
]
SPECS_BY_NAME = {spec.name: spec for spec in SPECS}

#: ECR's answer to an expired GetAuthorizationToken password (see the ECR spec above).
ECR_EXPIRED_PASSWORD = "ecr-expired-password"
#: The Entra access token the ACR emulation accepts at /oauth2/exchange.
ENTRA_TOKEN = "entra-emulated-token"


@dataclass
class Emulation:
    """Plays `spec` in front of the docker-registry at `backend` (repositories under
    `spec.name/`). `public` and `private` list repositories (without the prefix); anything
    else does not exist. `rate_limited` repositories answer 429 once, with Retry-After."""

    spec: Spec
    backend: str
    public: set[str]
    private: set[str]
    rate_limited: set[str] = field(default_factory=set)
    retry_after: int = 1
    _tokens: dict[str, tuple[str | None, frozenset[str]]] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)
    _limited_once: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._relay: Handler = forward(self.backend, prefix=self.spec.name)

    # -- routes ------------------------------------------------------------------------------

    def registry(self, request: Request) -> Response:
        if self.spec.token_host == self.spec.api_host and not request.path.startswith("/v2/"):
            return self.token(request)
        if request.path in ("/v2/token", "/v2/auth") and not self.spec.basic:
            return self.token(request)
        if request.path == "/v2/":
            return self._challenge(None)
        repo, _, rest = request.path[len("/v2/") :].partition("/manifests/")
        if not rest:
            return _distribution_error(404, "NOT_FOUND", "not found")
        refused = self._authorize(request, repo)
        if refused is not None:
            return refused
        if repo in self.rate_limited and repo not in self._limited_once:
            # Docker Hub: 429 TOOMANYREQUESTS past the pull rate limit, to be retried later.
            # https://docs.docker.com/docker-hub/usage/pulls/ ("429 Too Many Requests")
            self._limited_once.add(repo)
            return _distribution_error(
                429,
                "TOOMANYREQUESTS",
                "You have reached your unauthenticated pull rate limit.",
                **{"Retry-After": str(self.retry_after)},
            )
        if repo not in self.public | self.private and not self.spec.reveals_missing:
            return self._refusal(repo, granted=True)
        return self._relay(request)

    def token(self, request: Request) -> Response:
        spec = self.spec
        if request.path == "/oauth2/exchange":
            return self._exchange(request)
        form = parse_qs(request.get_data(as_text=True)) if request.method == "POST" else {}
        if form:
            service = form.get("service", [""])[0]
            scopes = " ".join(form.get("scope", [])).split()
            user = self._refresh.get(form.get("refresh_token", [""])[0])
            if user is None:
                return _distribution_error(401, "UNAUTHORIZED", "invalid refresh token")
        else:
            service = request.args.get("service", "")
            scopes = request.args.getlist("scope")
            authorization = request.headers.get("Authorization", "")
            user = None
            if authorization:
                user = self._basic_user(authorization)
                if user is None:
                    # Docker Hub and the others: wrong credentials are a 401 at the token
                    # endpoint. https://docs.docker.com/reference/api/registry/auth/
                    return _distribution_error(
                        401, "UNAUTHORIZED", "incorrect username or password"
                    )
        if service != spec.service:
            return _distribution_error(400, "INVALID", f"unknown service {service!r}")
        repos = [
            s.split(":")[1] for s in scopes if s.startswith("repository:") and s.count(":") >= 2
        ]
        if user is None and spec.anonymous == "none":
            return _distribution_error(401, "UNAUTHORIZED", "authentication required")
        hidden = [r for r in repos if r not in self.public]
        if user is None and spec.anonymous == "token-refused-for-hidden" and hidden:
            return _distribution_error(401, "UNAUTHORIZED", "authentication required")
        granted = frozenset(r for r in repos if self._may_pull(user, r))
        token = f"{spec.name}-{secrets.token_hex(8)}"
        with self._lock:
            self._tokens[token] = (user, granted)
        return Response(
            json.dumps({"token": token, "access_token": token, "expires_in": 300}),
            200,
            {"Content-Type": "application/json"},
        )

    # -- policy ------------------------------------------------------------------------------

    def _may_pull(self, user: str | None, repo: str) -> bool:
        if repo in self.public:
            return True
        if user is None:
            return False
        return repo in self.private or self.spec.reveals_missing

    def _authorize(self, request: Request, repo: str) -> Response | None:
        authorization = request.headers.get("Authorization", "")
        if self.spec.basic:
            scheme, _, value = authorization.partition(" ")
            password = self._basic_password(value) if scheme.lower() == "basic" else None
            if password == ECR_EXPIRED_PASSWORD:
                return _distribution_error(
                    403,
                    "DENIED",
                    "Your authorization token has expired. Reauthenticate and try again.",
                )
            if self._basic_user(authorization) is None:
                return self._challenge(repo, body=self.spec.refusal)
            return None
        scheme, _, token = authorization.partition(" ")
        user_granted = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if user_granted is None:
            return self._challenge(repo, body=(401, "UNAUTHORIZED", "authentication required"))
        if repo not in user_granted[1]:
            return self._refusal(repo, granted=False)
        return None

    def _refusal(self, repo: str, *, granted: bool) -> Response:
        status, code, message = self.spec.refusal
        text = message.format(repo=repo, top=repo.split("/")[0])
        if status == 401:
            return self._challenge(repo, body=(status, code, text), insufficient=not granted)
        return _distribution_error(status, code, text)

    def _challenge(
        self, repo: str | None, *, body: tuple[int, str, str] | None = None, insufficient=False
    ) -> Response:
        spec = self.spec
        if spec.basic:
            header = f'Basic realm="https://{spec.api_host}/",service="{spec.service}"'
        else:
            header = f'Bearer realm="{spec.realm}",service="{spec.service}"'
            header += f',scope="repository:{repo}:pull"' if repo else spec.ping_extra
            header += ',error="insufficient_scope"' if insufficient else ""
        status, code, message = body or (401, "UNAUTHORIZED", "authentication required")
        return _distribution_error(status, code, message, **{"WWW-Authenticate": header})

    # -- credentials -------------------------------------------------------------------------

    @staticmethod
    def _basic_password(value: str) -> str | None:
        try:
            return base64.b64decode(value).decode().partition(":")[2]
        except ValueError:
            return None

    def _basic_user(self, authorization: str) -> str | None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        spec = self.spec
        if spec.name == "ghcr" and user and password == spec.password:
            return user  # GHCR takes any non-empty user name with a token
        return user if (user, password) == (spec.user, spec.password) else None

    def _exchange(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        if form.get("grant_type") != "access_token" or form.get("service") != self.spec.service:
            return _distribution_error(400, "UNSUPPORTED", "bad exchange request")
        if form.get("access_token") != ENTRA_TOKEN:
            return _distribution_error(401, "UNAUTHORIZED", "invalid Entra token")
        refresh = f"acr-refresh-{secrets.token_hex(8)}"
        with self._lock:
            self._refresh[refresh] = "entra-identity"
        return Response(
            json.dumps({"refresh_token": refresh}), 200, {"Content-Type": "application/json"}
        )


def routes(emulations: list[Emulation], extra: dict[str, Handler]) -> dict[str, Handler]:
    """Edge routes: each registry's API host and token host, plus `extra` (cloud APIs)."""
    table: dict[str, Handler] = dict(extra)
    for emulation in emulations:
        table[emulation.spec.api_host] = emulation.registry
        if emulation.spec.token_host != emulation.spec.api_host:
            table[emulation.spec.token_host] = emulation.token
    return table
