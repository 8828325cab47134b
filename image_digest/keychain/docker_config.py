"""Credentials from the docker CLI's config file (`DOCKER_CONFIG` or `~/.docker/config.json`)."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any

from image_digest.errors import AuthenticationError
from image_digest.keychain.credentials import Basic, Credential, IdentityToken
from image_digest.keychain.helper import helper_credentials

DOCKER_HUB_SERVER_URL = "https://index.docker.io/v1/"
_DOCKER_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}


def default_config_path() -> Path:
    """Where the docker CLI would read its config from, honouring `DOCKER_CONFIG`."""
    directory = os.environ.get("DOCKER_CONFIG")
    base = Path(directory) if directory else Path.home() / ".docker"
    return base / "config.json"


class DockerConfigKeychain:
    """Reads `credHelpers`, `auths` and `credsStore`, in that order, like the docker CLI.

    The file is read once, on first use, so a resolver sees one consistent view. A credential
    helper's answer (a credential, or none) has no expiry: it is kept per registry for the
    keychain's life, so a helper runs once per registry, and again only after `forget`
    (a registry refused what it gave). Two lookups for one registry share one helper run.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self._path = Path(path) if path is not None else None
        self._config: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._sources: dict[str, str] = {}
        self._answers: dict[str, tuple[Credential | None, str]] = {}
        self._asking: dict[str, threading.Lock] = {}

    @property
    def path(self) -> Path:
        return self._path if self._path is not None else default_config_path()

    @property
    def label(self) -> str:
        return f"docker config {self.path}"

    def source_for(self, registry: str) -> str | None:
        """Which entry of the config gave the credential last returned for `registry`."""
        return self._sources.get(registry)

    def credentials_for(self, registry: str) -> Credential | None:
        credential, source = self._answer(registry)
        if credential is None:
            self._sources.pop(registry, None)
        else:
            self._sources[registry] = f"{self.label}, {source}"
        return credential

    def forget(self, registry: str) -> None:
        """Ask again next time: the registry refused the credential this keychain gave."""
        with self._lock:
            self._answers.pop(registry, None)

    def _answer(self, registry: str) -> tuple[Credential | None, str]:
        """The remembered answer for `registry`, else one lookup shared by concurrent callers."""
        answer = self._answers.get(registry)
        if answer is not None:
            return answer
        with self._lock:
            asking = self._asking.setdefault(registry, threading.Lock())
        with asking:
            answer = self._answers.get(registry)
            if answer is None:
                answer = self._lookup(registry)  # a helper error is raised, not remembered
                with self._lock:
                    self._answers[registry] = answer
            return answer

    def _lookup(self, registry: str) -> tuple[Credential | None, str]:
        config = self._load()
        keys = _candidate_keys(registry)
        helpers = config.get("credHelpers")
        if isinstance(helpers, dict):
            for key in keys:
                helper = helpers.get(key)
                if isinstance(helper, str) and helper:
                    credential = helper_credentials(
                        helper, _server_url(registry), registry=registry
                    )
                    return credential, f"credHelpers {key!r} (docker-credential-{helper})"
        auths = config.get("auths")
        if isinstance(auths, dict):
            entries = {_strip_key(k): (k, v) for k, v in auths.items() if isinstance(v, dict)}
            for key in keys:
                written, entry = entries.get(key, ("", None))
                credential = _entry_credentials(entry, registry, self.path) if entry else None
                if credential is not None:
                    return credential, f"auths {written!r} ({_entry_kind(credential)})"
        store = config.get("credsStore")
        if isinstance(store, str) and store:
            credential = helper_credentials(store, _server_url(registry), registry=registry)
            return credential, f"credsStore (docker-credential-{store})"
        return None, ""

    def _load(self) -> dict[str, Any]:
        with self._lock:
            if self._config is None:
                self._config = _read_config(self.path)
            return self._config


def _read_config(path: Path) -> dict[str, Any]:
    """The config as a dict. Errors never quote the file (it holds credentials) and are raised
    outside `except` blocks, so no decode error holding its text rides along as context."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise AuthenticationError(f"cannot read docker config {path}: {exc.strerror}") from None
    config, problem = _parse_config(raw)
    if problem:
        raise AuthenticationError(
            f"docker config {path} {problem}: fix or remove it, or point DOCKER_CONFIG at "
            "another directory"
        )
    if not isinstance(config, dict):
        raise AuthenticationError(f"docker config {path} must hold a JSON object")
    return config


def _parse_config(raw: bytes) -> tuple[Any, str | None]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "is not UTF-8"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"is not valid JSON (line {exc.lineno})"
    except (ValueError, RecursionError):
        return None, "is not valid JSON"


def _entry_credentials(entry: dict[str, Any], registry: str, path: Path) -> Credential | None:
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return IdentityToken(token)
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII input
            decoded = ""
        username, sep, password = decoded.partition(":")
        if not sep:
            raise AuthenticationError(
                f"docker config {path}: the 'auth' entry for {registry} is not base64 of "
                "'username:password'",
                registry=registry,
            )
        return Basic(username, password)
    plain_user, plain_password = entry.get("username"), entry.get("password")
    if isinstance(plain_user, str) and isinstance(plain_password, str) and plain_user:
        return Basic(plain_user, plain_password)
    return None


def _entry_kind(credential: Credential) -> str:
    return "identitytoken" if isinstance(credential, IdentityToken) else "username and password"


def _candidate_keys(registry: str) -> list[str]:
    if registry in _DOCKER_HUB_ALIASES:
        return ["index.docker.io", "docker.io", "registry-1.docker.io"]
    return [registry]


def _strip_key(key: str) -> str:
    """`https://host/v1/` and `host` name the same registry in `auths`."""
    return key.removeprefix("https://").removeprefix("http://").split("/", 1)[0]


def _server_url(registry: str) -> str:
    return DOCKER_HUB_SERVER_URL if registry in _DOCKER_HUB_ALIASES else registry
