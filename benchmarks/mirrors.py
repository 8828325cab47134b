"""What a mirror costs, and what `image-digest diff` costs on a large stack.

    .venv/bin/python -m benchmarks.mirrors                # 50 references, 5,000 resources
    .venv/bin/python -m benchmarks.mirrors --refs 200 --resources 20000

Mirrors: N tags pushed to a real docker-registry, resolved (one cold `Resolver` each round)
directly, then through a real pull-through cache in front of it (first round cold: the cache
fetches from upstream; then warm), counting the resolver's requests. Through a mirror each tag
costs its HEAD at the mirror and one at the upstream, to notice a stale mirror.

diff: two Pulumi stack exports of R container resources over 300 repositories, read and
compared in-process (`read_deployment` + `compare`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from image_digest import Resolver
from image_digest.audit import compare, read_deployment
from tests.support.images import build_image
from tests.support.mirror import PullThroughCache
from tests.support.registry import RegistryServer


def mirrors(count: int) -> list[str]:
    rows = []
    with RegistryServer("plain") as upstream, PullThroughCache(upstream) as cache:
        refs = []
        for i in range(count):
            repo = f"bench/m{i % 10}"
            upstream.push(repo, f"v{i}", build_image(f"mirror bench {i}"))
            refs.append(upstream.reference(repo, f"v{i}"))
        rounds = [
            ("direct", {}),
            ("through the mirror, cold", {"mirrors": {upstream.host: cache.host}}),
            ("through the mirror, warm", {"mirrors": {upstream.host: cache.host}}),
        ]
        for label, options in rounds:
            with Resolver(**options) as resolver:  # type: ignore[arg-type]
                start = time.perf_counter()
                resolver.resolve_many(refs)
                elapsed = time.perf_counter() - start
                rows.append(
                    f"| {label} | {count} | {resolver.request_count()} | {elapsed * 1000:.0f} ms |"
                )
    return rows


def diff(resources: int) -> str:
    kind = "docker:index/container:Container"
    states = [
        {
            "urn": f"urn:pulumi:s::p::{kind}::c{i}",
            "type": kind,
            "custom": True,
            "inputs": {"image": f"registry.example.com/team/app{i % 300}:v1@sha256:{i % 300:064x}"},
        }
        for i in range(resources)
    ]
    document = {"version": 3, "deployment": {"manifest": {"time": "0"}, "resources": states}}
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "a.json"), Path(tmp, "b.json")
        a.write_text(json.dumps(document))
        b.write_text(json.dumps(document))
        start = time.perf_counter()
        same = compare(read_deployment(str(a)), read_deployment(str(b))).same
        elapsed = time.perf_counter() - start
    assert same
    return f"diff of two {resources}-resource stack exports: {elapsed * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=50)
    parser.add_argument("--resources", type=int, default=5000)
    args = parser.parse_args()
    print("| resolution | references | requests | time |")
    print("| --- | --- | --- | --- |")
    print("\n".join(mirrors(args.refs)))
    print()
    print(diff(args.resources))


if __name__ == "__main__":
    main()
