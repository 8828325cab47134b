"""Eight public registries as they really behave, under their real names, over TLS.

`scenario.py` runs in a private network and mount namespace (`unshare -n -m`): its hosts
file sends registry-1.docker.io, auth.docker.io, ghcr.io, gcr.io, us-docker.pkg.dev, an ECR
host and its API, myregistry.azurecr.io, quay.io and harbor.example.com to one TLS Edge that
emulates each registry's documented behaviour (`behaviours.py`) in front of a real
docker-registry. skopeo goes through the same emulation as the witness: for every case it
must get the same digest, or fail too. Requests are counted at the Edge.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.registries.behaviours import SPECS, SPECS_BY_NAME
from tests.registries.scenario import CASES, write_hosts_file
from tests.support.registry import in_ci, require_tools

ROOT = Path(__file__).resolve().parents[2]


def _unshare_refusal() -> str | None:
    """Why a network + mount namespace cannot be made here, or None when it can."""
    try:
        done = subprocess.run(
            ["unshare", "-n", "-m", "true"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare cannot run: {type(exc).__name__}"
    return None if done.returncode == 0 else f"unshare -n -m refused: {done.stderr.strip()}"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    require_tools()
    refusal = _unshare_refusal()
    if refusal is not None:
        if in_ci():
            pytest.fail(f"CI=true and {refusal}", pytrace=False)
        pytest.skip(refusal)
    work = tmp_path_factory.mktemp("registries")
    hosts, out = work / "hosts", work / "results.json"
    write_hosts_file(hosts)
    script = (
        f'ip link set lo up && mount --bind "{hosts}" /etc/hosts && '
        f'exec "{sys.executable}" -m tests.registries.scenario "{out}"'
    )
    proxies = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in proxies}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        ["unshare", "-n", "-m", "sh", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"scenario failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    rows = json.loads(out.read_text())
    (work / "summary.txt").write_text(summary(rows))
    print(summary(rows))
    return {(row["registry"], row["case"]): row for row in rows}


def summary(rows: list[dict[str, Any]]) -> str:
    lines = ["registry           case          library (requests, s)   skopeo (requests, s)"]
    for row in rows:
        lib, sko = row["library"], row["skopeo"]
        lines.append(
            f"{row['registry']:18} {row['case']:13} {'ok' if lib['ok'] else 'fail':4} "
            f"{lib['requests']:2} {lib['seconds']:.3f}          {'ok' if sko['ok'] else 'fail':4} "
            f"{sko['requests']:2} {sko['seconds']:.3f}"
        )
    return "\n".join(lines)


def minimal_requests(registry: str, case: str) -> int:
    """The fewest requests that answer the case, counted at the Edge (every host).

    Bearer registries: the /v2/ ping, one token, one HEAD. ECR: its GetAuthorizationToken
    call, the ping, the HEAD (Basic). ACR: the ping, /oauth2/exchange, the token, the HEAD.
    A platform child: + the index GET (the child's digest is in it). A missing tag: the HEAD
    404, a GET for its error, a tags list to tell a missing repository apart. A 429: the HEAD
    once more after Retry-After. A refusal: + one GET of the error text a HEAD cannot carry.
    """
    spec = SPECS_BY_NAME[registry]
    base = {"ecr": 3, "acr": 4}.get(registry, 3)
    if case in ("single", "index", "private"):
        return base
    if case == "platform":
        return base + 1
    if case == "missing-tag":
        return base + 2
    if case == "429":
        return base + 1
    if case == "wrong-creds":
        return 3 if spec.basic else 2  # Basic: ping, HEAD 401, GET; Bearer: ping, token 401
    if case == "hidden-repo":
        if spec.anonymous in ("none", "token-refused-for-hidden") and not spec.basic:
            return 2  # ping, token refused
        return 3 if spec.basic else 4  # ping, (token,) HEAD refused, GET for its text
    raise AssertionError(case)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("registry", [spec.name for spec in SPECS])
def test_library_and_skopeo_agree(results, registry, case):
    row = results[(registry, case)]
    library, skopeo = row["library"], row["skopeo"]
    spec = SPECS_BY_NAME[registry]

    assert library["ok"] == skopeo["ok"], (library["error"], skopeo["error"])
    assert library["digest"] == skopeo["digest"]
    if row["expected"] is not None:
        assert library["ok"], library["error"]
        assert library["digest"] == row["expected"]
    else:
        assert not library["ok"]
    if case == "missing-tag":
        assert library["error"].startswith("TagNotFoundError: no-such-tag not found")
    if case in ("hidden-repo", "wrong-creds"):
        error = library["error"]
        assert error.startswith("AuthenticationError: ")
        assert "does not exist, or your credentials cannot see it" in error
        assert "to log in, run: " in error
    if case == "hidden-repo" and spec.name == "artifact-registry":
        assert "answered HTTP 403" in library["error"]
        assert "(or it may not exist)" in library["error"]
    if case == "hidden-repo" and spec.anonymous == "public-only" and not spec.basic:
        assert f"it said '{spec.refusal[1]}: " in library["error"]
    if case == "429":
        assert row["waits"] == [1]  # Retry-After honoured (recorded, not slept)
    assert library["requests"] == minimal_requests(registry, case), summary([row])


def test_ecr_expired_token_is_a_403_that_says_so(results):
    error = results[("ecr", "expired-token")]["library"]["error"]
    assert "answered HTTP 403" in error
    assert "Your authorization token has expired. Reauthenticate and try again." in error
    assert "aws ecr get-login-password --region us-east-1" in error


def test_ecr_asked_aws_once_per_resolver_by_its_real_api_name(results):
    calls = json.loads(results[("ecr", "aws-api")]["library"]["error"])
    assert calls and all(
        call == {"target": calls[0]["target"], "region": "us-east-1", "service": "ecr"}
        for call in calls
    )
    assert len(calls) == 6  # the six ECR cases resolved with the natural keychain
