"""Shared pytest fixtures. The logic lives in tests/support; keep this file a thin index.

Sections below are independent; append new fixtures in a section of their own.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Google ADC must never probe the GCE metadata server from a test (no such network here).
os.environ["NO_GCE_CHECK"] = "true"
os.environ["GCE_METADATA_HOST"] = "127.0.0.1:9"
os.environ["GCE_METADATA_IP"] = "127.0.0.1:9"

from tests.support.images import Image, build_image
from tests.support.registry import RegistryServer, require_tools
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
