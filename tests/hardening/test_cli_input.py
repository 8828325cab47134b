"""The CLI on bad input: one clear line per bad reference, exit 2 (a usage error, as in a `--from`
file: nothing is resolved), never a traceback.

Run in-process (`image_digest.cli.main`) so that NUL and other bytes argv cannot carry still
reach the parser; one case runs the real entry point as a subprocess. No case touches the
network: every reference is invalid, or carries a digest, or the mode is `locked`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from image_digest.cli import main

DIGEST = "sha256:" + "a" * 64
LONG = "a" * 100_000

BAD_REFERENCES = {
    "empty": "",
    "space": " ",
    "tab": "\t",
    "newline-inside": "ngi\nnx",
    "surrounding-whitespace": " nginx:1.25 ",
    "nul": "nginx\x00",
    "escape-sequence": "\x1b[31mred\x1b[0m",
    "bell-and-backspace": "ng\x07\x08inx",
    "right-to-left-override": "nginx\u202e52.1:",
    "zero-width-space": "ngi\u200bnx",
    "non-ascii": "nginx:é",
    "uppercase": "Nginx",
    "only-colon": ":",
    "only-at": "@",
    "empty-tag": "nginx:",
    "empty-digest": "nginx@",
    "bad-digest": "nginx@sha256:abc",
    "unknown-algorithm": "nginx@md5:" + "a" * 32,
    "double-slash": "a//b",
    "unclosed-ipv6": "[::1:5000/app",
    "very-long-name": LONG,
    "very-long-tag": "nginx:" + "t" * 10_000,
    "very-long-with-controls": ("\x01" * 5000) + LONG,
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean_error_lines(err: str, expected_lines: int) -> None:
    lines = err.splitlines()
    assert len(lines) == expected_lines, err[:2000]
    assert "Traceback" not in err
    for line in lines:
        assert line.startswith("image-digest: error: "), line[:300]
        assert len(line) < 600, f"{len(line)} characters: {line[:300]}"
        assert all(c.isprintable() for c in line), repr(line[:300])


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("ref", BAD_REFERENCES.values(), ids=BAD_REFERENCES.keys())
def test_each_bad_reference_gives_one_clear_line_and_exit_2(capsys, ref):
    code, out, err = run(capsys, "resolve", "--", ref)

    assert code == 2
    assert out == ""
    assert_clean_error_lines(err, 1)
    assert "invalid image reference" in err


def test_many_bad_references_give_one_line_each_and_nothing_resolves(capsys):
    refs = [r for r in BAD_REFERENCES.values() if r.strip() == r or not r.strip()]
    distinct = list(dict.fromkeys(refs))

    code, out, err = run(capsys, "resolve", "--", *distinct, f"nginx@{DIGEST}")

    assert code == 2
    assert out == ""
    assert_clean_error_lines(err, len(distinct))
    assert err.rstrip().endswith("(nothing was resolved)")


def test_references_that_look_like_options_are_usage_errors(capsys):
    code, out, err = run(capsys, "resolve", "--not-an-option")

    assert code == 2 and out == ""
    assert "Traceback" not in err and "usage:" in err


@pytest.mark.parametrize(
    "platform", ["", "linux", "linux/", "/amd64", "linux/amd64/v8/extra", "linux /amd64", "\x1b/x"]
)
def test_bad_platform_is_a_usage_error(capsys, platform):
    code, out, err = run(capsys, "resolve", "--platform", platform, f"nginx@{DIGEST}")

    assert code == 2 and out == ""
    assert_clean_error_lines(err, 1)
    assert "os/arch" in err


def test_locked_mode_with_an_empty_lock_answers_without_network(capsys, tmp_path):
    lock = tmp_path / "empty.lock"

    code, out, err = run(
        capsys, "resolve", "--mode", "locked", "--lock", str(lock), "nginx:1.25", f"a@{DIGEST}"
    )

    assert code == 1
    assert out == f"a@{DIGEST}\ta@{DIGEST}\n"
    assert_clean_error_lines(err, 1)
    assert "nginx:1.25" in err and "not in lock file" in err
    assert not lock.exists()


def test_lock_command_refuses_bad_references_before_writing(capsys, tmp_path):
    lock = tmp_path / "image-digest.lock"
    listed = tmp_path / "refs.txt"
    listed.write_bytes(b"nginx:1.25\n\x00bad\nUPPER\n" + b"\xff\xfe\n")

    code, out, err = run(capsys, "lock", "--lock", str(lock), "--", "", LONG)
    from_file_code, _, from_file_err = run(
        capsys, "lock", "--lock", str(lock), "--from", str(listed)
    )

    assert code == 2 and out == ""
    errors = "".join(line for line in err.splitlines(True) if " error: " in line)
    assert_clean_error_lines(errors, 2)
    assert "Traceback" not in err
    assert from_file_code == 2
    assert_clean_error_lines(from_file_err, 1)
    assert not lock.exists()


def test_a_lock_path_that_cannot_be_written_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    code, _, err = run(
        capsys, "resolve", "--mode", "locked", "--lock", str(blocker / "x.lock"), f"a@{DIGEST}"
    )

    assert code in (0, 1, 2)
    assert "Traceback" not in err and len(err.splitlines()) <= 1


def test_the_real_entry_point_with_hostile_arguments(tmp_path):
    """argv cannot hold NUL, but everything else reaches a real process unharmed."""
    refs = [r for r in BAD_REFERENCES.values() if "\x00" not in r]
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path), "IMAGE_DIGEST_MODE": "locked"}
    env["IMAGE_DIGEST_LOCK"] = str(tmp_path / "empty.lock")

    done = subprocess.run(
        [sys.executable, "-m", "image_digest", "resolve", "--", *refs],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert_clean_error_lines(done.stderr, len(dict.fromkeys(refs)))
