"""Hostile files and stdin: refused with one line naming the input and the rule, never a hang,
an exhausted memory or a traceback.

Each case runs the real CLI as a subprocess under an address-space limit (`RLIMIT_AS`) and a
wall-clock `timeout=`: a reader that expands an alias bomb, or reads all of stdin, dies of
`MemoryError` or is killed, and the test fails on that, not on a timed assertion. No case
touches the network.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from image_digest import LockFile
from image_digest.errors import LockError
from image_digest.safe_load import MAX_DEPTH

ROOT = Path(__file__).resolve().parents[2]
#: The address space a CLI run may use: several times what a normal run needs, a fraction
#: of what the hostile inputs below cost without their limits.
MEMORY_LIMIT = 512 * 1024 * 1024
#: Far above a normal run (about a second), far below an alias bomb's minutes.
TIME_LIMIT = 60

#: A "billion laughs": 9 levels of 9 aliases, 9**9 (387 million) strings once expanded.
ALIAS_BOMB = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n"
    '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"  {name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
)
#: The same growth through merge keys, which PyYAML flattens when it builds mappings.
MERGE_BOMB = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: merge}\n"
    "a0: &a0 {image: 'nginx:1.27', x: 1}\n"
    + "".join(
        f"a{n}: &a{n} {{<<: [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]}}\n" for n in range(1, 16)
    )
)

#: Twenty documents, each expanding to about 100,000 nodes: each under the bound, not together.
MANY_SMALL_BOMBS = "".join(
    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    for _ in range(20)
)


def limited() -> None:
    """preexec_fn: bound the child's address space."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(
    *args: str | Path, stdin: object = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "image_digest", *map(str, args)],
        stdin=stdin,  # type: ignore[arg-type]
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        env=env,
        cwd=ROOT,
        preexec_fn=limited,
        check=False,
    )


def one_error_line(stderr: str) -> str:
    """The single `image-digest: error:` line a refused input gives, checked for shape."""
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr[-2000:]
    assert lines[0].startswith("image-digest: error: "), lines[0]
    assert len(lines[0]) < 400, lines[0]
    return lines[0]


def nested_json(levels: int) -> str:
    return "[" * levels + "]" * levels


def depth(value: object) -> int:
    """How deep lists and dicts nest in `value` (a scalar is 0)."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


@pytest.mark.parametrize(
    "bomb",
    [ALIAS_BOMB, MERGE_BOMB, MANY_SMALL_BOMBS],
    ids=["aliases", "merge-keys", "many-documents"],
)
def test_a_yaml_alias_bomb_is_refused_naming_the_file_and_the_rule(tmp_path, bomb):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)

    done = run_cli("audit", path)

    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert f"{path}: YAML aliases expand it to more than 1,000,000 nodes" in line
    assert done.stdout == ""


def test_yaml_anchors_and_merge_keys_within_the_bound_still_work(tmp_path):
    path = tmp_path / "deploy.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "x-container: &base {name: web, image: 'nginx:1.27', ports: [{containerPort: 80}]}\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - <<: *base\n        - <<: *base\n          name: second\n"
        "          image: 'redis:7'\n"
    )

    done = run_cli("audit", path)

    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{path}: Deployment/web: spec.template.spec.containers[].image: nginx:1.27",
        f"{path}: Deployment/web: spec.template.spec.containers[].image: redis:7",
        f"{path}: Deployment/web: x-container.image: nginx:1.27",
    ]


def test_a_yaml_alias_that_contains_itself_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nspec: &s {containers: [*s]}\n")

    done = run_cli("audit", path)

    assert done.returncode == 2
    assert "a YAML alias refers to a node that contains it" in one_error_line(done.stderr)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", nested_json(200_000)),
        ("deep-limit.json", nested_json(MAX_DEPTH + 1)),
        ("deep-flow.yaml", "kind: Pod\nspec: " + nested_json(200_000) + "\n"),
        ("deep-block.yaml", "kind: Pod\n" + "".join(f"{'  ' * i}k:\n" for i in range(2_000))),
        (
            "deep-secret.json",
            json.dumps(
                {
                    "version": 3,
                    "deployment": {
                        "manifest": {},
                        "resources": [
                            {
                                "urn": "urn:pulumi:dev::app::acme:Worker::w",
                                "type": "acme:Worker",
                                "inputs": {
                                    "4dabf18193072939515e22adb298388d": (
                                        "1b47061264138c4ac30d75fd1eb44270"
                                    ),
                                    "plaintext": nested_json(100_000),
                                },
                            }
                        ],
                    },
                }
            ),
        ),
    ],
    # Short ids: the test id is in PYTEST_CURRENT_TEST, which a subprocess inherits, and a
    # 200,000-character one breaks its environment (E2BIG) before the CLI runs.
    ids=["deep.json", "deep-limit.json", "deep-flow.yaml", "deep-block.yaml", "deep-secret.json"],
)
def test_deep_nesting_in_audit_is_one_line_and_exit_2(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)

    done = run_cli("audit", path)

    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert f"{path}: nested more than {MAX_DEPTH} levels deep" in line


def test_the_deepest_accepted_document_with_a_deep_json_string_inside_is_audited(tmp_path):
    """The limit leaves the walkers room: a document nested to the limit, holding a container
    definitions string nested to the limit too, is audited without a RecursionError."""
    inner: object = [{"name": "app", "image": "nginx:1.27"}]
    for _ in range(MAX_DEPTH - 2):
        inner = [inner]
    props: object = {"container_definitions": json.dumps(inner), "image": "redis:7"}

    def plan(props: object) -> dict[str, object]:
        change = {"actions": ["create"], "after": {"input": props}}
        return {
            "format_version": "1.2",
            "resource_changes": [
                {"address": "terraform_data.deep", "type": "terraform_data", "change": change}
            ],
        }

    while depth(plan({"nested": [props]})) <= MAX_DEPTH:
        props = {"nested": [props]}
    assert depth(plan(props)) == MAX_DEPTH and depth(inner) == MAX_DEPTH
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan(props)))

    done = run_cli("audit", "--json", path)

    assert done.returncode == 1, done.stderr[-2000:]
    found = {f["reference"] for f in json.loads(done.stdout)["findings"]}
    assert found == {"nginx:1.27", "redis:7"}


def test_external_refuses_deep_json_on_stdin_in_one_line(tmp_path):
    query = tmp_path / "query.json"
    query.write_text(nested_json(200_000))

    with query.open() as stdin:
        done = run_cli("external", stdin=stdin)

    assert done.returncode == 1  # every failure of Terraform's external program is 1
    line = one_error_line(done.stderr)
    assert f"external: stdin: nested more than {MAX_DEPTH} levels deep" in line
    assert done.stdout == ""


def test_external_reads_at_most_1_mib_of_stdin(tmp_path):
    """A 2 GiB stdin (a sparse file: no disk, no memory here) is refused after 1 MiB, within a
    512 MiB address space."""
    query = tmp_path / "huge.json"
    with query.open("w") as out:
        out.write('{"image": "')
        out.truncate(2 * 1024**3)

    with query.open() as stdin:
        done = run_cli("external", stdin=stdin)

    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "external: stdin holds more than 1 MiB, which is no query from Terraform's" in line


def test_pin_vars_refuses_deep_json_and_writes_nothing(tmp_path):
    variables = tmp_path / "images.tfvars.json"
    variables.write_text('{"app_image": "nginx:1.27", "x": ' + nested_json(200_000) + "}")
    output = tmp_path / "out.tfvars.json"

    done = run_cli("pin-vars", variables, "-o", output)

    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert f"{variables}: nested more than {MAX_DEPTH} levels deep" in line
    assert line.endswith("(nothing was written)")
    assert not output.exists()


def test_a_deeply_nested_lock_file_is_a_lock_error(tmp_path):
    lock = tmp_path / "image-digest.lock"
    text = '{"format": "image-digest.lock/v1", "images": ' + nested_json(200_000) + "}"
    lock.write_text(text)

    with pytest.raises(LockError, match=f"lock file {lock}: nested more than {MAX_DEPTH} levels"):
        LockFile(lock).entries()
    done = run_cli("check", "--lock", lock)

    assert done.returncode == 2
    assert f"lock file {lock}: nested more than {MAX_DEPTH}" in one_error_line(done.stderr)
    assert lock.read_text() == text
