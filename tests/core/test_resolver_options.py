"""`ResolverOptions`: the one options object every entry point accepts and forwards."""

from __future__ import annotations

import inspect
import pickle
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest

from image_digest import LockFile, ResolverOptions, ResolverSettings
from image_digest.entry_options import resolver_options
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def test_the_keywords_are_the_fields() -> None:
    """Adding an option is one field and one keyword, in one module."""
    assert set(ResolverSettings.__annotations__) == {f.name for f in fields(ResolverOptions)}


def test_keywords_are_checked_and_win_over_the_object() -> None:
    base = ResolverOptions(lock="a.lock", mode="locked")
    merged = resolver_options(base, mode="fallback", min_age="6h", total_timeout="12")  # type: ignore[typeddict-item]
    assert merged == ResolverOptions(
        lock="a.lock", mode="fallback", min_age=timedelta(hours=6), total_timeout=12.0
    )
    with pytest.raises(ValueError, match="mode must be one of"):
        resolver_options(mode="sometimes")
    with pytest.raises(TypeError, match="unknown resolver option lokc"):
        resolver_options(lokc="a.lock")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"options= takes an image_digest\.ResolverOptions"):
        resolver_options({"lock": "a.lock"})  # type: ignore[arg-type]


def test_every_entry_point_takes_the_object_and_the_keywords() -> None:
    import cdktf_digest
    import pulumi_digest

    entry_points = [
        pulumi_digest.pin,
        pulumi_digest.DigestImage.__init__,
        pulumi_digest.pin_images,
        cdktf_digest.pin,
        cdktf_digest.DigestImage.__init__,
        cdktf_digest.PinImages.__init__,
    ]
    for entry_point in entry_points:
        parameters = inspect.signature(entry_point).parameters
        assert "options" in parameters, entry_point
        assert parameters["settings"].kind is inspect.Parameter.VAR_KEYWORD, entry_point
        assert not {f.name for f in fields(ResolverOptions)} & set(parameters), entry_point


def test_the_pulumi_provider_keeps_every_option_across_pickling() -> None:
    from pulumi_digest.provider import DigestImageProvider

    options = ResolverOptions(
        lock="x.lock", mode="fallback", min_age=timedelta(hours=2), total_timeout=9.0
    )
    provider = pickle.loads(pickle.dumps(DigestImageProvider.configured(options)))
    assert provider._options() == options
    older = DigestImageProvider()
    del older.total_timeout  # pickled into state before the option existed
    assert older._options() == ResolverOptions()


def test_cdktf_pin_forwards_the_object_to_its_resolver(
    registry: RegistryServer, unique_repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cdktf_digest import pin

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    lock = tmp_path / "image-digest.lock"
    ref = f"{registry.host}/{unique_repo}:v1"

    pinned = pin(ref, options=ResolverOptions(lock=str(lock), total_timeout=10))

    assert pinned.endswith(f"@{digest}")
    assert [e.digest for e in LockFile(lock).entries()] == [digest]
