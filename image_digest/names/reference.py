"""Parse and normalize image references, following the distribution reference grammar.

Pure functions, no I/O. `parse("nginx")` gives registry `docker.io`, repository
`library/nginx`, no tag (which means `latest`), no digest. Error messages name the input
and the rule it broke, because references come from user configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from image_digest.errors import InvalidReferenceError, quoted

DOCKER_HUB = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})"
_DOMAIN_RE = re.compile(rf"{_HOST}(?::[0-9]+)?")
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_ALGORITHM_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*")
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_HEX_RE = re.compile(r"[a-f0-9]+")
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")


@dataclass(frozen=True, eq=False)
class Reference:
    """A parsed, normalized image reference.

    `tag` and `digest` are None when absent from the input; a reference with neither means
    the `latest` tag. `written_name` keeps the name exactly as the user wrote it, so that
    `repo_digest` can be given back in the user's own spelling.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None
    written_name: str = field(default="", repr=False)

    @property
    def name(self) -> str:
        """The canonical repository name, e.g. `docker.io/library/nginx`."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What goes after `/manifests/`: the digest if pinned, else the tag (or `latest`)."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def api_host(self) -> str:
        """The host that serves the registry API (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API_HOST if self.registry == DOCKER_HUB else self.registry

    @property
    def effective_tag(self) -> str | None:
        """The tag that will be looked up: the written tag, or `latest` if neither is given."""
        if self.tag is not None:
            return self.tag
        return None if self.digest else DEFAULT_TAG

    def with_digest(self, digest: str, *, keep_tag: bool = False) -> str:
        """The user's own name spelling pinned to `digest`: `nginx` -> `nginx@sha256:...`;
        `keep_tag` keeps a written tag for people and drift tools: `nginx:1.27@sha256:...`
        (the digest alone decides what is pulled)."""
        tag = f":{self.tag}" if keep_tag and self.tag is not None else ""
        return f"{self.written_name or self.name}{tag}@{digest}"

    def _key(self) -> tuple[str, str, str | None, str | None]:
        return (self.registry, self.repository, self.effective_tag, self.digest)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reference):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = self.name
        if self.effective_tag is not None:
            text += f":{self.effective_tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse(ref: str) -> Reference:
    """Parse `ref` into a normalized `Reference`, or raise `InvalidReferenceError`."""
    if not isinstance(ref, str):
        raise InvalidReferenceError(repr(ref), f"expected a string, got {type(ref).__name__}")
    if not ref:
        raise InvalidReferenceError(ref, "the reference is empty")
    bad = next((c for c in ref if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise InvalidReferenceError(
            ref,
            f"contains the character {bad!r}; whitespace and control characters are not allowed",
        )

    scheme, url, rest = ref.partition("://")
    if url:  # never valid: a tag holds no '/', a port only digits
        raise InvalidReferenceError(
            ref,
            f"an image reference has no URL scheme: drop {_quoted(scheme + url)}"
            f" and write {_quoted(rest)}",
        )

    remainder, _, digest = ref.partition("@")
    if "@" in ref:
        validate_digest(digest, reference=ref)
    else:
        digest = ""

    name, tag = _split_tag(remainder)
    if tag is not None and not _TAG_RE.fullmatch(tag):
        raise InvalidReferenceError(
            ref,
            f"tag {_quoted(tag)} must start with a letter, digit or '_' and continue with at "
            "most 127 letters, digits, '_', '.' or '-'",
        )
    if not name:
        raise InvalidReferenceError(ref, "the repository name is empty")
    # Like ParseNormalizedNamed: only the whole input can be mistaken for an image ID;
    # "docker.io/<64 hex>" or "<64 hex>:tag" name a repository.
    if _IDENTIFIER_RE.fullmatch(ref):
        raise InvalidReferenceError(
            ref,
            "a bare 64-character hexadecimal name is ambiguous with an image ID; write the "
            "registry explicitly (docker.io/...) or add a tag",
        )

    written_registry, path = _split_domain(name)
    if written_registry is not None and not _DOMAIN_RE.fullmatch(written_registry):
        raise InvalidReferenceError(
            ref,
            f"registry {_quoted(written_registry)} is not a valid host[:port] (letters, digits, "
            "'-' and '.', or an IPv6 address in brackets)",
        )
    registry = _normalize_registry(written_registry)
    official = registry == DOCKER_HUB and "/" not in path
    if official:
        path = f"library/{path}"
    # distribution/reference v0.6 bounds the path, not the domain; on Docker Hub the normalized
    # path (with "library/"). Checked before the path regex sees a huge input.
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReferenceError(ref, _too_long(len(path), official=official))
    for component in path.split("/"):
        if not _PATH_COMPONENT_RE.fullmatch(component):
            raise InvalidReferenceError(ref, _path_rule(component))
    return Reference(registry, path, tag, digest or None, written_name=name)


def validate_digest(digest: str, *, reference: str | None = None) -> str:
    """Return `digest` if it is `algorithm:hex` with the right length, else raise."""
    subject = reference if reference is not None else digest
    algorithm, sep, hex_part = digest.partition(":")
    if not sep or not _ALGORITHM_RE.fullmatch(algorithm) or not hex_part:
        raise InvalidReferenceError(
            subject,
            f"digest {_quoted(digest)} must be 'algorithm:hex', e.g. 'sha256:' + 64 hex digits",
        )
    expected = _HEX_LENGTH.get(algorithm)
    if expected is None:
        raise InvalidReferenceError(
            subject,
            f"digest algorithm {_quoted(algorithm)} is not supported (use sha256 or sha512)",
        )
    if len(hex_part) != expected or not _HEX_RE.fullmatch(hex_part):
        raise InvalidReferenceError(
            subject,
            f"{algorithm} digest must have exactly {expected} lowercase hex digits, "
            f"got {_quoted(hex_part)}",
        )
    return digest


def pinned_reference(ref: str, digest: str, *, keep_tag: bool = False) -> str:
    """`ref` pinned to `digest` in its own spelling: `nginx:1.27` -> `nginx@sha256:...`, or
    with `keep_tag` the readable `nginx:1.27@sha256:...`. A digest `ref` already carries is
    replaced; a reference written without a tag gets none (`nginx` -> `nginx@sha256:...`).
    The one rule every writer of pins (adapters, CLI, post-renderers) follows."""
    return parse(ref).with_digest(digest, keep_tag=keep_tag)


def has_digest(ref: str) -> bool:
    """True when `ref` is a valid reference that already carries a digest."""
    return parse(ref).digest is not None


def _split_tag(remainder: str) -> tuple[str, str | None]:
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        return remainder[:colon], remainder[colon + 1 :]
    return remainder, None


def _split_domain(name: str) -> tuple[str | None, str]:
    first, slash, rest = name.partition("/")
    if not slash:
        return None, name
    looks_like_host = (
        any(c in first for c in ".:") or first == "localhost" or first != first.lower()
    )
    return (first, rest) if looks_like_host else (None, name)


def _normalize_registry(registry: str | None) -> str:
    if registry is None or registry == "index.docker.io":
        return DOCKER_HUB
    return registry


def _quoted(part: str) -> str:
    """A piece of the input, quoted and short enough for a one-line message."""
    return quoted(part, 80)


def _too_long(length: int, *, official: bool) -> str:
    how = " including the 'library/' Docker Hub adds to official images" if official else ""
    return (
        f"the repository path (the name without its registry) is {length} characters long"
        f"{how}; at most {NAME_TOTAL_LENGTH_MAX} are allowed"
    )


def _path_rule(component: str) -> str:
    if not component:
        return "the repository path has an empty component (a leading, trailing or double '/')"
    if component != component.lower():
        return f"repository path component {_quoted(component)} must be lowercase"
    return (
        f"repository path component {_quoted(component)} must be lowercase letters and digits, "
        "separated by '.', '_', '__' or '-' (and may not start or end with a separator)"
    )
