"""How often a docker credential helper runs, and what it costs, while one `Resolver` pins N
tags of one registry (issue 19.3).

A real basic-auth docker-registry holds N tags; a `credsStore` helper script (Docker
Desktop's setting) logs each run. Two set-ups, each `resolve_many` (16 workers) then a loop
of `resolve` over the same tags (cached after the first pass, so only auth is paid):

- `store`: the store holds the registry's password (Docker Desktop after `docker login`).
- `store + short-lived`: the store knows nothing for the registry, and a later keychain
  gives a credential with an expiry, as a cloud keychain (ECR, ACR, Google ADC) does.

    .venv/bin/python -m benchmarks.helper_runs [--tags 10 100]

Run it against another checkout (`PYTHONPATH=/path/to/it`) for the "before" column.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from image_digest import Resolver
from image_digest.keychain import Basic, DockerConfigKeychain, MultiKeychain, StaticKeychain
from tests.support.images import build_image
from tests.support.registry import RegistryServer

HELPER = """#!{python}
import json, sys
server = sys.stdin.read().strip()
with open({runs!r}, "a") as runs:
    runs.write(server + "\\n")
known = json.loads({known!r})
if server not in known:
    print("credentials not found in native keychain")
    sys.exit(1)
print(json.dumps({{"ServerURL": server, "Username": known[server][0], "Secret": known[server][1]}}))
"""


def _install(home: Path, known: dict[str, tuple[str, str]]) -> Path:
    runs, bin_dir = home / "runs.log", home / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "docker-credential-desktop"
    script.write_text(HELPER.format(python=sys.executable, runs=str(runs), known=json.dumps(known)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    (home / "config.json").write_text(json.dumps({"credsStore": "desktop"}))
    runs.write_text("")
    return runs


def _measure(refs: list[str], make: Callable[[], Resolver], runs: Path) -> tuple[int, float]:
    start = time.perf_counter()
    with make() as resolver:
        resolver.resolve_many(refs)
        for ref in refs:
            resolver.resolve(ref)
    return len(runs.read_text().splitlines()), time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tags", type=int, nargs="+", default=[10, 100])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, RegistryServer("basic") as registry:
        home = Path(tmp)
        os.environ["DOCKER_CONFIG"] = str(home)
        os.environ["PATH"] = f"{home / 'bin'}{os.pathsep}{os.environ['PATH']}"
        image = build_image("helper runs")
        print("| set-up | tags | helper runs | wall (s) |")
        print("| --- | ---: | ---: | ---: |")
        for count in args.tags:
            refs = [registry.reference("bench/helper", f"v{n}") for n in range(count)]
            for n in range(count):
                registry.push("bench/helper", f"v{n}", image)
            runs = _install(home, {registry.host: (registry.username, registry.password)})
            found, wall = _measure(refs, Resolver, runs)
            print(f"| store | {count} | {found} | {wall:.2f} |")

            runs = _install(home, {})
            expiring = Basic(registry.username, registry.password, expires_at=time.time() + 3600)

            def short_lived(expiring: Basic = expiring) -> Resolver:
                keychain = MultiKeychain(
                    [DockerConfigKeychain(), StaticKeychain({registry.host: expiring})]
                )
                return Resolver(keychain=keychain)

            found, wall = _measure(refs, short_lived, runs)
            print(f"| store + short-lived | {count} | {found} | {wall:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
