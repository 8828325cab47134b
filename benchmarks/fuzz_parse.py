"""Fuzz `image_digest.parse` and the CLI's argument handling with generated and mutated references.

    .venv/bin/python -m benchmarks.fuzz_parse                  # 100,000 inputs, seed 0
    .venv/bin/python -m benchmarks.fuzz_parse --count 1000000 --seed 7

Inputs: references built from the distribution grammar, the same mutated (inserted, deleted,
replaced, duplicated, case-flipped, truncated, repeated characters, drawn from the grammar's
own characters, whitespace, control characters, non-ASCII, lone surrogates), random text, and
very long strings. Every input goes through `parse` and, in batches, through
`image_digest.cli.main(["resolve", "--mode", "locked", ...])` in-process, against an empty lock
in locked mode: no network, and every valid tag fails with a lock error, every digest resolves.

A crash is any of:
- `parse` raising anything but `InvalidReferenceError`, or an error that does not name its input
  (`.reference`, and the shortened input in the message), or a message over 1,000 characters;
- a parsed reference whose canonical form does not parse back to an equal reference;
- `main` raising (other than argparse's usage exit 2), returning other than 0/1/2, printing a
  traceback, an error line that is not one printable line (or is over MAX_LINE characters),
  or a line count that does not match the references it was given.
Exit status 1 if there was any crash; the first ones are printed with their input.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from image_digest import InvalidReferenceError, parse
from image_digest.cli import main
from image_digest.errors import quoted

LOWER = string.ascii_lowercase + string.digits
ALNUM = string.ascii_letters + string.digits
WORD = ALNUM + "_"
HEX = "0123456789abcdef"
INTERESTING = [
    *"aZ09._-:/@[]",
    *[" ", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u00a0", "\u200b", "\u202e"],
    *["é", "İ", "ß", "ﬁ", "\u0130", "\U0001f600", "\udcff", "\ud800", "%", "\\", "'", '"'],
    *["::", "//", "@@", "sha256:", "sha512:", "localhost", "docker.io/", "library/"],
]
#: A valid reference is at most ~520 characters and is quoted in full (a user copies it); an
#: invalid one is shortened to ~200. So no error line has a reason to be longer than this.
MAX_LINE = 3000


# -- generation -----------------------------------------------------------------------------------


def _path_component(rng: random.Random) -> str:
    parts = ["".join(rng.choices(LOWER, k=rng.randint(1, 10)))]
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        parts.append(rng.choice([".", "_", "__", "-", "--"]))
        parts.append("".join(rng.choices(LOWER, k=rng.randint(1, 8))))
    return "".join(parts)


def _domain(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.1:
        host = "localhost"
    elif kind < 0.2:
        host = ".".join(str(rng.randint(0, 255)) for _ in range(4))
    elif kind < 0.3:
        host = (
            "[" + ":".join("".join(rng.choices(HEX, k=rng.randint(0, 4))) for _ in range(3)) + "]"
        )
    else:
        labels = []
        for _ in range(rng.randint(1, 4)):
            size = rng.randint(1, 12)
            label = "".join(rng.choices(ALNUM + "-", k=size))
            labels.append(rng.choice(ALNUM) + label.strip("-") + rng.choice(ALNUM))
        host = ".".join(labels)
    if rng.random() < 0.4:
        host += f":{rng.randint(0, 65535)}"
    return host


def grammar_reference(rng: random.Random) -> str:
    path = "/".join(_path_component(rng) for _ in range(rng.randint(1, 4)))
    name = f"{_domain(rng)}/{path}" if rng.random() < 0.5 else path
    if rng.random() < 0.6:
        name += ":" + rng.choice(WORD) + "".join(rng.choices(WORD + ".-", k=rng.randint(0, 30)))
    if rng.random() < 0.3:
        if rng.random() < 0.8:
            name += "@sha256:" + "".join(rng.choices(HEX, k=64))
        else:
            name += "@sha512:" + "".join(rng.choices(HEX, k=128))
    return name


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        kind = rng.randrange(8)
        if kind == 0:
            text = text[:at] + rng.choice(INTERESTING) + text[at:]
        elif kind == 1 and text:
            text = text[:at] + text[at + 1 :]
        elif kind == 2 and text:
            text = text[:at] + rng.choice(INTERESTING) + text[at + 1 :]
        elif kind == 3:
            end = rng.randint(at, len(text))
            text = text[:end] + text[at:end] + text[end:]
        elif kind == 4:
            text = text.swapcase() if rng.random() < 0.3 else text[:at] + text[at:].upper()
        elif kind == 5:
            text = text[:at]
        elif kind == 6 and text:
            text = text[:at] + text[at:][:1] * rng.randint(2, 300) + text[at + 1 :]
        else:
            text = rng.choice(INTERESTING) + text + rng.choice(INTERESTING)
    return text


def random_text(rng: random.Random) -> str:
    size = rng.randint(0, 120)
    pool = rng.choice(
        [
            "".join(INTERESTING),
            string.printable,
            LOWER + ":/@.",
            "".join(chr(c) for c in range(0, 0x250)),
        ]
    )
    return "".join(rng.choices(pool, k=size))


def long_text(rng: random.Random) -> str:
    unit = rng.choice(["a", "a/", "a.", ":", "@", "-", "\x00", "é", grammar_reference(rng)])
    return (unit * rng.randint(300, 100_000 // max(1, len(unit))))[:100_000]


def inputs(count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    makers: list[tuple[float, Callable[[random.Random], str]]] = [
        (0.30, grammar_reference),
        (0.45, lambda r: mutate(r, grammar_reference(r))),
        (0.22, random_text),
        (0.03, long_text),
    ]
    weights = [w for w, _ in makers]
    for _ in range(count):
        (_, make) = rng.choices(makers, weights=weights)[0]
        yield make(rng)


# -- checking -------------------------------------------------------------------------------------


@dataclass
class Report:
    inputs: int = 0
    valid: int = 0
    invalid: int = 0
    cli_runs: int = 0
    cli_references: int = 0
    crashes: list[tuple[str, str]] = field(default_factory=list)

    def crash(self, what: str, text: str) -> None:
        self.crashes.append((what, text))


def check_parse(text: str, report: Report) -> bool:
    """True when `text` is a valid reference."""
    try:
        reference = parse(text)
    except InvalidReferenceError as error:
        report.invalid += 1
        message = str(error)
        if error.reference != text or quoted(text) not in message:
            report.crash("InvalidReferenceError does not name its input", text)
        if len(message) > 1000:
            report.crash(f"error message of {len(message)} characters", text)
        return False
    except Exception as error:  # the whole point: anything else is a crash
        report.crash(f"parse raised {type(error).__name__}: {error}", text)
        return False
    report.valid += 1
    try:
        again = parse(str(reference))
    except Exception as error:
        report.crash(f"canonical form {str(reference)!r} does not parse: {error}", text)
        return True
    if again != reference or str(again) != str(reference):
        report.crash(f"canonical form {str(reference)!r} parses differently", text)
    return True


def check_cli(refs: list[str], lock: str, report: Report) -> None:
    """One `image-digest resolve --mode locked` run over `refs` (after `--`)."""
    distinct = list(dict.fromkeys(refs))
    pinned = 0
    for ref in distinct:
        with contextlib.suppress(InvalidReferenceError):
            pinned += parse(ref).digest is not None
    out, err = io.StringIO(), io.StringIO()
    argv = ["resolve", "--mode", "locked", "--lock", lock, "--", *refs]
    report.cli_runs += 1
    report.cli_references += len(refs)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else -1
    except Exception as error:
        report.crash(f"main raised {type(error).__name__}: {error}", repr(refs))
        return
    stdout, stderr = out.getvalue(), err.getvalue()
    expected_code = 1 if pinned < len(distinct) else 0
    problems = []
    if code != expected_code:
        problems.append(f"exit {code}, expected {expected_code}")
    if "Traceback" in stderr:
        problems.append("traceback on stderr")
    out_lines, err_lines = stdout.splitlines(), stderr.splitlines()
    if len(out_lines) != pinned:
        problems.append(f"{len(out_lines)} result lines for {pinned} pinned references")
    if len(err_lines) != len(distinct) - pinned:
        problems.append(f"{len(err_lines)} error lines for {len(distinct) - pinned} failures")
    for line in err_lines:
        if not line.startswith("image-digest: error: ") or not line.isprintable():
            problems.append(f"bad error line {line[:200]!r}")
            break
        if len(line) > MAX_LINE:
            problems.append(f"error line of {len(line)} characters")
            break
    if problems:
        report.crash("CLI: " + "; ".join(problems), repr(refs)[:2000])


def check_cli_options(text: str, report: Report) -> None:
    """A reference given without `--`: it may be taken for an option, which is a usage error."""
    out, err = io.StringIO(), io.StringIO()
    report.cli_runs += 1
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["resolve", "--mode", "locked", "--lock", os.devnull + ".x", text])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else -1
    except Exception as error:
        report.crash(f"main raised {type(error).__name__}: {error}", text)
        return
    if code not in (0, 1, 2) or "Traceback" in err.getvalue():
        report.crash(f"CLI without '--': exit {code}", text)


def run(count: int, seed: int, batch: int, cli: bool) -> Report:
    report = Report()
    with tempfile.TemporaryDirectory(prefix="fuzz-parse-") as home:
        os.environ["DOCKER_CONFIG"] = home
        for name in ("IMAGE_DIGEST_MODE", "IMAGE_DIGEST_LOCK"):
            os.environ.pop(name, None)
        lock = os.path.join(home, "empty.lock")  # never created: locked mode only reads it
        pending: list[str] = []
        for text in inputs(count, seed):
            report.inputs += 1
            check_parse(text, report)
            if not cli:
                continue
            pending.append(text)
            if len(pending) >= batch:
                check_cli(pending, lock, report)
                pending = []
            if text.startswith("-") and report.inputs % 10 == 0:
                check_cli_options(text, report)
        if cli and pending:
            check_cli(pending, lock, report)
        if os.path.exists(lock):
            report.crash("locked mode wrote the lock file", lock)
    return report


def main_(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--count", type=int, default=100_000)
    options.add_argument("--seed", type=int, default=0)
    options.add_argument("--batch", type=int, default=100, help="references per CLI run")
    options.add_argument("--no-cli", action="store_true", help="fuzz parse only")
    args = options.parse_args(argv)
    started = time.monotonic()
    report = run(args.count, args.seed, args.batch, cli=not args.no_cli)
    elapsed = time.monotonic() - started
    print(
        f"fuzz_parse: {report.inputs} inputs (seed {args.seed}): {report.valid} valid, "
        f"{report.invalid} invalid; CLI: {report.cli_runs} runs over "
        f"{report.cli_references} references; {len(report.crashes)} crashes; {elapsed:.1f} s"
    )
    for what, text in report.crashes[:20]:
        print(f"  CRASH {what}\n    input: {text[:300]!r}")
    return 1 if report.crashes else 0


if __name__ == "__main__":
    sys.exit(main_())
