"""Column mapping: the user's column names to the contract's, and scales of their items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bstate_stats.errors import ConfigError
from bstate_stats.io.toml_file import read_toml
from bstate_stats.schema.spec import SCALES, TABLES


@dataclass(frozen=True)
class ColumnMapping:
    """Renames and scales per table.

    Parameters
    ----------
    columns
        ``{table: {their_column: contract_column}}``.
    scales
        ``{table: {contract_column_or_role: scale}}``, e.g.
        ``{"habits": {"habit_item": "likert_1_5"}}``.

    Examples
    --------
    >>> ColumnMapping.from_dict({"deliverables": {"CSAT overall": "csat"}, "scales": {"habits": {"habit_item": "likert_1_5"}}})
    """

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    scales: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping | None) -> ColumnMapping:
        """Read ``{table: {their: ours}, "scales": {table: {column_or_role: scale}}}``; unknown tables or scales are errors."""
        if raw is None:
            return cls()
        if isinstance(raw, ColumnMapping):
            return raw
        if not isinstance(raw, Mapping):
            raise ConfigError(f"column mapping: expected a table of tables, got {type(raw).__name__}")
        raw = dict(raw)
        scales = raw.pop("scales", {})
        if not isinstance(scales, Mapping):
            raise ConfigError("column mapping: [scales] must hold one table per data table, e.g. [scales.habits] habit_item = \"likert_1_5\"")
        scales = dict(scales)
        problems = [f"unknown table {t!r} (tables: {', '.join(TABLES)})" for t in [*raw, *scales] if t not in TABLES]
        for table, entries in scales.items():
            if not isinstance(entries, Mapping):
                problems.append(f"scales.{table} = {entries!r}: expected a table of column (or role) = scale")
                continue
            problems += [f"scales.{table}.{col}: unknown scale {s!r} (scales: {', '.join(SCALES)})" for col, s in entries.items() if s not in SCALES]
        for table, entries in raw.items():
            if not isinstance(entries, Mapping) or not all(isinstance(v, str) for v in entries.values()):
                problems.append(f"{table}: expected a table of column names to contract names")
        if problems:
            raise ConfigError("column mapping: " + "; ".join(problems))
        return cls({t: dict(m) for t, m in raw.items()}, {t: dict(m) for t, m in scales.items()})

    @classmethod
    def from_toml(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping from a TOML file with ``[deliverables]``, ``[habits]``, ``[scales.habits]`` tables."""
        return cls.from_dict(read_toml(path, "the column mapping"))

    def clashes(self, table: str, columns: list[str]) -> list[tuple[str, list[str]]]:
        """Contract names that two of the file's columns would take after renaming, with those columns.

        Parameters
        ----------
        table
            The table's name.
        columns
            The file's column names.

        Returns
        -------
        list of (target, sources)
            E.g. ``[("csat", ["CSAT overall", "csat"])]``: empty when renaming is one to one.
        """
        renames = {c: t for c, t in self.columns.get(table, {}).items() if c in columns}
        targets: dict[str, list[str]] = {}
        for column in columns:
            targets.setdefault(renames.get(column, column), []).append(column)
        return [(target, sources) for target, sources in targets.items() if len(sources) > 1]

    def absent(self, table: str, columns: list[str]) -> list[str]:
        """Columns the mapping renames that the file does not have (a typo, or an optional column)."""
        return [c for c in self.columns.get(table, {}) if c not in columns]

    def rename(self, table: str, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with this table's columns renamed to the contract's names (a copy)."""
        return frame.rename(columns=self.columns.get(table, {}))

    def original(self, table: str, column: str) -> str:
        """How the user named a contract column, e.g. ``"'CSAT overall' (csat)"``."""
        reverse = {v: k for k, v in self.columns.get(table, {}).items()}
        return f"{reverse[column]} ({column})" if column in reverse else column

    def scales_for(self, table: str) -> dict[str, str]:
        return dict(self.scales.get(table, {}))
