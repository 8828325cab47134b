"""The eight registries, end to end, inside a private network and mount namespace.

Run by `test_registries.py` as `unshare -n -m` + this module: loopback is brought up and a
private hosts file maps every registry name to a 127.0.0.x address, so the library and
skopeo connect to `registry-1.docker.io:443`, `ghcr.io:443`... and reach one Edge serving
TLS for all of them (a throwaway CA) in front of a real docker-registry. Every case runs the
library and skopeo (`skopeo inspect --raw`, the witness), counts the requests each made at
the Edge, and writes the results as JSON for the test to judge.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import image_digest.transport.http as http_module
from image_digest import DigestError, Resolver
from image_digest.keychain import (
    AzureKeychain,
    DockerConfigKeychain,
    EcrKeychain,
    GitHubTokenKeychain,
    Keychain,
    MultiKeychain,
    StaticKeychain,
)
from tests.registries.behaviours import ENTRA_TOKEN, SPECS, Emulation, Spec, routes
from tests.support.certs import self_signed_ca
from tests.support.cloud import EcrApi
from tests.support.edge import Edge
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer

ECR_API = "api.ecr.us-east-1.amazonaws.com"
AWS_KEY = "AKIDNAMESPACE"
CASES = (
    "single",
    "index",
    "platform",
    "missing-tag",
    "hidden-repo",
    "wrong-creds",
    "private",
    "429",
)
REPOS = {"public": "pub/app", "private": "priv/app", "limited": "pub/limited"}


def all_hosts() -> list[str]:
    hosts = {ECR_API}
    for spec in SPECS:
        hosts |= {spec.api_host, spec.token_host}
    return sorted(hosts)


def write_hosts_file(path: Path) -> None:
    lines = ["127.0.0.1 localhost"]
    lines += [f"127.0.0.{10 + i} {host}" for i, host in enumerate(all_hosts())]
    path.write_text("\n".join(lines) + "\n")


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A CA (ca.crt, also the skopeo cert dir) and one leaf naming every host."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = self_signed_ca(ca_key, "image-digest registries CA", days=2)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registries")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in all_hosts()]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certs = directory / "certs"
    certs.mkdir()
    ca_path = certs / "ca.crt"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path, key_path = directory / "leaf.crt", directory / "leaf.key"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class Outcome:
    ok: bool
    digest: str | None
    error: str
    requests: int
    seconds: float


@dataclass
class Result:
    registry: str
    case: str
    expected: str | None
    library: Outcome
    skopeo: Outcome
    waits: list[float]


class EntraCredential:
    """An azure-identity credential's interface, answering the emulated Entra token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(ENTRA_TOKEN, int(time.time()) + 3600)


def natural_keychain(docker_config: Path) -> Keychain:
    """How each registry finds its credentials in real life: docker config `auths` (Docker
    Hub, gcr.io, Artifact Registry, Quay, Harbor), boto3 (ECR), Entra (ACR), GITHUB_TOKEN."""
    return MultiKeychain(
        [
            DockerConfigKeychain(docker_config),
            EcrKeychain(),
            AzureKeychain(EntraCredential()),
            GitHubTokenKeychain(),
        ]
    )


def skopeo_creds(spec: Spec, how: str) -> list[str]:
    if how == "anonymous":
        return ["--no-creds"]
    password = spec.password if how == "natural" else "wrong-password"
    return [f"--creds={spec.user}:{password}"]


def hosts_of(spec: Spec) -> set[str]:
    """Every host the library or skopeo may ask for `spec`'s cases (ECR: its AWS API too)."""
    return {spec.api_host, spec.token_host} | ({ECR_API} if spec.name == "ecr" else set())


class Runner:
    """Runs the cases; the registries run at once, each on a thread of its own, so requests are
    counted per registry (by host) and retry waits per thread."""

    def __init__(self, edge: Edge, ca: Path, work: Path, docker_config: Path):
        self.edge, self.ca, self.work, self.docker_config = edge, ca, work, docker_config
        self._local = threading.local()
        http_module.time = SimpleNamespace(sleep=self._wait)  # type: ignore[assignment]
        auth_file = work / "skopeo-auth.json"
        auth_file.write_text('{"auths": {}}')
        self.skopeo_env = {
            **os.environ,
            "REGISTRY_AUTH_FILE": str(auth_file),
            "HOME": str(work),
            "DOCKER_CONFIG": str(work / "no-docker-config"),
        }

    def _thread_waits(self) -> list[float]:
        waits: list[float] | None = getattr(self._local, "waits", None)
        if waits is None:
            waits = self._local.waits = []
        return waits

    @property
    def waits(self) -> list[float]:
        """The retry waits the library asked for on this thread (recorded, never slept)."""
        return list(self._thread_waits())

    def _wait(self, seconds: float) -> None:
        self._thread_waits().append(seconds)

    def clear_waits(self) -> None:
        self._local.waits = []

    def _requests_since(self, mark: int, spec: Spec) -> int:
        hosts = hosts_of(spec)
        return sum(1 for hit in self.edge.hits[mark:] if hit.host in hosts)

    def library(self, spec: Spec, ref: str, how: str, platform: str | None) -> Outcome:
        if how == "natural":
            keychain = natural_keychain(self.docker_config)
        elif how == "wrong":
            keychain = StaticKeychain({spec.ref_host: (spec.user, "wrong-password")})
        else:
            keychain = MultiKeychain([])
        mark = len(self.edge.hits)
        started = time.perf_counter()
        try:
            with Resolver(keychain=keychain, ca_bundle=str(self.ca)) as resolver:
                digest = resolver.resolve(ref, platform=platform).digest
            outcome = Outcome(True, digest, "", 0, 0.0)
        except DigestError as exc:
            outcome = Outcome(False, None, f"{type(exc).__name__}: {exc}", 0, 0.0)
        outcome.seconds = round(time.perf_counter() - started, 4)
        outcome.requests = self._requests_since(mark, spec)
        return outcome

    def skopeo(self, spec: Spec, ref: str, how: str, platform: str | None) -> Outcome:
        mark = len(self.edge.hits)
        started = time.perf_counter()

        def raw(target: str) -> tuple[bool, bytes, str]:
            done = subprocess.run(
                [
                    "skopeo",
                    "inspect",
                    "--raw",
                    "--retry-times=2",
                    f"--cert-dir={self.ca.parent}",
                    *skopeo_creds(spec, how),
                    f"docker://{target}",
                ],
                capture_output=True,
                env=self.skopeo_env,
                timeout=120,
                check=False,
            )
            return done.returncode == 0, done.stdout, done.stderr.decode(errors="replace")

        ok, body, error = raw(ref)
        digest = "sha256:" + hashlib.sha256(body).hexdigest() if ok else None
        if ok and platform is not None:
            index = json.loads(body)
            os_, arch = platform.split("/")[:2]
            child = next(
                m["digest"]
                for m in index["manifests"]
                if m["platform"]["os"] == os_ and m["platform"]["architecture"] == arch
            )
            ok, body, error = raw(f"{ref.rsplit(':', 1)[0]}@{child}")
            digest = child if ok and "sha256:" + hashlib.sha256(body).hexdigest() == child else None
            ok = digest is not None
        return Outcome(
            ok,
            digest,
            error.strip()[-400:],
            self._requests_since(mark, spec),
            round(time.perf_counter() - started, 4),
        )


def main(out: Path) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="registries-"))
    ca, cert, key = make_tls(work)
    backend = RegistryServer("plain").start()
    single = build_image("registries: single")
    children = [
        build_image("registries: amd64"),
        build_image("registries: arm64", architecture="arm64", variant="v8"),
    ]
    index = build_index(children)
    private = build_image("registries: private")
    limited = build_image("registries: limited")
    expected: dict[str, str] = {}
    emulations = []
    for spec in SPECS:
        public_repo = f"{spec.name}/{REPOS['public']}"
        backend.push(public_repo, "single", single)
        for child in children:
            backend.push(public_repo, child.digest, child)
        backend.push(public_repo, "multi", index)
        backend.push(f"{spec.name}/{REPOS['private']}", "v1", private)
        backend.push(f"{spec.name}/{REPOS['limited']}", "v1", limited)
        emulations.append(
            Emulation(
                spec,
                backend.url,
                public={REPOS["public"], REPOS["limited"]},
                private={REPOS["private"]},
                rate_limited={REPOS["limited"]},
            )
        )
    expected = {
        "single": single.digest,
        "index": index.digest,
        "platform": index.child("linux/arm64/v8").digest,
        "private": private.digest,
        "429": limited.digest,
    }
    ecr = next(spec for spec in SPECS if spec.name == "ecr")
    ecr_api = EcrApi(AWS_KEY, ecr.password)
    docker_config = work / "docker" / "config.json"
    docker_config.parent.mkdir()
    auths = {
        ("https://index.docker.io/v1/" if spec.name == "dockerhub" else spec.ref_host): {
            "username": spec.user,
            "password": spec.password,
        }
        for spec in SPECS
        if spec.name not in ("ecr", "acr", "ghcr")
    }
    docker_config.write_text(json.dumps({"auths": auths}))
    ghcr = next(spec for spec in SPECS if spec.name == "ghcr")
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": "namespace-secret",
            "AWS_CA_BUNDLE": str(ca),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(work / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-aws-credentials"),
            "GITHUB_TOKEN": ghcr.password,
        }
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECR", "AWS_PROFILE", "GH_TOKEN"):
        os.environ.pop(name, None)
    results: list[Result] = []
    table = routes(emulations, {ECR_API: ecr_api})
    with Edge(table, host="0.0.0.0", port=443, tls=(cert, key)) as edge:
        runner = Runner(edge, ca, work, docker_config)

        def run_cases(spec: Spec, emulation: Emulation) -> list[Result]:
            needs_creds = spec.anonymous == "none"
            public_how = "natural" if needs_creds else "anonymous"
            host = spec.ref_host
            plan: dict[str, tuple[str, str, str | None]] = {
                "single": (f"{host}/{REPOS['public']}:single", public_how, None),
                "index": (f"{host}/{REPOS['public']}:multi", public_how, None),
                "platform": (f"{host}/{REPOS['public']}:multi", public_how, "linux/arm64"),
                "missing-tag": (f"{host}/{REPOS['public']}:no-such-tag", public_how, None),
                "hidden-repo": (f"{host}/pub/no-such-repo:v1", "anonymous", None),
                "wrong-creds": (f"{host}/{REPOS['private']}:v1", "wrong", None),
                "private": (f"{host}/{REPOS['private']}:v1", "natural", None),
                "429": (f"{host}/{REPOS['limited']}:v1", public_how, None),
            }
            rows = []
            for case, (ref, how, platform) in plan.items():
                runner.clear_waits()
                library = runner.library(spec, ref, how, platform)
                waits = runner.waits
                emulation._limited_once.clear()  # skopeo meets the same 429 first
                witness = runner.skopeo(spec, ref, how, platform)
                rows.append(Result(spec.name, case, expected.get(case), library, witness, waits))
            return rows

        with ThreadPoolExecutor(len(SPECS), thread_name_prefix="registry-case") as pool:
            for rows in pool.map(run_cases, SPECS, emulations):
                results.extend(rows)
        # ECR's expired token: a 403 that says so (skopeo is not run: same request)
        if ecr is not None:
            expired = StaticKeychain({ecr.ref_host: ("AWS", "ecr-expired-password")})
            edge.reset()
            started = time.perf_counter()
            try:
                with Resolver(keychain=expired, ca_bundle=str(ca)) as resolver:
                    resolver.resolve(f"{ecr.ref_host}/{REPOS['private']}:v1")
                lib = Outcome(True, None, "", len(edge.hits), 0.0)
            except DigestError as exc:
                lib = Outcome(False, None, f"{type(exc).__name__}: {exc}", len(edge.hits), 0.0)
            lib.seconds = round(time.perf_counter() - started, 4)
            results.append(Result("ecr", "expired-token", None, lib, lib, []))
        results.append(
            Result(
                "ecr",
                "aws-api",
                None,
                Outcome(True, None, json.dumps([asdict(c) for c in ecr_api.calls]), 0, 0.0),
                Outcome(True, None, "", 0, 0.0),
                [],
            )
        )
    backend.close()
    out.write_text(json.dumps([asdict(result) for result in results], indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
