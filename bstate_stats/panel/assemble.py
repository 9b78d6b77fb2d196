"""From raw tables to a :class:`~bstate_stats.panel.panel.Panel`: validate, reshape, merge, derive."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd

from bstate_stats.panel import checks, derived
from bstate_stats.panel.derived import HABIT_INDEX, RELATIONSHIP_INDEX
from bstate_stats.panel.io import RawTable, find_table_files, frame_table, read_table
from bstate_stats.panel.mapping import ColumnMapping
from bstate_stats.panel.periods import PeriodFormat, label_series
from bstate_stats.schema.report import ValidationIssue, ValidationReport
from bstate_stats.schema.spec import SCALES, ColumnSpec, TableSchema, load_schemas
from bstate_stats.schema.validate import CheckedTable, check_table

TableInput = pd.DataFrame | str | Path | None
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


def _check_one(name: str, raw: RawTable, schema: TableSchema, mapping: ColumnMapping) -> tuple[CheckedTable, ValidationReport]:
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


def _reshape(checked: CheckedTable, schema: TableSchema) -> CheckedTable:
    """Long habits to wide items; respondent rows to team-period means with counts."""
    frame = checked.frame
    if checked.name == "habits" and schema.long_form.get("item") in frame.columns:
        item, value = schema.long_form["item"], schema.long_form["value"]
        wide = frame.pivot(index=["team", "_t"], columns=item, values=value)
        periods = frame.groupby(["team", "_t"])["period"].first()
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
        aggregated = derived.aggregate_respondents(frame, items, flag)
        specs = {k: v for k, v in checked.specs.items() if k not in (respondent,) and v.role != "improvement_flag"}
        specs["n_respondents"] = schema.column("n_respondents")
        if flag is not None:
            specs["share_improved"] = schema.column("share_improved")
        return dataclasses.replace(checked, frame=aggregated, specs=specs)
    return checked


def _merge(tables: dict[str, CheckedTable]) -> pd.DataFrame:
    """Outer join of the tables on (team, t): rows missing from one table are kept, never joined away."""
    merged = None
    for name, table in tables.items():
        measures = [c for c, s in table.specs.items() if not s.is_key]
        columns = ["team", "_t", *(["region"] if "region" in table.frame else []), *measures]
        part = table.frame.dropna(subset=["team", "_t"])[columns]
        renamed = {c: f"{name}.{c}" for c in measures if merged is not None and c in merged.columns}
        part = part.rename(columns=renamed)
        merged = part if merged is None else merged.merge(part, on=["team", "_t"], how="outer", suffixes=("", f".{name}"))
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


def build_panel(tables: dict[str, CheckedTable], schemas: Mapping[str, TableSchema], report: ValidationReport) -> PanelParts | None:
    """Panel-level rules, then merge and derive; returns None when there are errors."""
    tables = {name: _reshape(t, schemas[name]) for name, t in tables.items()}
    if "deliverables" in tables and "region" in tables["deliverables"].frame:
        checks.check_regions(tables["deliverables"], report)
    fmt = checks.common_format(list(tables.values()), report)
    names = list(tables)
    for other in names[1:]:
        checks.check_coverage(tables[names[0]], tables[other], fmt, report)
    if fmt is None and report.ok:
        sources = ", ".join(t.source for t in tables.values())
        report.add(ValidationIssue.build("error", sources, "period", "period parseable", "no row has a readable period (is the table empty?)"))
    if not report.ok:
        return None
    merged = _merge(tables)
    step = checks.check_grid(merged, fmt, ", ".join(t.source for t in tables.values()), report)
    if not report.ok:
        return None
    roles, scales = _roles(tables)
    merged["period"] = label_series(merged["_t"].astype("int64"), fmt)
    merged = merged.rename(columns={"_t": "t"}).astype({"t": "int64"}).sort_values(["team", "t"])
    data = merged.set_index(["team", "period"])
    reliability = _add_indices(data, roles, scales)
    sources = {name: t.source for name, t in tables.items()}
    return PanelParts(data=data, roles=roles, scales=scales, period_format=fmt, step=step, report=report, sources=sources, reliability=reliability)


def _as_raw(name: str, table: TableInput, directory: Path | None, report: ValidationReport) -> RawTable | None:
    if isinstance(table, pd.DataFrame) and table.empty:
        report.add(ValidationIssue.build("error", name, None, "table has rows", "table is empty"))
        return None
    if table is not None and not isinstance(table, (str, Path)):
        raw, issues = frame_table(table, name)
        report.extend(issues)
        return raw
    if table is not None:
        path: Path | None = Path(table)
    else:
        candidates = find_table_files(directory, name) if directory else []
        if len(candidates) > 1:
            listed = ", ".join(p.name for p in candidates)
            report.add(ValidationIssue.build("error", str(directory), None, "one file per table", f"{len(candidates)} files hold the {name} table ({listed}); keep one"))
            return None
        path = candidates[0] if candidates else None
    if path is None:
        where = f"{directory}/{name}.csv|.parquet|.xlsx" if directory else name
        report.add(ValidationIssue.build("error", where, None, "file exists", f"no {name} table found"))
        return None
    raw, issues = read_table(path)
    report.extend(issues)
    return raw


def _name_user_columns(issues: list[ValidationIssue], table: str, mapping: ColumnMapping) -> list[ValidationIssue]:
    """Messages name the user's own column (``'CSAT overall' (csat)``)."""
    if not mapping.columns.get(table):
        return issues
    return [dataclasses.replace(i, column=mapping.original(table, i.column) if i.column else None) for i in issues]


def _mapping_fits(name: str, raw: RawTable, mapping: ColumnMapping, report: ValidationReport) -> bool:
    """Errors for columns that would share a name after renaming (or use a reserved name); warnings for mapped columns absent."""
    columns = [str(c) for c in raw.frame.columns]
    absent = mapping.absent(name, columns)
    if absent:
        report.add(ValidationIssue.build("warning", raw.source, ", ".join(absent), "mapped column present", "the column mapping renames columns this file does not have (check the spelling)"))
    fits = True
    for target, sources in mapping.clashes(name, columns):
        fits = False
        report.add(
            ValidationIssue.build(
                "error", raw.source, ", ".join(sources), "one column per role",
                f"columns {', '.join(repr(s) for s in sources)} would all become {target!r} after the column mapping; map only one of them to {target!r}",
            )
        )
    renamed = [mapping.columns.get(name, {}).get(c, c) for c in columns]
    reserved = [c for c in renamed if c in RESERVED_COLUMNS]
    if reserved:
        fits = False
        report.add(ValidationIssue.build("error", raw.source, ", ".join(reserved), "reserved column name", f"the names {', '.join(map(repr, reserved))} are used by the panel itself; rename the column (or map it to another name)"))
    return fits


def validate_tables(tables: Mapping[str, TableInput], *, directory: Path | None = None, mapping=None) -> tuple[PanelParts | None, ValidationReport]:
    """Validate tables (frames or paths) and build a panel when they pass; never raises on bad data."""
    mapping = ColumnMapping.from_dict(mapping)
    schemas = load_schemas()
    report = ValidationReport()
    if directory is not None and not directory.is_dir():
        what = "is a file, not a folder" if directory.exists() else "does not exist"
        report.add(ValidationIssue.build("error", str(directory), None, "data folder exists", f"the data folder {what}"))
        return None, report
    checked: dict[str, CheckedTable] = {}
    for name in ("deliverables", "habits", "relationships"):
        given = tables.get(name)
        if given is None and directory is None and name != "deliverables":
            continue
        if given is None and directory is not None and name != "deliverables" and not find_table_files(directory, name):
            report.add(ValidationIssue.build("warning", str(directory), None, "table present", f"no {name} table; its measures are not available"))
            continue
        raw = _as_raw(name, given, directory, report)
        if raw is None:
            continue
        if not _mapping_fits(name, raw, mapping, report):
            continue
        raw = dataclasses.replace(raw, frame=mapping.rename(name, raw.frame))
        if name != "deliverables" and "region" in raw.frame.columns:
            report.add(ValidationIssue.build("warning", raw.source, "region", "region from deliverables", "regions are taken from the deliverables table; this column is not used"))
            raw = dataclasses.replace(raw, frame=raw.frame.drop(columns="region"))
        table, table_report = _check_one(name, raw, schemas[name], mapping)
        report.extend(_name_user_columns(table_report.issues, name, mapping))
        checked[name] = table
    if not report.ok or "deliverables" not in checked:
        return None, report
    return build_panel(checked, schemas, report), report


def parts_from_tables(tables: Mapping[str, TableInput], *, directory: Path | None = None, mapping=None) -> PanelParts:
    """A validated panel's parts, or :class:`~bstate_stats.errors.ValidationError` carrying every problem."""
    parts, report = validate_tables(tables, directory=directory, mapping=mapping)
    report.raise_if_invalid()
    assert parts is not None
    return parts


def _generic_frame_problems(frame: object, names: dict[str, str | None], outcomes: list[str], drivers: list[str], scales: dict[str, str]) -> list[str]:
    """What makes a ``Panel.from_frame`` call impossible before any cell is read."""
    if not isinstance(frame, pd.DataFrame):
        return [f"expected a pandas DataFrame, got {type(frame).__name__}"]
    problems = []
    if not outcomes:
        problems.append("at least one outcome column is needed (outcomes=[...])")
    given = [*[v for v in names.values() if v is not None], *outcomes, *drivers]
    problems += [f"column names must be text, got {c!r}" for c in given if not isinstance(c, str)]
    problems += [f"column {c!r} is not in the frame; columns present: {', '.join(map(str, frame.columns))}" for c in dict.fromkeys(given) if isinstance(c, str) and c not in frame.columns]
    clash = [c for c in ("team", "period", "region", *RESERVED_COLUMNS) if c in [*outcomes, *drivers]]
    problems += [f"{c!r} is reserved for the identifiers and the period position; rename that column first" for c in clash]
    problems += [f"scale of {c!r}: unknown scale {s!r} (scales: {', '.join(SCALES)})" for c, s in scales.items() if s not in SCALES]
    return problems


def parts_from_generic_frame(frame: pd.DataFrame, *, team: str, period: str, region: str | None, outcomes: list[str], drivers: list[str], scales: dict[str, str]) -> PanelParts:
    """A panel from one frame with the user's own column names (no B STATE tables needed)."""
    report = ValidationReport()
    problems = _generic_frame_problems(frame, {"team": team, "period": period, "region": region}, outcomes, drivers, scales)
    for problem in problems:
        report.add(ValidationIssue.build("error", "frame", None, "from_frame arguments", problem))
    report.raise_if_invalid()
    keys = [ColumnSpec("team", "team", "id", True), ColumnSpec("period", "period", "period", True)]
    if region is not None:
        keys.append(ColumnSpec("region", "region", "id", True))
    measures = [ColumnSpec(c, "outcome", scales.get(c, "numeric"), True) for c in dict.fromkeys(outcomes)]
    measures += [ColumnSpec(c, "driver", scales.get(c, "numeric"), True) for c in dict.fromkeys(drivers) if c not in outcomes]
    schema = TableSchema("deliverables", "user panel", ("team", "period"), tuple(keys + measures))
    renames = {team: "team", period: "period", **({region: "region"} if region else {})}
    wanted = list(dict.fromkeys([team, period, *([region] if region else []), *outcomes, *drivers]))
    raw, issues = frame_table(frame[wanted].rename(columns=renames), "frame")
    report.extend(issues)
    report.raise_if_invalid()
    assert raw is not None
    checked, table_report = check_table(raw, schema)
    report.extend(table_report)
    report.raise_if_invalid()
    parts = build_panel({"deliverables": checked}, {"deliverables": schema}, report)
    report.raise_if_invalid()
    assert parts is not None
    return parts
