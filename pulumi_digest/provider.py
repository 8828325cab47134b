"""The dynamic provider behind `DigestImage`.

The SDK pickles an instance of this class (with dill) into the resource's inputs and state
(`__provider`), and the engine runs it in a separate `python -m pulumi.dynamic` process,
which unpickles it by reference to this module. So it holds configuration only: the fields of
a `ResolverOptions` (lock path, mode, labels, TLS, time bound). No resolver, session, token or
credential is ever captured; each call builds a fresh resolver, which finds credentials the
same way the program would (docker config, credential helpers, Google ADC).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime import rpc

from image_digest import DigestError, ResolvedImage
from image_digest.entry_options import ResolverOptions

from . import _engine_log

#: The properties a DigestImage keeps in its state; the diff looks at nothing else.
STATE_KEYS = ("image", "platform", "digest", "repo_digest", "labels")


def _unknown(value: Any) -> bool:
    """A value the engine does not know yet (the provider deserializes with keep_unknowns)."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def _state(image: str, platform: str | None, resolved: ResolvedImage) -> dict[str, Any]:
    state: dict[str, Any] = {
        "image": image,
        "digest": resolved.digest,
        "repo_digest": resolved.repo_digest,
    }
    if platform is not None:
        state["platform"] = platform
    if resolved.labels is not None:
        state["labels"] = dict(resolved.labels)
    return state


def _identity(props: dict[str, Any]) -> str:
    """A stable id: the image as written, plus the platform when one was asked for."""
    platform = props.get("platform")
    return f"{props['image']}#{platform}" if platform else str(props["image"])


class DigestImageProvider(ResourceProvider):
    """Resolves in `check` (so previews show real digests); diffs on the state keys only."""

    # Nothing secret is captured, so the serialized provider need not be a secret.
    serialize_as_secret_always = False

    def __init__(self, **options: Any) -> None:
        """`options`: fields of a `ResolverOptions` (the rest take their defaults), kept as
        plain attributes."""
        super().__init__()
        for name, value in ResolverOptions(**options).as_keywords().items():
            setattr(self, name, value)

    @classmethod
    def configured(cls, options: ResolverOptions) -> DigestImageProvider:
        """A provider that resolves with `options` (kept as plain attributes, for pickling)."""
        return cls(**options.as_keywords())

    def _options(self) -> ResolverOptions:
        # A provider pickled into older state (before an option existed) lacks its attribute
        # and gets the option's default.
        kept: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(ResolverOptions) if hasattr(self, f.name)
        }
        return ResolverOptions(**kept)

    def _resolve(self, image: str, platform: str | None) -> ResolvedImage:
        with self._options().build() as resolver:
            resolved = resolver.resolve(image, platform=platform)
        if resolved.warning:
            _engine_log.warn(f"DigestImage {image!r}: {resolved.warning}")
        return resolved

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        image, platform = news.get("image"), news.get("platform")
        inputs: dict[str, Any] = {"image": image}
        if platform is not None:
            inputs["platform"] = platform
        if _unknown(image) or _unknown(platform):
            return CheckResult(inputs, [])  # resolved on the run that knows the value
        if not isinstance(image, str) or not image:
            return CheckResult(inputs, [CheckFailure("image", "image must be a non-empty string")])
        if platform is not None and not isinstance(platform, str):
            return CheckResult(inputs, [CheckFailure("platform", "platform must be a string")])
        try:
            resolved = self._resolve(image, platform)
        except DigestError as error:
            return CheckResult(inputs, [CheckFailure("image", str(error))])
        return CheckResult(_state(image, platform, resolved), [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if any(_unknown(news.get(key)) for key in STATE_KEYS):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        changed = [key for key in STATE_KEYS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def _outputs(self, props: dict[str, Any]) -> dict[str, Any]:
        if "digest" not in props:  # check could not resolve (unknown input): do it now
            return _state(
                props["image"],
                props.get("platform"),
                self._resolve(props["image"], props.get("platform")),
            )
        return {key: props[key] for key in STATE_KEYS if key in props}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(_identity(props), self._outputs(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._outputs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """`pulumi refresh`: ask the registry again, so a moved tag shows up as drift."""
        image, platform = props["image"], props.get("platform")
        state = _state(image, platform, self._resolve(image, platform))
        return ReadResult(id_, state, dict(state))
