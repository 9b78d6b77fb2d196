"""Declarative table schemas, read from ``data/schemas/*.toml``.

The TOML files are the single source of truth for the columns of the three
tables; this module turns them into :class:`TableSchema` objects and the
validators are built from those.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Literal

from bstate_stats.errors import SchemaDefinitionError

TableName = Literal["deliverables", "habits", "relationships"]
TABLES: tuple[TableName, ...] = ("deliverables", "habits", "relationships")


@dataclass(frozen=True)
class Scale:
    """A measurement scale: the closed range a value must lie in, and whether it is whole."""

    name: str
    low: float | None
    high: float | None
    integer: bool = False

    def describe(self) -> str:
        """Human-readable range, e.g. ``'0 <= value <= 10'``."""
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        whole = ", whole numbers" if self.integer else ""
        return f"{low} <= value <= {high}{whole}"


SCALES: dict[str, Scale] = {
    "score_0_10": Scale("score_0_10", 0.0, 10.0),
    "likert_1_5": Scale("likert_1_5", 1.0, 5.0),
    "percent_0_100": Scale("percent_0_100", 0.0, 100.0),
    "proportion_0_1": Scale("proportion_0_1", 0.0, 1.0),
    "currency": Scale("currency", 0.0, None),
    "count": Scale("count", 0.0, None, integer=True),
    "numeric": Scale("numeric", None, None),
}
KEY_SCALES = ("id", "period")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table: its canonical name, role and scale."""

    name: str
    role: str
    scale: str
    required: bool = False
    description: str = ""
    low: float | None = None
    high: float | None = None
    label: str = ""  # how sentences name it ("first-contact resolution"); the column name when empty
    unit: str = ""  # for numeric columns, what one unit is ("seconds"); other scales carry their own
    of: str = ""  # for a count: the column it is counted out of ("customers" for customers_lost); it may not exceed it
    rate_label: str = ""  # how sentences name the count's rate ("churn" for customers lost of customers)

    @property
    def is_key(self) -> bool:
        """True for identifier columns (team, region, period)."""
        return self.scale in KEY_SCALES

    def bounds(self) -> Scale:
        """The scale of this column, with any column-specific ``min``/``max`` applied."""
        base = SCALES[self.scale]
        low = base.low if self.low is None else self.low
        high = base.high if self.high is None else self.high
        return replace(base, low=low, high=high)


@dataclass(frozen=True)
class ItemPattern:
    """Columns not listed by name that match ``pattern`` are items of this role and scale."""

    pattern: str
    role: str
    scale: str
    description: str = ""

    def matches(self, column: str) -> bool:
        return re.fullmatch(self.pattern, column) is not None


@dataclass(frozen=True)
class TableSchema:
    """The declared contract of one table."""

    name: TableName
    description: str
    keys: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    item_patterns: tuple[ItemPattern, ...] = ()
    long_form: dict[str, str] = field(default_factory=dict)
    respondent_form: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> ColumnSpec | None:
        """The declared column called ``name``, or None."""
        return next((c for c in self.columns if c.name == name), None)

    def required_column(self, name: str) -> ColumnSpec:
        """The declared column called ``name``; a schema without it is malformed."""
        spec = self.column(name)
        if spec is None:
            raise SchemaDefinitionError(f"schema {self.name!r} declares no column {name!r}")
        return spec

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def resolve(self, present: list[str], scale_overrides: dict[str, str] | None = None) -> dict[str, ColumnSpec]:
        """Assign a :class:`ColumnSpec` to every present column.

        Declared columns keep their spec; other columns take the first item
        pattern they match. Columns that match nothing are returned without a
        spec and reported as unknown by the validator.
        """
        overrides = scale_overrides or {}
        resolved: dict[str, ColumnSpec] = {}
        for name in present:
            spec = self.column(name)
            if spec is None:
                pattern = next((p for p in self.item_patterns if p.matches(name)), None)
                if pattern is None:
                    continue
                spec = ColumnSpec(name, pattern.role, pattern.scale, False, pattern.description)
            if name in overrides:
                spec = replace(spec, scale=_check_scale(overrides[name], f"scale override of {name!r}"))
            elif spec.role in overrides:
                spec = replace(spec, scale=_check_scale(overrides[spec.role], f"scale override of role {spec.role!r}"))
            resolved[name] = spec
        return resolved


def _check_scale(scale: str, where: str) -> str:
    if scale not in SCALES and scale not in KEY_SCALES:
        known = ", ".join([*SCALES, *KEY_SCALES])
        raise SchemaDefinitionError(f"{where}: unknown scale {scale!r}; known scales: {known}")
    return scale


def schema_directory() -> Path:
    """Directory holding the schema TOML files.

    An installed wheel carries them as package data; a source checkout reads
    ``data/schemas/`` at the repository root.
    """
    packaged = resources.files("bstate_stats").joinpath("_data", "schemas")
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "data" / "schemas"
    if checkout.is_dir():
        return checkout
    raise SchemaDefinitionError("schema files not found: neither bstate_stats/_data/schemas nor data/schemas exist")


def _parse_column(raw: dict, source: Path) -> ColumnSpec:
    unknown = set(raw) - {"name", "role", "scale", "required", "description", "min", "max", "label", "unit", "of", "rate_label"}
    if unknown or not {"name", "role", "scale"} <= set(raw):
        raise SchemaDefinitionError(f"{source}: column entry {raw!r} needs name, role, scale; unknown keys {sorted(unknown)}")
    return ColumnSpec(
        name=raw["name"],
        role=raw["role"],
        scale=_check_scale(raw["scale"], f"{source}: column {raw['name']!r}"),
        required=bool(raw.get("required", False)),
        description=raw.get("description", ""),
        low=raw.get("min"),
        high=raw.get("max"),
        label=raw.get("label", ""),
        unit=raw.get("unit", ""),
        of=raw.get("of", ""),
        rate_label=raw.get("rate_label", ""),
    )


def _check_exposures(columns: tuple[ColumnSpec, ...], source: Path) -> None:
    """A count's ``of`` names a count column of the same table."""
    scales = {c.name: c.scale for c in columns}
    for column in columns:
        if column.of and (column.scale != "count" or scales.get(column.of) != "count"):
            raise SchemaDefinitionError(f"{source}: column {column.name!r} is counted out of {column.of!r}; both must be declared count columns of this table")


def load_schema(name: TableName, directory: Path | None = None) -> TableSchema:
    """Read the schema of one table from its TOML file (read once while the file is unchanged)."""
    path = (directory or schema_directory()) / f"{name}.toml"
    try:
        stat = path.stat()
    except OSError as exc:
        raise SchemaDefinitionError(f"{path}: cannot read schema: {exc}") from exc
    return _read_schema(name, path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _read_schema(name: TableName, path: Path, mtime_ns: int, size: int) -> TableSchema:
    """One schema file parsed; keyed by its modification time and size, so an edited file is read again."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SchemaDefinitionError(f"{path}: cannot read schema: {exc}") from exc
    table = raw.get("table", {})
    patterns = tuple(
        ItemPattern(p["pattern"], p["role"], _check_scale(p["scale"], f"{path}: item pattern"), p.get("description", ""))
        for p in raw.get("item_columns", [])
    )
    columns = tuple(_parse_column(c, path) for c in raw.get("columns", []))
    _check_exposures(columns, path)
    return TableSchema(
        name=table.get("name", name),
        description=table.get("description", ""),
        keys=tuple(table.get("keys", ("team", "period"))),
        columns=columns,
        item_patterns=patterns,
        long_form=dict(raw.get("long_form", {})),
        respondent_form=dict(raw.get("respondent_form", {})),
    )


def load_schemas(directory: Path | None = None) -> dict[TableName, TableSchema]:
    """Schemas of the three tables, keyed by table name."""
    return {name: load_schema(name, directory) for name in TABLES}
