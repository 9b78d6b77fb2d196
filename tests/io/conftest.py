"""Fixtures for file-system faults: small tmpfs mounts (full disk, read-only), skipped where mounting is not allowed."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def _mounted(where: Path, options: str):
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB file system: anything larger fails with 'no space left on device'."""
    with _mounted(tmp_path / "small", "size=64k") as where:
        yield where


@pytest.fixture
def read_only_disk(tmp_path):
    """A read-only file system."""
    with _mounted(tmp_path / "ro", "ro,size=64k") as where:
        yield where
