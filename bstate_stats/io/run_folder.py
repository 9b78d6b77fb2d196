"""Owned output folders: a run replaces only what a bstate run wrote, and one run writes into a folder at a time.

A run folder carries a journal, ``.bstate-run.json``, listing every file a
bstate run wrote there with its hash (the path is recorded *before* the file
is written, so a run killed mid-write still owns what it left). A folder may
be used for a run when it is new, empty, or holds nothing but files of earlier
bstate runs; a folder holding anything else is refused, with or without
``--force``, naming the files. Files a run did not write are never deleted,
overwritten or certified in its manifest.

One run at a time: the folder's lock (:mod:`bstate_stats.io.lock`) is held
for the whole run, so a second run into the same folder is refused before it
writes anything.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import pandas as pd

from bstate_stats.errors import OutputError, RunFolderError
from bstate_stats.io.atomic import (
    describe_os_error,
    file_hash,
    frame_writer,
    make_folder,
    text_writer,
    write_atomic,
    write_text,
)
from bstate_stats.io.lock import LOCK_NAME, FolderLock, read_json
from bstate_stats.io.provenance import package_versions

JOURNAL = ".bstate-run.json"
MANIFEST = "manifest.json"
JOURNAL_FORMAT = "bstate-run/1"
LEGACY_RUN_FILES = frozenset({"report.html"})  # written after the manifest by runs of version 0.1
LEFTOVER_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # an atomic write cut short
MAX_NAMED = 8


class RunExistsError(RunFolderError):
    """The output folder holds a different finished run; ``--force`` replaces it."""


# -- reading a folder -----------------------------------------------------------------
MANIFEST_KEYS = frozenset({"status", "config", "inputs", "outputs", "versions"})  # what every bstate manifest holds


def read_manifest(folder: str | Path) -> dict | None:
    """The run's manifest, or None when the folder holds no finished bstate run (another tool's manifest.json is not one)."""
    manifest = read_json(Path(folder) / MANIFEST)
    if manifest is None or not MANIFEST_KEYS <= set(manifest) or not isinstance(manifest["outputs"], dict):
        return None
    return manifest


def _journal(folder: Path) -> dict[str, str | None] | None:
    journal = read_json(folder / JOURNAL)
    if journal is None or journal.get("format") != JOURNAL_FORMAT or not isinstance(journal.get("files"), dict):
        return None
    return dict(journal["files"])


def _entries(folder: Path) -> tuple[list[str], list[str]]:
    """Relative paths of the files under ``folder``, and of links and other non-files (never followed)."""
    files: list[str] = []
    others: list[str] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in list(dirs):
            if (base / name).is_symlink():
                others.append(str((base / name).relative_to(folder)))
                dirs.remove(name)
        for name in names:
            path = base / name
            relative = str(path.relative_to(folder))
            if relative == LOCK_NAME:
                continue
            (files if path.is_file() and not path.is_symlink() else others).append(relative)
    return sorted(files), sorted(others)


def _named(paths: list[str]) -> str:
    """A few paths by name; many grouped by their top folder (``.venv/ (34000 files)``)."""
    if len(paths) <= MAX_NAMED:
        return ", ".join(paths)
    groups: dict[str, int] = {}
    for path in paths:
        top = path.split("/", 1)[0] + ("/" if "/" in path else "")
        groups[top] = groups.get(top, 0) + 1
    named = [f"{top} ({count} file{'s' if count > 1 else ''})" if top.endswith("/") else top for top, count in groups.items()]
    shown = ", ".join(named[:MAX_NAMED])
    return shown + (f" and {len(named) - MAX_NAMED} more" if len(named) > MAX_NAMED else "")


@dataclass(frozen=True)
class FolderState:
    """What an output folder holds: files an earlier bstate run wrote, and anything else."""

    path: Path
    owned: dict[str, str | None]
    foreign: list[str]
    changed: list[str]
    manifest: dict | None

    @property
    def is_run(self) -> bool:
        """True when the folder holds a bstate run (finished or not) and nothing else."""
        return bool(self.owned) and not self.foreign and not self.changed

    def refusal(self) -> str | None:
        """Why the folder cannot be replaced by a run, or None."""
        parts = []
        if self.foreign:
            parts.append(f"files no bstate run wrote: {_named(self.foreign)}")
        if self.changed:
            parts.append(f"run files changed since the run wrote them: {_named(self.changed)}")
        if not parts:
            return None
        return (
            f"{self.path} holds {'; '.join(parts)}. bstate-stats never deletes or overwrites files it did not write: "
            "choose a new or empty folder for --out, or move those files away"
        )


def inspect_folder(path: str | Path) -> FolderState:
    """Sort what ``path`` holds into files of earlier bstate runs and everything else (nothing is changed)."""
    folder = Path(path)
    if not folder.exists():
        return FolderState(folder, {}, [], [], None)
    if not folder.is_dir():
        raise OutputError(f"cannot use {folder} as an output folder: it is a file")
    try:
        files, others = _entries(folder)
    except OSError as exc:
        raise describe_os_error(exc, "read folder", folder) from exc
    manifest = read_manifest(folder)
    journal = _journal(folder)
    known: dict[str, str | None] = {}
    if manifest is not None:
        known |= {name: value for name, value in manifest["outputs"].items() if isinstance(value, str)}
        known[MANIFEST] = None
        if journal is None:
            known |= dict.fromkeys(LEGACY_RUN_FILES)
    if journal is not None:
        known |= {name: value for name, value in journal.items() if name not in known or value is not None}
        known[JOURNAL] = None
    owned, foreign, changed = {}, list(others), []
    for name in files:
        if name in known:
            recorded = known[name]
            if recorded is not None and file_hash(folder / name) != recorded:
                changed.append(name)
            else:
                owned[name] = recorded
        elif known and LEFTOVER_TEMP.match(Path(name).name):
            owned[name] = None
        else:
            foreign.append(name)
    return FolderState(folder, owned, sorted(foreign), changed, manifest)


# -- the run folder -------------------------------------------------------------------------
@dataclass
class RunFolder:
    """An output folder owned by one run while it writes.

    Use :meth:`claim` for a new run and :meth:`reopen` to add a file (the
    report) to a finished run; both hold the folder's lock until
    :meth:`release` (or the end of a ``with`` block).

    Attributes
    ----------
    path
        The folder.
    written
        Files this run wrote: relative path -> SHA-256.
    notices
        Things the user should hear (a stale lock taken over, files replaced).
    """

    path: Path
    lock: FolderLock
    written: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    _journal: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def claim(cls, path: str | Path, *, config: dict | None = None, replace: bool = False) -> RunFolder:
        """Take ``path`` for a new run.

        Parameters
        ----------
        path
            The output folder; created when missing.
        config
            The run's configuration; a finished run with another config is
            replaced only when ``replace`` is true.
        replace
            Replace an earlier run made with a different configuration
            (``--force``). Files no bstate run wrote are never replaced.

        Returns
        -------
        RunFolder
            Holding the lock; the earlier run's files are gone, the rest untouched.

        Raises
        ------
        RunFolderError
            The folder holds files of no run, changed run files, or (without
            ``replace``) a run with another configuration.
        RunLockedError
            Another run is writing into the folder.
        OutputError
            The folder cannot be created or written (a file in the way,
            permission, read-only, full disk).
        """
        folder = Path(path)
        _refuse_unless_replaceable(inspect_folder(folder), config, replace)
        make_folder(folder)
        lock = FolderLock(folder).acquire()
        try:
            state = inspect_folder(folder)  # again, under the lock
            _refuse_unless_replaceable(state, config, replace)
            run = cls(folder, lock)
            if lock.stale:
                run.notices.append(lock.stale)
            run._clear(state)
            return run
        except BaseException:
            lock.release()
            raise

    @classmethod
    def reopen(cls, path: str | Path) -> RunFolder:
        """Take a finished run's folder to add files to it (its manifest is updated by :meth:`add_to_manifest`)."""
        folder = Path(path)
        state = inspect_folder(folder)
        if state.manifest is None:
            raise RunFolderError(f"{folder} has no manifest.json: the run did not finish (or this is not a run folder)")
        lock = FolderLock(folder).acquire()
        state = inspect_folder(folder)  # again, under the lock: a run may have finished in between
        run = cls(folder, lock, _journal=dict(state.owned))
        if lock.stale:
            run.notices.append(lock.stale)
        return run

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.release()

    def release(self) -> None:
        """Let go of the folder's lock."""
        self.lock.release()

    # -- writing ----------------------------------------------------------------------
    def write_with(self, relative: str, write: Callable[[Path], object]) -> Path:
        """Write one file atomically through ``write(tmp_path)``, recording it in the journal first."""
        name = Path(relative).as_posix()
        target = self.path / name
        if target.exists() and name not in self._journal and name not in self.written:
            raise RunFolderError(f"{target} was not written by a bstate run; it is not overwritten")
        self._record(name, None)
        write_atomic(target, write)
        self.written[name] = file_hash(target)
        self._record(name, self.written[name])
        return target

    def write_text(self, relative: str, text: str) -> Path:
        """``text`` as a UTF-8 file of this run."""
        return self.write_with(relative, text_writer(text))

    def write_frame(self, relative: str, frame: pd.DataFrame, *, index: bool = False) -> Path:
        """A DataFrame as a CSV (Parquet, Excel by suffix) file of this run."""
        return self.write_with(relative, frame_writer(frame, Path(relative).suffix, index=index))

    def _record(self, name: str, digest: str | None) -> None:
        self._journal[name] = digest
        document = {"format": JOURNAL_FORMAT, "tool": "bstate_stats", "files": dict(sorted(self._journal.items()))}
        write_text(self.path / JOURNAL, json.dumps(document, indent=1) + "\n")

    def _clear(self, state: FolderState) -> None:
        """Delete the earlier run's files (the manifest first, so the folder never looks finished)."""
        names = sorted(state.owned, key=lambda n: (n != MANIFEST, n == JOURNAL, n))
        try:
            for name in names:
                if name != JOURNAL:
                    (self.path / name).unlink(missing_ok=True)
            for folder in sorted({(self.path / n).parent for n in names}, key=lambda p: -len(p.parts)):
                if folder != self.path and folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        except OSError as exc:
            raise describe_os_error(exc, "replace the earlier run in", self.path) from exc
        if len(names) > 1:
            self.notices.append(f"replaced the earlier run in {self.path} ({len(names)} files it had written)")
        self._journal = {}

    def finish(self, *, inputs: list[Path], config: dict, seeds: dict, status: str, extra: dict | None = None) -> Path:
        """Write ``manifest.json`` last: input hashes, config, seeds, versions and the files this run wrote."""
        manifest = {
            "status": status,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "inputs": {str(p): file_hash(p) for p in inputs},
            "config": config,
            "seeds": seeds,
            "versions": package_versions(),
            "tool": "bstate_stats",
            "outputs": dict(sorted(self.written.items())),
            **(extra or {}),
        }
        return self.write_text(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")

    def add_to_manifest(self, relative: str) -> Path:
        """Certify a file written after the manifest (the report): its hash is added to the manifest's outputs."""
        manifest = read_manifest(self.path)
        if manifest is None:
            raise RunFolderError(f"{self.path} has no manifest.json to add {relative} to")
        manifest["outputs"] = dict(sorted({**manifest["outputs"], relative: self.written[relative]}.items()))
        return self.write_text(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")


def _refuse_unless_replaceable(state: FolderState, config: dict | None, replace: bool) -> None:
    refusal = state.refusal()
    if refusal:
        raise RunFolderError(refusal)
    previous = state.manifest
    if previous is not None and config is not None and previous.get("config") != json.loads(json.dumps(config, default=str)) and not replace:
        raise RunExistsError(
            f"{state.path} holds a different finished run (its manifest records another config); "
            "use --force to replace it, or choose another --out"
        )
