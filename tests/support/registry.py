"""Real OCI registries for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1.

Each ``RegistryServer`` writes its own config into a private temp dir (storage, htpasswd,
log), so the packaged ``/etc/docker/registry/config.yml`` (which listens on :5000) is never
read and tests can run side by side. ``stop()``/``start()`` keep the port and storage so
outage tests can take a registry down and bring it back.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import pytest
import requests

from .images import ACCEPT_ALL, Image, Index
from .push import RegistryClient, push
from .token_server import TokenServer

DOCKER_REGISTRY = "/usr/bin/docker-registry"
AuthMode = Literal["plain", "basic", "token"]

#: Executable -> Debian package that provides it.
TOOL_PACKAGES = {
    DOCKER_REGISTRY: "docker-registry",
    "skopeo": "skopeo",
    "htpasswd": "apache2-utils",
}

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class RegistryStartError(RuntimeError):
    """docker-registry did not come up; the message ends with the tail of its log."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing_tools(*tools: str) -> list[str]:
    """Messages for each tool (default: all of TOOL_PACKAGES) that is not installed."""
    return [
        f"{tool} not found (apt-get install {TOOL_PACKAGES.get(tool, tool)})"
        for tool in tools or tuple(TOOL_PACKAGES)
        if shutil.which(tool) is None
    ]


def require_tools(*tools: str) -> None:
    """Fail (under CI=true) or skip the current test when a needed tool is missing."""
    problems = missing_tools(*tools)
    if not problems:
        return
    message = "; ".join(problems)
    if in_ci():
        pytest.fail(f"CI=true and required tools are missing: {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_htpasswd(username: str, password: str) -> str:
    """One bcrypt htpasswd line (distribution only accepts bcrypt)."""
    result = subprocess.run(
        ["htpasswd", "-Bbn", username, password],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.stdout.strip() + "\n"


class RegistryServer:
    """One docker-registry process with its own port, storage and auth mode.

    ``mode``: ``"plain"`` (anonymous), ``"basic"`` (htpasswd with ``username``/``password``)
    or ``"token"`` (Bearer tokens from ``token_server``, which must already be started).
    """

    SERVICE = "test-registry"

    def __init__(
        self,
        mode: AuthMode = "plain",
        *,
        username: str = "alice",
        password: str = "wonderland",
        token_server: TokenServer | None = None,
    ) -> None:
        if mode == "token" and token_server is None:
            raise ValueError("token mode needs a started TokenServer")
        self.mode = mode
        self.username = username
        self.password = password
        self.token_server = token_server
        self._tmp = tempfile.TemporaryDirectory(prefix=f"registry-{mode}-")
        self.root = Path(self._tmp.name)
        self.storage_dir = self.root / "storage"
        self.config_path = self.root / "config.yml"
        self.log_path = self.root / "registry.log"
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        if mode == "basic":
            (self.root / "htpasswd").write_text(make_htpasswd(username, password))

    # -- addresses -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the registry part of an image reference."""
        if self.port is None:
            raise RuntimeError("registry has never been started")
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def credentials(self) -> tuple[str, str] | None:
        """``(username, password)`` for authenticated modes, None for ``plain``."""
        return None if self.mode == "plain" else (self.username, self.password)

    def reference(self, repo: str, tag_or_digest: str = "latest") -> str:
        """``127.0.0.1:PORT/repo:tag`` (or ``@sha256:...`` when given a digest)."""
        separator = "@" if tag_or_digest.startswith("sha256:") else ":"
        return f"{self.host}/{repo}{separator}{tag_or_digest}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle -------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The registry configuration; written as JSON, which is valid YAML."""
        config: dict[str, Any] = {
            "version": "0.1",
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage_dir)},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": self.host,
                "secret": "test-registry-secret",
                "headers": {"X-Content-Type-Options": ["nosniff"]},
            },
        }
        if self.mode == "basic":
            config["auth"] = {
                "htpasswd": {"realm": "test-registry", "path": str(self.root / "htpasswd")}
            }
        elif self.mode == "token":
            assert self.token_server is not None
            config["auth"] = {
                "token": {
                    "realm": self.token_server.realm,
                    "service": self.SERVICE,
                    "issuer": self.token_server.issuer,
                    "rootcertbundle": str(self.token_server.cert_pem_path),
                }
            }
        return config

    def start(self) -> RegistryServer:
        """Start (or restart, on the same port and storage) and wait until /v2/ answers."""
        if self.running:
            return self
        first_start = self.port is None
        attempts = 3 if first_start else 1
        for attempt in range(attempts):
            if first_start:
                self.port = free_port()
            try:
                self._launch()
                return self
            except RegistryStartError:
                # Another process may have grabbed the free port between probe and bind.
                if attempt == attempts - 1 or "address already in use" not in self.log_tail():
                    raise
        raise AssertionError("unreachable")

    def _launch(self) -> None:
        self.config_path.write_text(json.dumps(self.config(), indent=2))
        env = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
        with self.log_path.open("ab") as log:
            log.write(f"--- starting on {self.host}\n".encode())
            log.flush()
            log_offset = log.tell()
            self._process = subprocess.Popen(
                [DOCKER_REGISTRY, "serve", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
            )
        self._wait_until_ready(log_offset)

    def _listening(self, log_offset: int) -> bool:
        """Whether *this* process logged that it bound the port (since ``log_offset``)."""
        with self.log_path.open("rb") as log:
            log.seek(log_offset)
            return f"listening on {self.host}".encode() in log.read()

    def _wait_until_ready(self, log_offset: int) -> None:
        """Poll until our process has bound the port and answers /v2/, or fail with its log.

        The log check matters: on a restart whose port was taken meanwhile, /v2/ would be
        answered by the squatter while our process is about to exit with "address in use".
        """
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.02
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RegistryStartError(
                    f"docker-registry exited during startup on {self.host}\n{self.log_tail()}"
                )
            if self._listening(log_offset):
                try:
                    response = requests.get(f"{self.url}/v2/", timeout=1)
                    if response.status_code in (200, 401):
                        return
                except requests.ConnectionError:
                    pass
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        self.stop()
        raise RegistryStartError(
            f"docker-registry did not answer /v2/ on {self.host} within {START_TIMEOUT}s\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> None:
        """Terminate the process and wait for it; storage and port are kept for ``start()``."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def close(self) -> None:
        """Stop and delete the temp dir (storage, config, log)."""
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- conveniences ----------------------------------------------------------------------

    def session(self) -> requests.Session:
        """A plain requests session carrying this registry's Basic credentials if any.

        Token-mode registries need a Bearer token; use :meth:`client`, which fetches one.
        """
        session = requests.Session()
        if self.mode == "basic":
            session.auth = (self.username, self.password)
        return session

    def push(self, repo: str, tag: str, artifact: Image | Index, *, anonymous: bool = False) -> str:
        """Push with this registry's credentials (none when ``anonymous``); returns digest."""
        return push(self.url, repo, tag, artifact, auth=None if anonymous else self.credentials)

    def skopeo(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
        """Run skopeo isolated from the user's auth files; raises with stderr on failure."""
        auth_file = self.root / "skopeo-auth.json"
        if not auth_file.exists():
            auth_file.write_text('{"auths": {}}')
        env = {**os.environ, "REGISTRY_AUTH_FILE": str(auth_file), "DOCKER_CONFIG": str(self.root)}
        result = subprocess.run(
            ["skopeo", *args], capture_output=True, timeout=timeout, env=env, check=False
        )
        if result.returncode != 0:
            raise AssertionError(
                f"skopeo {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.decode(errors='replace')}"
            )
        return result

    def skopeo_raw(self, repo: str, tag_or_digest: str, *, anonymous: bool = False) -> bytes:
        """The manifest bytes as skopeo fetches them (``skopeo inspect --raw``)."""
        args = ["inspect", "--raw", "--tls-verify=false"]
        if self.credentials and not anonymous:
            args.append("--creds={}:{}".format(*self.credentials))
        args.append(f"docker://{self.reference(repo, tag_or_digest)}")
        return self.skopeo(*args).stdout

    def client(self, repo: str, *, anonymous: bool = False) -> RegistryClient:
        """An HTTP client for ``repo`` that answers Basic and Bearer challenges by itself."""
        auth = None if anonymous else self.credentials
        return RegistryClient(self.url, repo, requests.Session(), auth)

    def head_digest(
        self, repo: str, tag_or_digest: str, *, accept: str = ACCEPT_ALL, anonymous: bool = False
    ) -> str:
        """Docker-Content-Digest of ``HEAD /v2/<repo>/manifests/<ref>`` with ``accept``."""
        client = self.client(repo, anonymous=anonymous)
        response = client.request(
            "HEAD", client.url(f"manifests/{tag_or_digest}"), headers={"Accept": accept}
        )
        response.raise_for_status()
        return response.headers["Docker-Content-Digest"]
