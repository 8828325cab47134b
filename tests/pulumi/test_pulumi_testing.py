"""`pulumi_digest.testing`: a user's unit test of a program with `pin_images()` and a
`DigestImage`, under Pulumi's mocks, pins against the real registry; Pulumi's own `set_mocks`
gets a clear error instead of images silently left as tags.

Each test runs a user's files with a Python of its own, as pytest would in the user's project:
`set_mocks` configures the process-wide Pulumi runtime.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from tests.pulumi.harness.unit_tests import (
    assert_the_docs_unit_test_pins,
    pushed,
    run,
    write_user_project,
)
from tests.support.images import build_image
from tests.support.registry import RegistryServer

HINT = (
    "in unit tests, set the mocks with pulumi_digest.testing.set_mocks(...) instead of "
    "pulumi.runtime.set_mocks(...) (see docs/pulumi.md, 'Unit tests')"
)


def test_the_docs_unit_test_pins_images_against_the_registry(
    tmp_path: Path, registry: RegistryServer, unique_repo: str
) -> None:
    assert_the_docs_unit_test_pins(sys.executable, tmp_path, registry, unique_repo)


def test_pulumis_own_set_mocks_is_told_to_use_the_testing_one(
    tmp_path: Path, registry: RegistryServer, unique_repo: str
) -> None:
    names, _ = pushed(registry, unique_repo)
    write_user_project(tmp_path, names)
    (tmp_path / "test_infra.py").write_text(
        (tmp_path / "test_infra.py")
        .read_text()
        .replace(
            "from pulumi_digest.testing import set_mocks", "from pulumi.runtime import set_mocks"
        )
    )

    done = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_infra.py",
        cwd=tmp_path,
    )

    assert done.returncode != 0
    assert (
        "RuntimeError: pin_images(): pulumi.runtime.set_mocks's mock monitor never runs stack "
        f"transforms, so every image would stay a tag; {HINT}"
    ) in done.stdout
    assert "no running event loop" not in done.stdout + done.stderr


def test_pin_images_outside_a_program_says_where_it_can_run(tmp_path: Path) -> None:
    program = "from pulumi_digest import pin_images\npin_images()\n"

    done = run(sys.executable, "-c", program, cwd=tmp_path)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "RuntimeError: pin_images() can only run inside a Pulumi program (pulumi up / preview) "
        "or under mocks that apply transforms: the Pulumi SDK registers stack transforms on the "
        f"program's running event loop, and there is none here; {HINT}"
    )


def test_a_digest_image_that_cannot_be_resolved_fails_the_unit_test_naming_it(
    tmp_path: Path, registry: RegistryServer, unique_repo: str
) -> None:
    registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    program = textwrap.dedent(
        f"""
        import pulumi
        from pulumi_digest import DigestImage
        from pulumi_digest.testing import set_mocks

        class Mocks(pulumi.runtime.Mocks):
            def new_resource(self, args):
                return args.name + "-id", args.inputs

            def call(self, args):
                return {{}}

        set_mocks(Mocks(), preview=True)
        missing = DigestImage("missing", image="{registry.reference(unique_repo, "nope")}")

        @pulumi.runtime.test
        def check():
            return missing.digest

        check()
        """
    )

    done = run(sys.executable, "-c", program, cwd=tmp_path)

    assert done.returncode == 1
    reference = registry.reference(unique_repo, "nope")
    assert (
        "image_digest.errors.PinError: pulumi-python:dynamic/pulumi-digest:DigestImage "
        f"'missing': cannot pin '{reference}': TagNotFoundError: "
    ) in done.stderr, done.stderr[-3000:]
    assert "refusing to deploy by tag instead" in done.stderr
