"""How `audit` scales with the number of resources: per-resource cost at 1,000 to 10,000.

    .venv/bin/python -m benchmarks.audit_scale                 # 1000 5000 10000
    .venv/bin/python -m benchmarks.audit_scale --sizes 2000

Each resource is a Terraform plan's Cloud Run service with two tagged containers, and every
tenth a Kubernetes manifest of a custom kind (read by shape): `tags_in` runs over all of them,
as `image-digest audit plan.json` does after reading the file. Timings live here and in
BENCHMARKS.md, never in tests.
"""

from __future__ import annotations

import argparse
import gc
import time

from image_digest.audit import Resource, tags_in


def resources(count: int) -> list[Resource]:
    made = []
    for index in range(count):
        if index % 10 == 9:
            props = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "metadata": {"name": f"r{index}"},
                "spec": {"template": {"spec": {"containers": [{"image": f"app{index}"}]}}},
            }
            made.append(Resource("pulumi", "kubernetes:argoproj.io/v1alpha1:Rollout", "r", props))
            continue
        containers = [{"image": f"gcr.io/p/app{index}:v1"}, {"image": "gcr.io/p/proxy:1"}]
        props = {"name": f"s{index}", "template": [{"containers": containers}]}
        made.append(Resource("terraform", "google_cloud_run_v2_service", f"s{index}", props))
    return made


def measure(count: int) -> tuple[float, int]:
    subject = resources(count)
    gc.collect()
    start = time.perf_counter()
    found = sum(len(tags_in(resource)) for resource in subject)
    return time.perf_counter() - start, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    args = parser.parse_args()
    print("| resources | findings | seconds | ms per resource |")
    print("| ---: | ---: | ---: | ---: |")
    for count in args.sizes:
        seconds, found = measure(count)
        print(f"| {count} | {found} | {seconds:.2f} | {seconds / count * 1000:.3f} |")


if __name__ == "__main__":
    main()
