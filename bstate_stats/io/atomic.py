"""Atomic writes: write to a temporary file in the same folder, then rename over the target.

A reader never sees a half-written file; an interrupted write leaves the old
file (or nothing) in place. Faults of the file system (a full disk, a
read-only or unwritable folder, a file where a folder is expected) become one
:class:`~bstate_stats.errors.OutputError` sentence naming the path.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bstate_stats.errors import OutputError

TEMP_SUFFIX = ".tmp"

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "part of the path is a file, not a folder",
    errno.EISDIR: "a folder is in the way of the file",
    errno.EEXIST: "a file is in the way of the folder",
    errno.ENAMETOOLONG: "the name is too long",
}


def describe_os_error(exc: OSError, action: str, path: str | Path) -> OutputError:
    """One sentence for a file-system fault: what was being done, where, and why it failed."""
    reason = _REASONS.get(exc.errno or -1, exc.strerror or type(exc).__name__)
    return OutputError(f"cannot {action} {path}: {reason}")


def make_folder(path: str | Path) -> Path:
    """Create ``path`` and its parents, or raise :class:`OutputError` saying why not."""
    path = Path(path)
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"cannot create folder {path}: {parent} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise describe_os_error(exc, "create folder", path) from exc
    return path


def write_atomic(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path``; the temporary file is removed on failure.

    Parameters
    ----------
    path
        The file to create or replace.
    write
        Writes the content to the temporary path it is given.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        The file system refused (full disk, read-only, permission, a file in the way).
    """
    path = Path(path)
    make_folder(path.parent)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: a folder of that name is in the way")
    tmp_path: Path | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except OSError as exc:
        raise describe_os_error(exc, "write", path) from exc
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()
    return path


def write_all_or_none(writers: dict[Path, Callable[[Path], object]], *, overwrite: bool = False) -> list[Path]:
    """Write several files atomically; refuse before writing any when one would replace different content.

    Parameters
    ----------
    writers
        Target path -> function writing its content to the path it is given.
    overwrite
        Replace existing files whose content differs.

    Returns
    -------
    list of Path
        The targets, in order.

    Raises
    ------
    OutputError
        A target exists with other content (and ``overwrite`` is false), or
        the file system refused.
    """
    staged: dict[Path, Path] = {}
    try:
        for target, write in writers.items():
            make_folder(target.parent)
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
                os.close(fd)
                staged[target] = Path(tmp)
                write(staged[target])
                os.chmod(staged[target], 0o666 & ~_umask())
            except OSError as exc:
                raise describe_os_error(exc, "write", target) from exc
        conflicts = [str(t) for t, new in staged.items() if t.exists() and (t.is_dir() or file_hash(t) != file_hash(new))]
        if conflicts and not overwrite:
            raise OutputError(f"not overwriting files that hold other content: {', '.join(conflicts)} (choose another folder, or --force to replace them)")
        for target, new in staged.items():
            try:
                os.replace(new, target)
            except OSError as exc:
                raise describe_os_error(exc, "write", target) from exc
    finally:
        for staged_path in staged.values():
            staged_path.unlink(missing_ok=True)
    return list(writers)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def text_writer(text: str) -> Callable[[Path], None]:
    """A function writing ``text`` to a path as UTF-8."""

    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def write_text(path: str | Path, text: str) -> Path:
    """``text`` written atomically as UTF-8; returns ``path``."""
    return write_atomic(path, text_writer(text))


def frame_writer(frame: pd.DataFrame, suffix: str, *, index: bool = False) -> Callable[[Path], None]:
    """A function writing ``frame`` to a path as CSV, Parquet (``.parquet``) or Excel (``.xlsx``)."""
    suffix = suffix.lower()
    if suffix == ".parquet":
        return lambda p: frame.to_parquet(p, index=index)
    if suffix == ".xlsx":
        return lambda p: frame.to_excel(p, index=index, engine="openpyxl")
    return lambda p: frame.to_csv(p, index=index, lineterminator="\n", float_format="%.10g")


def write_frame(path: str | Path, frame: pd.DataFrame, *, index: bool = False) -> Path:
    """A DataFrame as CSV (or Parquet / Excel by suffix), written atomically with stable float formatting."""
    return write_atomic(path, frame_writer(frame, Path(path).suffix, index=index))


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as ``'sha256:<hex>'``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"
