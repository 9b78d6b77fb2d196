"""Public entry points: load a directory of tables into a Panel, or validate without raising."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from bstate_stats.errors import ConfigError
from bstate_stats.panel.assemble import assemble
from bstate_stats.panel.panel import Panel
from bstate_stats.schema.mapping import ColumnMapping
from bstate_stats.schema.report import ValidationReport
from bstate_stats.schema.validate import require_valid_tables, validate_tables


def load_panel(directory: str | Path, *, mapping: ColumnMapping | Mapping | str | Path | None = None) -> Panel:
    """Read ``deliverables``, ``habits`` and ``relationships`` (CSV, Parquet or Excel) from a directory.

    Parameters
    ----------
    directory
        Folder holding ``deliverables.csv`` (required) and optionally
        ``habits.*`` and ``relationships.*``.
    mapping
        A :class:`ColumnMapping`, a dict, or the path of a TOML mapping file.

    Returns
    -------
    Panel
        The validated panel; its ``report`` holds the warnings.

    Raises
    ------
    ValidationError
        Listing every problem found (file, column, rows, rule, values seen).
    """
    return Panel.from_parts(assemble(require_valid_tables({}, directory=_folder(directory), mapping=_mapping(mapping))))


def validate(source: str | Path | Mapping[str, pd.DataFrame], *, mapping: ColumnMapping | Mapping | str | Path | None = None) -> ValidationReport:
    """Validate a directory of tables (or a dict of frames) and return the report; never raises on bad data.

    Parameters
    ----------
    source
        A data folder, or ``{"deliverables": frame, ...}``.
    mapping
        As for :func:`load_panel`.

    Returns
    -------
    ValidationReport
        Every problem found: file, column, rows, rule and values seen.
    """
    if isinstance(source, Mapping):
        _, report = validate_tables(source, mapping=_mapping(mapping))
    else:
        _, report = validate_tables({}, directory=_folder(source), mapping=_mapping(mapping))
    return report


def _folder(directory: object) -> Path:
    if not isinstance(directory, (str, Path)):
        raise ConfigError(f"expected the path of a data folder, got {type(directory).__name__}")
    return Path(directory)


def _mapping(mapping) -> ColumnMapping:
    if isinstance(mapping, (str, Path)):
        return ColumnMapping.from_toml(mapping)
    return ColumnMapping.from_dict(mapping)
