"""The run manifest: input hashes, config, seeds, package versions, output hashes. Written last."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bstate_stats.reporting.atomic import file_hash, write_text

MANIFEST = "manifest.json"
PACKAGES = ("bstate_stats", "numpy", "pandas", "scipy", "pandera", "statsmodels", "linearmodels", "pyfixest", "wildboottest", "pymc", "pytensor", "arviz", "nutpie", "matplotlib")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_manifest(out: Path, *, inputs: list[Path], config: dict, seeds: dict, status: str, extra: dict | None = None) -> Path:
    """Hash every input and every file under ``out`` and write ``manifest.json`` (atomically, last)."""
    outputs = sorted(p for p in out.rglob("*") if p.is_file() and p.name != MANIFEST and not p.name.startswith("."))
    manifest = {
        "status": status,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": {str(p): file_hash(p) for p in inputs},
        "config": config,
        "seeds": seeds,
        "versions": package_versions(),
        "outputs": {str(p.relative_to(out)): file_hash(p) for p in outputs},
        **(extra or {}),
    }
    return write_text(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")


def read_manifest(out: Path) -> dict | None:
    path = Path(out) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None
