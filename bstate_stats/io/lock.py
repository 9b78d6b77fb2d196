"""One run per folder: an exclusive ``flock`` on ``.bstate-run.lock``, held from the start of a run to its end.

The kernel releases the lock when a run dies; the next run finds the lock
file left behind, says whose it was, and takes over.
"""

from __future__ import annotations

import fcntl  # POSIX advisory locks: released by the kernel when a run dies
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bstate_stats.errors import RunLockedError
from bstate_stats.io.atomic import describe_os_error

LOCK_NAME = ".bstate-run.lock"


def read_json(path: Path) -> dict | None:
    """A JSON object from ``path``, or None when it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _lock_info() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now(UTC).isoformat(timespec="seconds")}


def _describe_holder(info: dict | None) -> str:
    if not info:
        return "a run"
    return f"run with process id {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started', '?')}"


@dataclass
class FolderLock:
    """An exclusive lock on a run folder, held from the start of a run to its end.

    ``stale`` describes the lock file a killed run left behind, when there was one.
    """

    folder: Path
    stale: str | None = None
    _fd: int | None = None

    @property
    def path(self) -> Path:
        return self.folder / LOCK_NAME

    def acquire(self) -> FolderLock:
        """Take the lock or raise :class:`RunLockedError` naming the run that holds it."""
        for _ in range(10):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise describe_os_error(exc, "create a lock in", self.folder) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = read_json(self.path)
                os.close(fd)
                raise RunLockedError(
                    f"{self.folder} is in use by another {_describe_holder(holder)}: "
                    "two runs must not write into one folder; wait for it to finish or choose another --out"
                ) from None
            if self._same_file(fd):
                break
            os.close(fd)  # the holder removed the file between our open and lock: try again
        else:  # pragma: no cover - needs a pathological race
            raise RunLockedError(f"{self.folder}: could not take the run lock")
        try:
            self._describe_previous(os.read(fd, 4096))
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(_lock_info()).encode())
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)  # never keep a lock we could not record
            raise describe_os_error(exc, "record the run lock in", self.folder) from exc
        self._fd = fd
        return self

    def _describe_previous(self, previous: bytes) -> None:
        """Say whose lock file was left behind, when one was."""
        if previous.strip():
            try:
                info = json.loads(previous)
            except ValueError:
                info = None
            self.stale = (
                f"found a lock left by a {_describe_holder(info if isinstance(info, dict) else None)} "
                "that stopped without finishing (killed or crashed); its files are replaced by this run"
            )

    def _same_file(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        """Remove the lock file and let go of the lock."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a lock file that cannot be removed is reported as stale by the next run
        os.close(self._fd)
        self._fd = None
