"""Atomic writes: write to a temporary file in the same folder, then rename over the target.

A reader never sees a half-written file; an interrupted write leaves the old
file (or nothing) in place.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path``; the temporary file is removed on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    return write_atomic(path, lambda p: p.write_bytes(data))


def write_frame(path: str | Path, frame: pd.DataFrame, *, index: bool = False) -> Path:
    """A DataFrame as CSV (or Parquet / Excel by suffix), written atomically with stable float formatting."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return write_atomic(path, lambda p: frame.to_parquet(p, index=index))
    if suffix == ".xlsx":
        return write_atomic(path, lambda p: frame.to_excel(p, index=index, engine="openpyxl"))
    return write_atomic(path, lambda p: frame.to_csv(p, index=index, lineterminator="\n", float_format="%.10g"))


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as ``'sha256:<hex>'``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"
