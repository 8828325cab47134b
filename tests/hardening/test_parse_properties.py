"""`parse` under hypothesis: valid references round-trip; anything else fails cleanly.

The strategy builds references from the distribution reference grammar
(https://github.com/distribution/reference/blob/main/reference.go):

    reference       := name [ ":" tag ] [ "@" digest ]
    name            := [domain '/'] path-component ['/' path-component]*
    domain          := host [':' port-number]
    host            := domain-name | IPv4address | \\[ IPv6address \\]
    domain-name     := domain-component ['.' domain-component]*
    domain-component:= /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    path-component  := alpha-numeric [separator alpha-numeric]*
    alpha-numeric   := /[a-z0-9]+/
    separator       := /[_.]|__|[-]+/
    tag             := /[\\w][\\w.-]{0,127}/
    digest          := algorithm ":" hex      (sha256: 64 hex, sha512: 128 hex here)
"""

from __future__ import annotations

import contextlib
import os
import re
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from image_digest import InvalidReferenceError, has_digest, needs_resolution, parse
from image_digest.errors import quoted

#: PARSE_EXAMPLES=5000 for a deeper run (it passed 5000 when written).
EXAMPLES = int(os.environ.get("PARSE_EXAMPLES", "300"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

LOWER_ALNUM = string.ascii_lowercase + string.digits
ALNUM = string.ascii_letters + string.digits
WORD = ALNUM + "_"

alpha_numeric = st.text(LOWER_ALNUM, min_size=1, max_size=12)
separator = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def path_component(draw: st.DrawFn) -> str:
    parts = [draw(alpha_numeric)]
    for _ in range(draw(st.integers(0, 3))):
        parts += [draw(separator), draw(alpha_numeric)]
    return "".join(parts)


@st.composite
def domain_component(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from(ALNUM))
    middle = draw(st.text(ALNUM + "-", max_size=10))
    return draw(st.sampled_from(ALNUM)) + middle + draw(st.sampled_from(ALNUM))


@st.composite
def host(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["name", "ipv4", "ipv6", "localhost"]))
    if kind == "localhost":
        return "localhost"
    if kind == "ipv4":
        return ".".join(str(draw(st.integers(0, 255))) for _ in range(4))
    if kind == "ipv6":
        groups = draw(
            st.lists(st.text("0123456789abcdefABCDEF", max_size=4), min_size=2, max_size=8)
        )
        return "[" + (":".join(groups) or "::") + ":1]"
    components = draw(st.lists(domain_component(), min_size=1, max_size=4))
    return ".".join(components)


@st.composite
def domain(draw: st.DrawFn) -> str:
    text = draw(host())
    if draw(st.booleans()):
        text += f":{draw(st.integers(0, 65535))}"
    return text


tag = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(WORD),
    st.text(WORD + ".-", max_size=127),
)
digest = st.one_of(
    st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}"),
    st.text("0123456789abcdef", min_size=128, max_size=128).map(lambda h: f"sha512:{h}"),
)


@st.composite
def grammar_reference(draw: st.DrawFn) -> str:
    """A string the grammar accepts (it may still break a length rule)."""
    components = draw(st.lists(path_component(), min_size=1, max_size=6))
    if draw(st.booleans()):
        name = f"{draw(domain())}/{'/'.join(components)}"
    else:
        # Without a domain, a first component with a '.' would be read as one (like docker's
        # splitDockerDomain); see test_a_dotted_first_component_is_a_registry.
        if len(components) > 1:
            components[0] = components[0].replace(".", "_")
        name = "/".join(components)
    if draw(st.booleans()):
        name += f":{draw(tag)}"
    if draw(st.booleans()):
        name += f"@{draw(digest)}"
    return name


def _is_ambiguous_image_id(text: str) -> bool:
    """Only a whole input of 64 hex digits, as in distribution's ParseNormalizedNamed."""
    return bool(re.fullmatch(r"[a-f0-9]{64}", text))


@SETTINGS
@given(grammar_reference())
@example("a" * 247)  # 255 once normalized to library/...
@example("a" * 248)
@example("localhost:5000/" + "b" * 255)
@example("localhost:5000/" + "b" * 256)
@example("Example.COM:443/x/y:TAG_1.0-rc@sha256:" + "0" * 64)
@example("[::1]:5000/app@sha512:" + "f" * 128)
def test_valid_references_round_trip(text: str) -> None:
    try:
        first = parse(text)
    except InvalidReferenceError as error:
        # The grammar allows it; only a length rule or the image-ID ambiguity may refuse it.
        assert error.reference == text
        assert "255" in str(error) or "ambiguous" in str(error), str(error)
        return
    canonical = str(first)
    again = parse(canonical)

    assert again == first and hash(again) == hash(first)
    assert str(again) == canonical
    assert (again.registry, again.repository, again.digest) == (
        first.registry,
        first.repository,
        first.digest,
    )
    assert again.effective_tag == first.effective_tag
    assert len(first.repository) <= 255
    assert not _is_ambiguous_image_id(text)


HEX64 = "0123456789abcdef" * 4

#: Vectors from distribution/reference v0.6 (reference.go, normalize.go): input -> repository.
VALID_VECTORS = {
    f"docker.io/{HEX64}": "library/" + HEX64,
    f"example.com/{HEX64}": HEX64,
    f"{HEX64}:v1": "library/" + HEX64,
    "example.com/" + "a" * 255: "a" * 255,
    "a" * 247: "library/" + "a" * 247,
    "docker.io/" + "a" * 247: "library/" + "a" * 247,
    "team/" + "a" * 250: "team/" + "a" * 250,
}
#: Input -> words the message must contain (besides the quoted input).
INVALID_VECTORS = {
    HEX64: "ambiguous with an image ID",
    "example.com/" + "a" * 256: "path (the name without its registry) is 256 characters long",
    "a" * 248: "256 characters long including the 'library/' Docker Hub adds",
    "docker.io/" + "a" * 248: "256 characters long including the 'library/'",
    "team/" + "a" * 251: "is 256 characters long; at most 255",
}


@pytest.mark.parametrize("text", VALID_VECTORS, ids=lambda t: f"{t[:20]}..{len(t)}")
def test_valid_vectors(text: str) -> None:
    reference = parse(text)

    assert reference.repository == VALID_VECTORS[text]
    assert parse(str(reference)) == reference


@pytest.mark.parametrize("text", INVALID_VECTORS, ids=lambda t: f"{t[:20]}..{len(t)}")
def test_invalid_vectors_name_the_input_and_the_rule(text: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse(text)

    assert caught.value.reference == text
    assert quoted(text) in str(caught.value)
    assert INVALID_VECTORS[text] in str(caught.value)


def test_a_dotted_first_component_is_a_registry() -> None:
    assert parse("foo.bar/baz").registry == "foo.bar"
    assert parse("foo.bar/baz").repository == "baz"
    try:
        parse("0.0_0/0")
    except InvalidReferenceError as error:
        assert "'0.0_0' is not a valid host" in str(error)
    else:
        raise AssertionError("0.0_0/0 parsed")


@SETTINGS
@given(grammar_reference(), digest)
def test_pinning_keeps_the_users_spelling_and_parses(text: str, pin: str) -> None:
    try:
        reference = parse(text)
    except InvalidReferenceError:
        return
    pinned = reference.with_digest(pin)

    again = parse(pinned)

    assert again.digest == pin
    assert (again.registry, again.repository) == (reference.registry, reference.repository)


# Characters that matter to the grammar, plus anything at all.
_GRAMMAR_CHARS = "aAz09._-:/@[]"
arbitrary = st.one_of(
    st.text(),
    st.text(st.sampled_from(_GRAMMAR_CHARS), max_size=80),
    st.text(st.sampled_from(_GRAMMAR_CHARS + " \t\n\x00\x1b\u202e\u00e9\u0130"), max_size=300),
    grammar_reference().flatmap(
        lambda valid: st.tuples(st.integers(0, len(valid)), st.text(min_size=1, max_size=3)).map(
            lambda cut: valid[: cut[0]] + cut[1] + valid[cut[0] :]
        )
    ),
)


@SETTINGS
@given(arbitrary)
@example("")
@example(" ")
@example("nginx:")
@example("nginx@")
@example("@sha256:" + "a" * 64)
@example("a" * 100_000)
@example("\x00")
@example("[")
@example("[::1/app")
def test_any_text_parses_or_fails_with_an_invalid_reference_error_naming_it(text: str) -> None:
    try:
        reference = parse(text)
    except InvalidReferenceError as error:
        assert error.reference == text
        message = str(error)
        assert quoted(text) in message
        assert error.rule and error.rule in message
        assert len(message) < 1000
        return
    assert parse(str(reference)) == reference


@SETTINGS
@given(arbitrary)
def test_the_filters_never_raise_anything_else(text: str) -> None:
    assert needs_resolution(text) in (True, False)
    with contextlib.suppress(InvalidReferenceError):
        has_digest(text)


@SETTINGS
@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())))
def test_non_strings_are_invalid_references(value: object) -> None:
    try:
        parse(value)  # type: ignore[arg-type]
    except InvalidReferenceError as error:
        assert "expected a string" in str(error)
    else:
        raise AssertionError(f"{value!r} parsed")
