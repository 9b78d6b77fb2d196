"""The forms a table may come in: habits in long form and respondent-level survey rows, checked and brought to one row per (team, period)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from bstate_stats.schema.mapping import ColumnMapping
from bstate_stats.schema.readers import RawTable
from bstate_stats.schema.report import ValidationIssue, ValidationReport
from bstate_stats.schema.spec import ColumnSpec, TableSchema
from bstate_stats.schema.table_rules import CheckedTable, check_table

RESERVED_COLUMNS = ("t", "_t")  # the panel's period position


def _long_habit_schema(schema: TableSchema, scale: str) -> TableSchema:
    """Schema of habits in long form: team, period, habit, score."""
    item, value = schema.long_form["item"], schema.long_form["value"]
    columns = (*schema.columns, ColumnSpec(item, "habit", "id", True, "Habit name."), ColumnSpec(value, "habit_item", scale, True, "Habit score."))
    return dataclasses.replace(schema, keys=(*schema.keys, item), columns=columns, item_patterns=())


def _respondent_schema(schema: TableSchema) -> TableSchema:
    """Schema of respondent-level relationship rows: no n_respondents, one row per respondent."""
    respondent = schema.respondent_form["respondent"]
    columns = tuple(c for c in schema.columns if c.name not in ("n_respondents", "share_improved"))
    columns = (*columns, ColumnSpec(respondent, "respondent", "id", True, "Respondent identifier."))
    return dataclasses.replace(schema, keys=(*schema.keys, respondent), columns=columns)


def check_one(name: str, raw: RawTable, schema: TableSchema, mapping: ColumnMapping) -> tuple[CheckedTable, ValidationReport]:
    overrides = mapping.scales_for(name)
    if name == "habits" and set(schema.long_form.values()) <= set(raw.frame.columns):
        item_scale = overrides.get("habit_item", overrides.get(schema.long_form["value"], schema.item_patterns[0].scale))
        checked, report = check_table(raw, _long_habit_schema(schema, item_scale), scale_overrides=overrides)
        item = schema.long_form["item"]
        clash = raw.frame[item].astype("string").str.strip().isin(["team", "period", "region", *RESERVED_COLUMNS])
        if clash.any():
            report.add(ValidationIssue.build("error", raw.source, item, "habit names", "habit names may not be 'team', 'period', 'region' or 't' (the panel's own columns)", raw.frame.index[clash.to_numpy()], raw.frame.loc[clash.to_numpy(), item].tolist(), raw.row_label))
        return checked, report
    if name == "relationships" and schema.respondent_form.get("respondent") in raw.frame.columns:
        return check_table(raw, _respondent_schema(schema), scale_overrides=overrides)
    return check_table(raw, schema, scale_overrides=overrides)


def reshape(checked: CheckedTable, schema: TableSchema) -> CheckedTable:
    """Long habits to wide items; respondent rows to team-period means with counts."""
    frame = checked.frame
    if checked.name == "habits" and schema.long_form.get("item") in frame.columns:
        item, value = schema.long_form["item"], schema.long_form["value"]
        wide = frame.pivot(index=["team", "_t"], columns=item, values=value)
        wide.columns = [str(c) for c in wide.columns]
        wide = wide[sorted(wide.columns)]  # habits in name order, whatever order the file lists them in
        periods = frame.groupby(["team", "_t"], observed=True)["period"].first()
        wide = wide.join(periods).reset_index()
        wide.columns = [str(c) for c in wide.columns]
        scale = checked.specs[value].scale
        specs = {k: v for k, v in checked.specs.items() if k not in (item, value)}
        specs |= {c: ColumnSpec(c, "habit_item", scale) for c in wide.columns if c not in ("team", "_t", "period")}
        return dataclasses.replace(checked, frame=wide, specs=specs)
    respondent = schema.respondent_form.get("respondent")
    if checked.name == "relationships" and respondent in frame.columns:
        items = [c for c, s in checked.specs.items() if s.role == "relationship_item"]
        flag = next((c for c, s in checked.specs.items() if s.role == "improvement_flag"), None)
        aggregated = aggregate_respondents(frame, items, flag)
        specs = {k: v for k, v in checked.specs.items() if k not in (respondent,) and v.role != "improvement_flag"}
        specs["n_respondents"] = schema.required_column("n_respondents")
        if flag is not None:
            specs["share_improved"] = schema.required_column("share_improved")
        return dataclasses.replace(checked, frame=aggregated, specs=specs)
    return checked


def aggregate_respondents(frame: pd.DataFrame, items: list[str], flag: str | None) -> pd.DataFrame:
    """Respondent-level survey rows to team-period means with counts.

    Returns ``n_respondents`` (rows per team-period), each item's mean, and
    ``share_improved`` (mean of the 0/1 flag) when a flag column is given.
    """
    grouped = frame.groupby(["team", "_t"], sort=True)
    out = grouped[items].mean()
    out.insert(0, "n_respondents", grouped.size().astype(float))
    if flag is not None:
        out["share_improved"] = grouped[flag].mean()
    first = grouped[["period"]].first()
    return out.join(first).reset_index()
