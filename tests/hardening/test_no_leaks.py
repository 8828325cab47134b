"""Credentials never leak: not into exceptions, logs, CLI output or the lock file.

A recognizable secret is put in every credential source (docker config `auth` and
`identitytoken`, a `docker-credential-*` helper on PATH, explicit credentials, a token the
token server issues). A hostile registry then echoes whatever Authorization it receives into
every place that can end up in an error: the distribution error body (code and message, also
past the point where messages are shortened), the digest header, the Content-Type, index
platforms, a redirect URL, and its token endpoint's error page. Each case first checks that
the secret really reached the hostile server, then that it appears nowhere it must not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import stat
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import pytest
from werkzeug import Request, Response

from image_digest import DigestError, IdentityToken, Resolver
from image_digest.cli import main
from tests.hardening.conftest import BOUNDED
from tests.hardening.scripted import ScriptedRegistry, json_response
from tests.support.images import OCI_INDEX, OCI_MANIFEST, build_image

USER = "alice"
CANARY = "leak-canary"
SECRETS = {
    "config-auth": f"pw-{CANARY}-config-auth",
    "identitytoken": f"refresh-{CANARY}-identitytoken",
    "helper": f"pw-{CANARY}-helper",
    "explicit": f"pw-{CANARY}-explicit",
    "issued-token": f"tok-{CANARY}-issued",
}
IMAGE = build_image("hardening: no leaks")

ECHO_MODES = [
    "error-body",
    "long-message",
    "digest-header",
    "content-type",
    "platform",
    "unauthorized",
    "redirect-userinfo",
]
SOURCES = [
    ("config-auth", "basic"),
    ("config-auth", "bearer"),
    ("identitytoken", "bearer"),
    ("helper", "basic"),
    ("helper", "bearer"),
    ("explicit", "basic"),
    ("explicit", "bearer"),
    ("issued-token", "bearer"),
]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forbidden_forms(secret: str) -> list[str]:
    """Every spelling of `secret` that would count as a leak."""
    return [
        secret,
        b64(f"{USER}:{secret}"),
        b64(secret),
        quote(secret, safe=""),
        CANARY,
    ]


# -- the hostile registry ------------------------------------------------------------------------


@dataclass
class HostileRegistry:
    """Echoes the Authorization it gets (and, decoded, the Basic password) back everywhere.

    The repository name picks the echo: ``<mode>/app``. Its token endpoint issues
    ``<issued secret>.<what it received>``, so a token carries the client's own credential too.
    """

    registry: ScriptedRegistry
    trap: ScriptedRegistry
    scheme: str
    received: list[str] = field(default_factory=list)
    token_error: bool = False

    def install(self) -> None:
        server = self.registry.server
        server.expect_request("/v2/", method="GET").respond_with_handler(self.ping)
        for method in ("GET", "POST"):
            server.expect_request("/token", method=method).respond_with_handler(self.token)
        for method in ("HEAD", "GET"):
            server.expect_request(
                re.compile(r"/v2/.+/manifests/.+"), method=method
            ).respond_with_handler(self.manifest)
        self.trap.always("HEAD", "/trap", Response("", 401, {"WWW-Authenticate": "Basic"}))

    @property
    def challenge(self) -> dict[str, str]:
        if self.scheme == "basic":
            return {"WWW-Authenticate": 'Basic realm="hostile"'}
        realm = self.registry.url("/token")
        return {"WWW-Authenticate": f'Bearer realm="{realm}",service="hostile"'}

    def ping(self, request: Request) -> Response:
        return Response("", 401, self.challenge)

    def token(self, request: Request) -> Response:
        got = request.headers.get("Authorization", "")
        form = parse_qs(request.get_data(as_text=True))
        refresh = form.get("refresh_token", [""])[0]
        self.received += [got, refresh]
        if self.token_error:
            echo = f"bad request from {got} {refresh} {self._decoded(got)}"
            return json_response({"errors": [{"code": got, "message": echo}]}, 400)
        inner = refresh or got.removeprefix("Basic ").strip()
        token = SECRETS["issued-token"] + (f".{inner}" if inner else "")
        return json_response({"token": token, "expires_in": 300})

    def manifest(self, request: Request) -> Response:
        got = request.headers.get("Authorization", "")
        self.received.append(got)
        if not got:
            return Response("", 401, self.challenge)
        mode = request.path.split("/")[2]
        echo = f"{got} {self._decoded(got)}"
        secret_part = self._decoded(got).partition(":")[2] or got.partition(" ")[2]
        head = request.method == "HEAD"
        if mode == "ok":
            return Response(
                IMAGE.manifest,
                200,
                {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": IMAGE.digest},
            )
        if mode == "error-body":
            if head:
                return Response("", 405)
            body = {"errors": [{"code": got, "message": f"denied: {echo}"}]}
            return json_response(body, 403)
        if mode == "long-message":
            if head:
                return Response("", 405)
            body = {"errors": [{"code": "DENIED", "message": "x" * 190 + echo}]}
            return json_response(body, 403)
        if mode == "digest-header":
            return Response(IMAGE.manifest, 200, {"Docker-Content-Digest": f"sha256:{got}"})
        if mode == "content-type":
            headers = {"Docker-Content-Digest": IMAGE.digest, "Content-Type": f"text/{got}"}
            return Response(IMAGE.manifest, 200, headers)
        if mode == "platform":
            index = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_INDEX,
                    "manifests": [
                        {
                            "mediaType": OCI_MANIFEST,
                            "digest": IMAGE.digest,
                            "size": IMAGE.size,
                            "platform": {"os": got, "architecture": secret_part or "x"},
                        }
                    ],
                }
            ).encode()
            digest = "sha256:" + hashlib.sha256(index).hexdigest()
            headers = {"Content-Type": OCI_INDEX, "Docker-Content-Digest": digest}
            return Response(index, 200, headers)
        if mode == "unauthorized":
            body = {"errors": [{"code": "UNAUTHORIZED", "message": echo}]}
            return json_response(body, 401, self.challenge)
        if mode == "redirect-userinfo":
            port = self.trap.host.rsplit(":", 1)[1]
            location = f"http://{USER}:{quote(secret_part, safe='')}@localhost:{port}/trap"
            return Response("", 307, {"Location": location})
        raise AssertionError(f"unknown mode {mode}")

    @staticmethod
    def _decoded(authorization: str) -> str:
        scheme, _, value = authorization.partition(" ")
        if scheme != "Basic":
            return ""
        try:
            return base64.b64decode(value).decode()
        except ValueError:
            return ""


# -- credential sources --------------------------------------------------------------------------


@dataclass
class Source:
    name: str
    secret: str
    resolver_kwargs: dict[str, Any]
    #: how the secret must show up at the hostile server, to prove it was really sent
    sent_form: str


@pytest.fixture
def make_source(
    isolated_credentials: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, str], Source]:
    def make(name: str, host: str) -> Source:
        secret = SECRETS[name]
        config: dict[str, Any] = {}
        kwargs: dict[str, Any] = {}
        sent = b64(f"{USER}:{secret}")
        if name == "config-auth":
            config = {"auths": {host: {"auth": b64(f"{USER}:{secret}")}}}
        elif name == "identitytoken":
            config = {"auths": {host: {"identitytoken": secret}}}
            sent = secret
        elif name == "helper":
            bin_dir = tmp_path / "bin"
            bin_dir.mkdir()
            helper = bin_dir / "docker-credential-canary"
            answer = json.dumps({"ServerURL": host, "Username": USER, "Secret": secret})
            helper.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{answer}'\n")
            helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
            monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
            config = {"credHelpers": {host: "canary"}}
        elif name == "explicit":
            kwargs = {"credentials": {host: (USER, secret)}}
        elif name == "issued-token":
            sent = secret
        (isolated_credentials / "config.json").write_text(json.dumps(config))
        return Source(name, secret, kwargs, sent)

    return make


# -- what must stay clean ------------------------------------------------------------------------


def exception_texts(error: BaseException) -> list[str]:
    """str and repr of the error and of every cause and context (suppressed or not), its
    attributes and notes, and the formatted traceback."""
    texts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(vars(current))]
        texts += [str(note) for note in getattr(current, "__notes__", [])]
        pending += [current.__cause__, current.__context__]
    return texts


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = [caplog.text]
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), str(record.exc_info or "")]
    return texts


def assert_clean(texts: list[str], secret: str, where: str) -> None:
    for text in texts:
        for form in forbidden_forms(secret) + forbidden_forms(SECRETS["issued-token"]):
            assert form not in text, f"{where} leaks {form!r}: {text[:2000]}"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    yield caplog


@pytest.fixture
def hostile_for(
    fake: ScriptedRegistry, elsewhere: ScriptedRegistry
) -> Callable[..., HostileRegistry]:
    def make(scheme: str, *, token_error: bool = False) -> HostileRegistry:
        hostile = HostileRegistry(fake, elsewhere, scheme, token_error=token_error)
        hostile.install()
        return hostile

    return make


def _resolver(source: Source, **extra: Any) -> Resolver:
    return Resolver(**{**BOUNDED, **source.resolver_kwargs, **extra})


# -- the API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ECHO_MODES)
@pytest.mark.parametrize(("source_name", "scheme"), SOURCES)
def test_echoed_credentials_never_reach_errors_or_logs(
    fake, hostile_for, make_source, logs, waits, source_name, scheme, mode
):
    hostile = hostile_for(scheme)
    source = make_source(source_name, fake.host)
    ref = f"{fake.host}/{mode}/app:v1"

    with _resolver(source) as resolver, pytest.raises(DigestError) as error:
        resolver.resolve(ref, platform="linux/s390x" if mode == "platform" else None)

    assert any(source.sent_form in got for got in hostile.received), "secret never sent"
    assert ref in str(error.value)
    assert_clean(exception_texts(error.value), source.secret, "the exception")
    assert_clean(log_texts(logs), source.secret, "the log")


@pytest.mark.parametrize(("source_name", "scheme"), [s for s in SOURCES if s[1] == "bearer"])
def test_token_endpoint_echoing_credentials_leaks_nothing(
    fake, hostile_for, make_source, logs, waits, source_name, scheme
):
    hostile = hostile_for(scheme, token_error=True)
    source = make_source(source_name, fake.host)
    ref = f"{fake.host}/ok/app:v1"

    with _resolver(source) as resolver, pytest.raises(DigestError) as error:
        resolver.resolve(ref)

    if source_name != "issued-token":
        assert any(source.sent_form in got for got in hostile.received), "secret never sent"
    assert_clean(exception_texts(error.value), source.secret, "the exception")
    assert_clean(log_texts(logs), source.secret, "the log")


@pytest.mark.parametrize(("source_name", "scheme"), SOURCES)
def test_success_leaves_no_credential_in_the_lock_file_or_logs(
    fake, hostile_for, make_source, logs, tmp_path, source_name, scheme
):
    hostile = hostile_for(scheme)
    source = make_source(source_name, fake.host)
    lock = tmp_path / "locks" / "image-digest.lock"
    lock.parent.mkdir()
    ref = f"{fake.host}/ok/app:v1"

    with _resolver(source, lock=lock) as resolver:
        resolved = resolver.resolve(ref)

    assert resolved.digest == IMAGE.digest
    assert any(source.sent_form in got for got in hostile.received), "secret never sent"
    files = [path.read_text(errors="replace") for path in lock.parent.iterdir() if path.is_file()]
    assert files, "no lock file written"
    assert_clean(files, source.secret, "the lock file")
    assert_clean([repr(resolved), json.dumps(resolved.as_dict())], source.secret, "the result")
    assert_clean(log_texts(logs), source.secret, "the log")


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source_name", "scheme"), [s for s in SOURCES if s[0] != "explicit"])
def test_cli_output_and_lock_hold_no_credential(
    fake, hostile_for, make_source, logs, waits, tmp_path, capsys, source_name, scheme
):
    hostile = hostile_for(scheme)
    source = make_source(source_name, fake.host)
    lock = tmp_path / "cli.lock"
    refs = [f"{fake.host}/{mode}/app:v1" for mode in ["ok", *ECHO_MODES] if mode != "platform"]

    code = main(["resolve", "--lock", str(lock), *refs])
    platform_code = main(
        ["resolve", "--json", "--platform", "linux/s390x", f"{fake.host}/platform/app:v1"]
    )

    out, err = capsys.readouterr()
    assert code == 1 and platform_code == 1
    assert f"{refs[0]}\t{fake.host}/ok/app@{IMAGE.digest}" in out
    errors = [line for line in err.splitlines() if line.startswith("image-digest: error: ")]
    assert len(errors) == len(refs)  # one line per failure... and the platform
    assert f"recorded 1 new and 0 changed digests in lock file {lock}" in err
    assert "Traceback" not in err
    assert any(source.sent_form in got for got in hostile.received), "secret never sent"
    assert_clean([out, err], source.secret, "the CLI output")
    assert_clean([lock.read_text()], source.secret, "the lock file")
    assert_clean(log_texts(logs), source.secret, "the log")


# -- failing credential sources --------------------------------------------------------------------


def _helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    helper = bin_dir / "docker-credential-canary"
    helper.write_text("#!/bin/sh\ncat >/dev/null\n" + script)
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


SECRET = SECRETS["helper"]


@pytest.mark.parametrize(
    "script",
    [
        f"echo 'error: {SECRET}' >&2\nexit 3\n",
        f"echo '{SECRET}'\nexit 1\n",
        f"echo 'not json {SECRET}'\n",
        f'echo \'{{"Username": "{USER}", "Secret": ["{SECRET}"]}}\'\n',
        f'echo \'{{"Username": "{USER}"}} {SECRET}\'\n',
    ],
    ids=["stderr-and-exit-3", "stdout-and-exit-1", "not-json", "secret-not-a-string", "garbage"],
)
def test_failing_credential_helper_output_is_never_shown(
    fake, isolated_credentials, tmp_path, monkeypatch, logs, capsys, script
):
    fake.always("GET", "/v2/", Response("", 401, {"WWW-Authenticate": 'Basic realm="r"'}))
    _helper(tmp_path, monkeypatch, script)
    (isolated_credentials / "config.json").write_text(
        json.dumps({"credHelpers": {fake.host: "canary"}})
    )
    ref = f"{fake.host}/app:v1"

    with Resolver(**BOUNDED) as resolver, pytest.raises(DigestError) as error:
        resolver.resolve(ref)
    code = main(["resolve", ref])

    out, err = capsys.readouterr()
    assert code == 1 and "docker-credential-canary" in err
    assert_clean(exception_texts(error.value), SECRET, "the exception")
    assert_clean([out, err], SECRET, "the CLI output")
    assert_clean(log_texts(logs), SECRET, "the log")


@pytest.mark.parametrize(
    "config",
    [
        '{"auths": {"HOST": {"auth": "SECRET"}}}',
        '{"auths": {"HOST": {"auth": "B64NOCOLON"}}}',
        '{"auths": {"HOST": {"auth": "SECRET"}}',
        '{"auths": {"HOST": {"auth": "\\u00ff SECRET"}}}',
    ],
    ids=["not-base64", "no-colon", "invalid-json", "not-utf8"],
)
def test_broken_docker_config_never_quotes_its_content(
    fake, isolated_credentials, logs, capsys, config
):
    fake.always("GET", "/v2/", Response("", 401, {"WWW-Authenticate": 'Basic realm="r"'}))
    text = (
        config.replace("HOST", fake.host)
        .replace("B64NOCOLON", b64(SECRET))
        .replace("SECRET", SECRET)
    )
    (isolated_credentials / "config.json").write_text(text)
    ref = f"{fake.host}/app:v1"

    with Resolver(**BOUNDED) as resolver, pytest.raises(DigestError) as error:
        resolver.resolve(ref)
    code = main(["resolve", ref])

    out, err = capsys.readouterr()
    assert code == 1 and "config" in err
    assert_clean(exception_texts(error.value), SECRET, "the exception")
    assert_clean([out, err], SECRET, "the CLI output")
    assert_clean(log_texts(logs), SECRET, "the log")


def test_credential_values_have_no_secret_in_repr():
    from image_digest import Basic
    from image_digest.keychain import StaticKeychain

    values = [
        Basic(USER, SECRET),
        IdentityToken(SECRET),
        StaticKeychain({"r.example": (USER, SECRET)}),
    ]
    assert_clean([repr(v) for v in values] + [str(v) for v in values], SECRET, "a repr")


def test_non_latin1_password_goes_to_the_token_server_without_leaking(
    fake, hostile_for, logs, waits
):
    """requests' own Basic helper fails on non-latin-1 text with an exception whose repr
    holds the password; ours encodes UTF-8 like docker."""
    password = f"pässwörd-€-{CANARY}"
    hostile = hostile_for("bearer")
    ref = f"{fake.host}/error-body/app:v1"

    resolver = Resolver(**BOUNDED, credentials={fake.host: (USER, password)})
    with resolver, pytest.raises(DigestError) as error:
        resolver.resolve(ref)

    assert any(b64(f"{USER}:{password}") in got for got in hostile.received)
    assert_clean(exception_texts(error.value), password, "the exception")
    assert_clean(log_texts(logs), password, "the log")


@pytest.mark.parametrize(
    "content",
    [
        b'{"auths": {"r.example": {"auth": "SECRET"}}}\xff',
        b'{"auths": {"r.example": {"auth": "SECRET"}}',
        b'{"auths": {"r.example": {"auth": "SECRET"}}} trailing',
        b"[" * 100_000 + b'"SECRET"',
    ],
    ids=["not-utf8", "truncated", "trailing-garbage", "deeply-nested"],
)
def test_keychain_errors_hold_no_secret_even_in_their_context(tmp_path, content):
    """Called directly (no resolver boundary to scrub them), errors still carry nothing:
    no JSONDecodeError.doc or UnicodeDecodeError.object holding the file as context."""
    from image_digest.keychain import DockerConfigKeychain

    path = tmp_path / "config.json"
    path.write_bytes(content.replace(b"SECRET", SECRET.encode()))

    with pytest.raises(DigestError) as error:
        DockerConfigKeychain(path).credentials_for("r.example")

    assert str(path) in str(error.value)
    assert_clean(exception_texts(error.value), SECRET, "the exception")


@pytest.mark.parametrize(
    "script",
    [f"echo 'not json {SECRET}'\n", f"echo '{SECRET}'\nexec sleep 5\n"],
    ids=["not-json", "timeout"],
)
def test_helper_errors_hold_no_secret_even_in_their_context(tmp_path, monkeypatch, script):
    from image_digest.keychain import helper as helper_module

    monkeypatch.setattr(helper_module, "HELPER_TIMEOUT_SECONDS", 0.3)
    _helper(tmp_path, monkeypatch, script)

    with pytest.raises(DigestError) as error:
        helper_module.helper_credentials("canary", "r.example", registry="r.example")

    assert "docker-credential-canary" in str(error.value)
    assert_clean(exception_texts(error.value), SECRET, "the exception")
