"""From validated tables to a panel's parts: merge on (team, period) without losing a row, label periods, derive the indices."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bstate_stats.panel import derived
from bstate_stats.panel.derived import HABIT_INDEX, RELATIONSHIP_INDEX
from bstate_stats.schema.panel_rules import PanelKeys, keyed_rows
from bstate_stats.schema.periods import PeriodFormat, label_index
from bstate_stats.schema.report import ValidationReport
from bstate_stats.schema.table_rules import CheckedTable
from bstate_stats.schema.validate import ValidatedTables

PARALLEL_ROWS = 100_000  # below this, starting threads costs more than it saves


def _scatter(values: pd.Series, rows: np.ndarray | None, n_rows: int) -> pd.Series:
    """A column placed at ``rows`` of a frame of ``n_rows`` rows, missing elsewhere (``None``: already in place)."""
    if rows is None:
        return values.reset_index(drop=True)
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.full(n_rows, -1, dtype=np.int64)
        codes[rows] = values.cat.codes.to_numpy()
        return pd.Series(pd.Categorical.from_codes(codes, categories=values.cat.categories), copy=False)
    out = np.full(n_rows, np.nan)
    out[rows] = values.to_numpy() if values.dtype == np.float64 else values.to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(out, copy=False)


def _scatter_columns(part: pd.DataFrame, columns: list[str], rows: np.ndarray | None, n_rows: int) -> list[pd.Series]:
    """Each column placed at ``rows``; on large tables in threads (NumPy's scatter releases the GIL), small ones in turn."""
    if n_rows < PARALLEL_ROWS:
        return [_scatter(part[column], rows, n_rows) for column in columns]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda column: _scatter(part[column], rows, n_rows), columns))


def _merge(tables: dict[str, CheckedTable], keys: PanelKeys) -> pd.DataFrame:
    """Outer join of the tables on (team, period): rows missing from one table are kept, never joined away.

    Each table holds a (team, period) once, so the join places each table's
    rows at their key's position among all keys, sorted by team and period.
    """
    every = keys.every
    merged = {
        "team": pd.Series(pd.Categorical.from_codes(keys.team_codes(every), categories=keys.teams), copy=False),
        "_t": pd.Series(keys.ordinals(every), copy=False),
    }
    for name, table in tables.items():
        part = keyed_rows(table.frame)
        rows = None if np.array_equal(keys.by_table[name], every) else keys.positions[name]
        measures = [c for c, s in table.specs.items() if not s.is_key]
        columns = (["region"] if "region" in part else []) + measures
        labels = [f"{name}.{column}" if column in merged else column for column in columns]
        merged |= dict(zip(labels, _scatter_columns(part, columns, rows, len(every))))
    frame = pd.DataFrame(merged, copy=False)
    if "region" in frame:
        frame["region"] = _region_of_every_row(frame)
    return frame


def _region_of_every_row(frame: pd.DataFrame) -> pd.Series:
    """Each team's region on all its rows, also those that only other tables hold."""
    codes = frame["team"].cat.codes.to_numpy()
    regions = frame["region"].cat.codes.to_numpy()
    by_team = np.full(len(frame["team"].cat.categories), -1)
    known = regions >= 0
    by_team[codes[known][::-1]] = regions[known][::-1]  # the first region written for each team
    return pd.Series(pd.Categorical.from_codes(by_team[codes], categories=frame["region"].cat.categories))


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
            percent = derived.percent_items(data[items], scales)
            data[index_name] = pd.Series(derived.mean_of_present(percent), index=data.index, copy=False)
            roles[index_name] = index_name
            scales[index_name] = "percent_0_100"
            reliability[index_name] = derived.cronbach_alpha(percent)
    return reliability


def _as_text(column: pd.Series) -> pd.Series:
    """A categorical column as text, each row taken from its category (far faster than ``astype`` on a million rows)."""
    categories = pd.array(column.cat.categories, dtype="string")
    return pd.Series(categories.take(column.cat.codes.to_numpy(), allow_fill=True), index=column.index, name=column.name, copy=False)


def _panel_index(team: pd.Series, ordinals: np.ndarray, fmt: PeriodFormat) -> pd.MultiIndex:
    """The panel's (team, period) index built from codes: teams as text, periods labelled once per distinct period."""
    period_codes, distinct = pd.factorize(ordinals, sort=True)
    levels = [pd.Index(team.cat.categories, dtype="string"), label_index(distinct, fmt)]
    return pd.MultiIndex(levels=levels, codes=[team.cat.codes.to_numpy(), period_codes], names=["team", "period"]).remove_unused_levels()


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
    merged = _merge(tables, validated.keys)
    roles, scales = _roles(tables)
    index = _panel_index(merged.pop("team"), merged["_t"].to_numpy(), fmt)
    data = merged.rename(columns={"_t": "t"}).set_axis(index, axis=0)
    if "region" in data:
        data["region"] = _as_text(data["region"])
    reliability = _add_indices(data, roles, scales)
    sources = {name: t.source for name, t in tables.items()}
    return PanelParts(data=data, roles=roles, scales=scales, period_format=fmt, step=validated.step, report=validated.report, sources=sources, reliability=reliability)
