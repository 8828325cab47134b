"""`atomic_write`: replace a file's text so a reader sees the old file or the new, never half.

The one writer for the lock file and `pin-vars -o`: a temporary file beside the target, fsynced,
renamed over it, and the directory fsynced so the rename survives a crash. The file keeps its
permissions (a 0600 file that holds secrets stays 0600; a new one gets 0666 minus the umask,
as `open()` would give it). A symlink is written through: its target gets the new text and
the link stays a link. A missing directory is an error naming it, never created silently.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


class MissingDirectoryError(FileNotFoundError):
    """The directory a file should be written into does not exist."""


def atomic_write(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` (UTF-8, `\\n` line ends) to `path`, atomically; returns the file written
    (a symlink's target)."""
    target = Path(os.path.realpath(path))
    directory = target.parent
    if not directory.is_dir():
        raise MissingDirectoryError(
            2, f"directory {directory} does not exist (create it first)", str(directory)
        )
    import tempfile  # on first write: most runs only read

    mode = _file_mode(target)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    return target


def _file_mode(path: Path) -> int:
    """Keep an existing file's permissions; a new one gets 0666 minus the umask, like open()
    (mkstemp alone would leave 0600)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
