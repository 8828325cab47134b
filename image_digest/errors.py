"""One exception hierarchy for everything that can go wrong while pinning an image.

Every message names the reference (and the registry where one was contacted), says what was
tried and what the user can do. No message ever contains a credential: callers build messages
from references, hosts, status codes and registry error codes only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def shorten(text: str, limit: int = 200) -> str:
    """Keep error messages readable when the input is huge (fuzzed or pasted by mistake)."""
    if len(text) <= limit:
        return text
    return f"{text[: limit // 2]}...({len(text)} characters)...{text[-20:]}"


def printable(text: str, limit: int = 200) -> str:
    """`text` with control characters escaped, shortened: safe to print on one line (a peer's
    text can hold newlines or terminal escape sequences)."""
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shorten(escaped, limit)


def quoted(text: str, limit: int = 200) -> str:
    """`text` as a quoted literal for a message: control characters escaped, then shortened
    (escaping first, so a string of escapes cannot grow the message past `limit`)."""
    return shorten(repr(text), limit)


def install_extra(*extras: str) -> str:
    """How to install an extra of this unpublished package: from a clone, or from its wheel."""
    named = " or ".join(f"'.[{extra}]'" for extra in extras)
    return (
        f"pip install {named} in a clone of image-digest "
        f"(or its wheel: 'dist/image_digest-*.whl[{extras[0]}]')"
    )


class InputLimitError(ValueError):
    """A JSON or YAML document breaks a limit set against hostile input (nesting depth, YAML
    aliases): refused before any walk over it, so it cannot exhaust the stack, memory or time.
    `source` names the input (a file, stdin) and `rule` the limit it broke."""

    def __init__(self, source: str, rule: str):
        super().__init__(f"{source}: {rule}")
        self.source = source
        self.rule = rule


class DigestError(Exception):
    """Base class: an image reference could not be turned into a digest."""

    def __init__(self, message: str, *, reference: str | None = None, registry: str | None = None):
        super().__init__(message)
        self.reference = reference
        self.registry = registry


class InvalidReferenceError(DigestError, ValueError):
    """The input is not a valid image reference; `rule` names the grammar rule it broke."""

    def __init__(self, reference: str, rule: str):
        super().__init__(
            f"invalid image reference {quoted(reference)}: {rule}", reference=reference
        )
        self.rule = rule


class InvalidPlatformError(DigestError, ValueError):
    """A platform string is not `os/arch[/variant]`."""


class InvalidOptionError(DigestError, ValueError):
    """A resolver option (or the environment variable standing in for it) cannot be used, e.g.
    a CA bundle that does not exist: raised when the `Resolver` is made, before any request."""


class AuthenticationError(DigestError):
    """The registry refused our credentials (or we had none and it wants some)."""


class NotFoundError(DigestError):
    """The registry answered, but the image is not there."""


class RepositoryNotFoundError(NotFoundError):
    """The repository does not exist (or is invisible to these credentials)."""


class TagNotFoundError(NotFoundError):
    """The repository exists but the tag (or digest) does not."""


class PlatformNotFoundError(NotFoundError):
    """The image is an index that has no manifest for the requested platform."""


class RegistryError(DigestError):
    """The registry failed, misbehaved or was unreachable.

    `status` is the last HTTP status (None for connection-level failures); `code` is the
    registry's own error code from the distribution error body, when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        reference: str | None = None,
        registry: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ):
        super().__init__(message, reference=reference, registry=registry)
        self.status = status
        self.code = code


class NotARegistryError(RegistryError):
    """The host answers HTTP, but not as a container registry (no `/v2/` API): a web site, a
    package index, a mistyped host name."""


class DigestMismatchError(RegistryError):
    """The registry's digest header and the manifest body it served disagree."""


class LockError(DigestError):
    """The lock file is unreadable, corrupt, foreign, or lacks a reference in locked mode."""


class BatchResolutionError(DigestError):
    """Some references in a batch failed; `errors` has each one's cause, `results` the rest."""

    def __init__(self, errors: Mapping[str, DigestError], results: Mapping[str, object]):
        lines = [f"{len(errors)} of {len(errors) + len(results)} image references failed:"]
        lines += [f"  {ref}: {err}" for ref, err in errors.items()]
        super().__init__("\n".join(lines))
        self.errors = dict(errors)
        self.results = dict(results)


class PinError(DigestError, ValueError):
    """Images a program uses could not be pinned; none is deployed by tag instead.

    The one error every adapter entry point raises (`pulumi_digest` and `cdktf_digest`
    re-export it). `errors` maps each reference to its cause; `uses` maps each reference to
    who asked for it (a CDKTF construct path, a Pulumi resource); `resource_type` and
    `resource_name` name the Pulumi resource when there is one. It is a `ValueError` too,
    which the Pulumi SDK reports as a bad input naming the resource that consumed the value.
    """

    def __init__(
        self,
        errors: Mapping[str, Exception],
        uses: Mapping[str, Sequence[str]] | None = None,
        *,
        resource_type: str | None = None,
        resource_name: str | None = None,
    ):
        if uses is None:
            who = f"{resource_type} {resource_name!r}" if resource_name else "(unknown resource)"
            uses = {reference: [who] for reference in errors}
        lines = [
            f"{where}: cannot pin {quoted(reference)}: {type(error).__name__}: {error}"
            for reference, error in errors.items()
            for where in uses.get(reference, ("(unknown resource)",))
        ]
        lines.append("refusing to deploy by tag instead")
        super().__init__("\n".join(lines), reference=next(iter(errors), None))
        self.errors = dict(errors)
        self.uses = {reference: list(paths) for reference, paths in uses.items()}
        self.resource_type = resource_type
        self.resource_name = resource_name

    @classmethod
    def at(cls, where: str, reference: str, error: Exception) -> PinError:
        """The error for one reference used in one place."""
        return cls({reference: error}, {reference: [where]})
