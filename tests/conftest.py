"""Shared pytest fixtures. The logic lives in tests/support; keep this file a thin index.

Sections below are independent; append new fixtures in a section of their own.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Google ADC must never probe the GCE metadata server from a test (no such network here).
os.environ["NO_GCE_CHECK"] = "true"
os.environ["GCE_METADATA_HOST"] = "127.0.0.1:9"
os.environ["GCE_METADATA_IP"] = "127.0.0.1:9"

from tests.support.images import Image, build_image
from tests.support.registry import RegistryServer, in_ci, require_tools
from tests.support.token_server import TokenServer

# --- Real registries (docker-registry 2.8 on 127.0.0.1; see tests/support/registry.py) -------
# Session-scoped: each starts in well under a second and tests isolate via `unique_repo`.
# Under CI=true a missing docker-registry/skopeo/htpasswd fails the test instead of skipping.


@pytest.fixture(scope="session")
def registry() -> Iterator[RegistryServer]:
    """Anonymous registry: pull and push need no credentials."""
    require_tools()
    with RegistryServer("plain") as server:
        yield server


@pytest.fixture(scope="session")
def basic_registry() -> Iterator[RegistryServer]:
    """htpasswd registry: user ``alice``, password in ``.password``; anonymous gets 401."""
    require_tools()
    with RegistryServer("basic", username="alice", password="basic-secret") as server:
        yield server


@pytest.fixture(scope="session")
def token_registry() -> Iterator[RegistryServer]:
    """Bearer-token registry; ``.token_server`` issues tokens (anonymous: pull only)."""
    require_tools()
    with (
        TokenServer(username="alice", password="token-secret") as tokens,
        RegistryServer(
            "token", username="alice", password="token-secret", token_server=tokens
        ) as server,
    ):
        yield server


# --- Per-test names -------------------------------------------------------------------------

_repo_counter = itertools.count(1)


@pytest.fixture
def unique_repo(request: pytest.FixtureRequest) -> str:
    """A repository name no other test in this session uses, e.g. ``t/test-push-oci-3``."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60].strip("-")
    return f"t/{name or 'test'}-{next(_repo_counter)}"


@pytest.fixture
def make_image(unique_repo: str) -> Callable[..., Image]:
    """``build_image`` whose default content is unique per call and per test."""
    calls = itertools.count(1)

    def make(content: str | None = None, **kwargs: Any) -> Image:
        if content is None:
            content = f"{unique_repo}#{next(calls)}"
        return build_image(content, **kwargs)

    return make


# --- Parallel runs (pytest-xdist, `--dist loadgroup` in scripts/test.sh) -------------------
# Tests are spread one by one over the workers, except these, which stay together in one worker
# so what they share is made once: the jsii kernels with every provider binding loaded (tens of
# seconds per framework and process), the wheel built from a clean clone, the registries scenario.
# A file's own `pytest.mark.xdist_group` wins.

XDIST_GROUPS = {
    "tests/cdktf/": "jsii",
    "tests/test_docs_blocks.py": "jsii",  # one docs/cdktf.md block synthesizes in-process
    "tests/test_package.py": "package",
    "tests/registries/": "registries",
    "tests/core/test_batch.py": "core-batch",
    "tests/core/test_cloud_keychains.py": "cloud-keychains",
}


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too, so --strict-markers accepts it where xdist is not installed.
    config.addinivalue_line("markers", "xdist_group(name): run in the worker of this group")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        where = Path(os.path.relpath(item.path, config.rootpath)).as_posix()
        for prefix, group in XDIST_GROUPS.items():
            if where.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))
                break


# --- Under CI=true nothing may be skipped ---------------------------------------------------
# A skip hides a part that did not run (a missing tool, a refused namespace): in CI it fails
# the run, also when the skip happened in an xdist worker (the controller sees every report).


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not in_ci() or reporter is None or exitstatus != pytest.ExitCode.OK:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; failing the run", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
