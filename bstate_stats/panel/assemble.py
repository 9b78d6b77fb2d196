"""From validated tables to a panel's parts: merge on (team, period) without losing a row, label periods, derive the indices."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bstate_stats.panel import derived
from bstate_stats.panel.derived import HABIT_INDEX, RELATIONSHIP_INDEX
from bstate_stats.schema.periods import PeriodFormat, label_series
from bstate_stats.schema.report import ValidationReport
from bstate_stats.schema.table_rules import CheckedTable
from bstate_stats.schema.validate import ValidatedTables


def _merge(tables: dict[str, CheckedTable]) -> pd.DataFrame:
    """Outer join of the tables on (team, t): rows missing from one table are kept, never joined away."""
    merged: pd.DataFrame | None = None
    for name, table in tables.items():
        measures = [c for c, s in table.specs.items() if not s.is_key]
        columns = ["team", "_t", *(["region"] if "region" in table.frame else []), *measures]
        part = table.frame.dropna(subset=["team", "_t"])[columns]
        renamed = {c: f"{name}.{c}" for c in measures if merged is not None and c in merged.columns}
        part = part.rename(columns=renamed)
        merged = part if merged is None else merged.merge(part, on=["team", "_t"], how="outer", suffixes=("", f".{name}"))
    assert merged is not None, "a panel has at least the deliverables table"
    regions = merged.dropna(subset=["region"]).groupby("team")["region"].first() if "region" in merged else None
    if regions is not None:
        merged["region"] = merged["team"].map(regions)
    return merged


def _roles(tables: dict[str, CheckedTable]) -> tuple[dict[str, str], dict[str, str]]:
    roles, scales = {}, {}
    for table in tables.values():
        for column, spec in table.specs.items():
            if not spec.is_key:
                roles[column] = spec.role
                scales[column] = spec.scale
    return roles, scales


def _add_indices(data: pd.DataFrame, roles: dict[str, str], scales: dict[str, str]) -> dict[str, float]:
    reliability = {}
    for index_name, item_role in ((HABIT_INDEX, "habit_item"), (RELATIONSHIP_INDEX, "relationship_item")):
        items = [c for c, r in roles.items() if r == item_role]
        if items:
            data[index_name] = derived.item_index(data[items], scales)
            roles[index_name] = index_name
            scales[index_name] = "percent_0_100"
            rescaled = pd.concat({c: derived.to_percent(data[c], scales[c]) for c in items}, axis=1)
            reliability[index_name] = derived.cronbach_alpha(rescaled)
    return reliability


@dataclass(frozen=True)
class PanelParts:
    """What a :class:`~bstate_stats.panel.panel.Panel` is made of, assembled from validated tables."""

    data: pd.DataFrame
    roles: dict[str, str]
    scales: dict[str, str]
    period_format: PeriodFormat
    step: int
    report: ValidationReport
    sources: dict[str, str]
    reliability: dict[str, float]


def assemble(validated: ValidatedTables) -> PanelParts:
    """Merge the validated tables (outer join: rows missing from one table are kept), label periods, add the indices."""
    tables, fmt = validated.tables, validated.period_format
    merged = _merge(tables)
    roles, scales = _roles(tables)
    merged["period"] = label_series(merged["_t"].astype("int64"), fmt)
    merged = merged.rename(columns={"_t": "t"}).astype({"t": "int64"}).sort_values(["team", "t"])
    data = merged.set_index(["team", "period"])
    reliability = _add_indices(data, roles, scales)
    sources = {name: t.source for name, t in tables.items()}
    return PanelParts(data=data, roles=roles, scales=scales, period_format=fmt, step=validated.step, report=validated.report, sources=sources, reliability=reliability)
