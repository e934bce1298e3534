"""One process per journal folder: an exclusive ``flock`` on ``<folder>/lock``.

The store writer and the webhook dispatcher each keep a journal in a folder of the data
directory. Two ``cti`` processes appending to the same journal would corrupt it and
confirm each other's records, so whoever starts second is refused with an error that
says what to change. The lock goes with the process: closing the file (or the process
dying) releases it, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class FolderLock:
    """The lock of ``directory``; ``busy`` is the error raised when another process
    holds it, and ``what`` names the folder in its message ("store journal")."""

    def __init__(self, directory: Path, *, what: str, busy: type[Exception]) -> None:
        self.directory = directory
        self.what = what
        self.busy = busy
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (creating the folder), or raise ``busy`` at once."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / "lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self.busy(f"{self.what} {self.directory} is in use by another cti process; "
                            "stop it or give this one its own CTI_DATA_DIR") from None
        self._fd = fd

    def release(self) -> None:
        """Let the folder go (nothing happens when it is not held)."""
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


__all__ = ["FolderLock"]
