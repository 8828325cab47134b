"""`image-digest external`: a program for Terraform's `external` data source.

Terraform's protocol (registry.terraform.io/providers/hashicorp/external, "External Program
Protocol"): the program reads one JSON object whose values are all strings on stdin, and
writes one JSON object whose values are all strings on stdout; on failure it writes the
reason to stderr and exits non-zero, and Terraform shows that text. So nothing but the
result ever goes to stdout, and every failure (bad JSON, a wrong key, a registry that is
down) is one `image-digest: error: ...` line and exit status 1.

Query: `image` (required), `platform` (optional, `os/arch[/variant]`; empty means none).
Result: `digest`, `repo_digest`, `media_type` (empty when the lock file did not record it).
The lock file and mode come from `IMAGE_DIGEST_LOCK` and `IMAGE_DIGEST_MODE`, as for every
other entry point.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from image_digest.commands.options import add_registry_options, add_verify_option, options_from
from image_digest.commands.report import EXIT_FAILED, EXIT_OK, error, warn
from image_digest.errors import DigestError, InputLimitError
from image_digest.names.platform import parse_platform
from image_digest.names.reference import parse
from image_digest.safe_load import load_json

QUERY_KEYS = ("image", "platform")
#: The most stdin `external` reads: Terraform's query is one small object of strings, and
#: reading without a bound lets any producer hold the run and its memory.
MAX_QUERY_BYTES = 1024 * 1024
_EXPECTED = 'it sends one JSON object of strings, e.g. {"image": "nginx:1.27"}'


class QueryError(Exception):
    """The query Terraform sent cannot be answered as it is."""


def run_external(args: argparse.Namespace) -> int:
    try:
        query = read_query(read_stdin())
        with options_from(args).build() as resolver:
            result = resolver.resolve(query["image"], query.get("platform"))
    except (QueryError, DigestError, ValueError, TypeError) as exc:
        error(str(exc))
        return EXIT_FAILED
    if result.warning:
        warn(result.warning)
    answer = {
        "digest": result.digest,
        "repo_digest": result.repo_digest,
        "media_type": result.media_type or "",
    }
    print(json.dumps(answer))
    return EXIT_OK


def read_stdin() -> str:
    """Terraform's query from stdin, at most `MAX_QUERY_BYTES` of it."""
    text = sys.stdin.read(MAX_QUERY_BYTES + 1)
    if len(text) > MAX_QUERY_BYTES:
        raise QueryError(
            "external: stdin holds more than 1 MiB, which is no query from Terraform's "
            f"external data source; {_EXPECTED}"
        )
    return text


def read_query(text: str) -> dict[str, str]:
    """The query's `image` and, when not empty, `platform`: both checked before any request."""
    try:
        query = load_json(text, "external: stdin")
    except InputLimitError as exc:
        raise QueryError(f"{exc}; {_EXPECTED}") from None
    except ValueError as exc:
        raise QueryError(
            f"external: stdin is not JSON ({exc}); Terraform's external data source sends "
            'one JSON object, e.g. {"image": "nginx:1.27"}'
        ) from None
    if not isinstance(query, Mapping):
        raise QueryError(
            f"external: the query must be a JSON object of strings, not a "
            f'{type(query).__name__}: set query = {{ image = "nginx:1.27" }}'
        )
    unknown = sorted(set(query) - set(QUERY_KEYS))
    if unknown:
        raise QueryError(
            f"external: unknown query key(s) {', '.join(map(repr, unknown))}: the query takes "
            f"{' and '.join(QUERY_KEYS)} only"
        )
    not_strings = sorted(key for key, value in query.items() if not isinstance(value, str))
    if not_strings:
        raise QueryError(
            f"external: query value(s) of {', '.join(map(repr, not_strings))} must be strings, "
            "as Terraform sends them"
        )
    if not query.get("image"):
        raise QueryError(
            'external: the query has no image: set query = { image = "nginx:1.27" } '
            "(platform is optional)"
        )
    parse(query["image"])
    answer = {"image": query["image"]}
    if query.get("platform"):
        parse_platform(query["platform"])
        answer["platform"] = query["platform"]
    return answer


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `external` to the CLI."""
    external = commands.add_parser(
        "external",
        description='Read {"image": REF, "platform": "os/arch"} (platform optional) on stdin '
        'and write {"digest", "repo_digest", "media_type"} on stdout, as Terraform\'s '
        'external data source expects: data "external" "app" { program = '
        '["image-digest", "external"], query = { image = "nginx:1.27" } }. Errors go to '
        "stderr with exit status 1. IMAGE_DIGEST_LOCK and IMAGE_DIGEST_MODE apply.",
    )
    add_registry_options(external)
    add_verify_option(external)
    external.set_defaults(run=run_external)
