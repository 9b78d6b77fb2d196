"""Validation of a panel's tables, every failure collected: read, map, check each table, bring it to one form, then the panel-wide rules.

The result is a set of validated tables that :mod:`bstate_stats.panel.assemble` merges into a panel;
nothing here builds the panel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from bstate_stats.schema import panel_rules
from bstate_stats.schema.forms import RESERVED_COLUMNS, check_one, reshape
from bstate_stats.schema.mapping import ColumnMapping
from bstate_stats.schema.periods import PeriodFormat
from bstate_stats.schema.readers import RawTable, find_table_files, frame_table, read_table
from bstate_stats.schema.report import ValidationIssue, ValidationReport
from bstate_stats.schema.spec import SCALES, TABLES, ColumnSpec, TableName, TableSchema, load_schemas
from bstate_stats.schema.table_rules import CheckedTable, check_table

TableInput: TypeAlias = pd.DataFrame | str | Path | None


@dataclass(frozen=True)
class ValidatedTables:
    """Tables that passed every rule, one row per (team, period) each, on one period grid."""

    tables: dict[str, CheckedTable]
    period_format: PeriodFormat
    step: int
    report: ValidationReport
    keys: panel_rules.PanelKeys


def check_panel(tables: dict[str, CheckedTable], schemas: Mapping[Any, TableSchema], report: ValidationReport) -> ValidatedTables | None:
    """Reshape each table to one row per (team, period), then the panel-wide rules; None when there are errors."""
    tables = panel_rules.share_teams({name: reshape(t, schemas[name]) for name, t in tables.items()})
    if "deliverables" in tables and "region" in tables["deliverables"].frame:
        panel_rules.check_regions(tables["deliverables"], report)
    fmt = panel_rules.common_format(list(tables.values()), report)
    keys = panel_rules.PanelKeys.of(tables)
    names = list(tables)
    for other in names[1:]:
        panel_rules.check_coverage(tables[names[0]], tables[other], keys, fmt, report)
    if fmt is None and report.ok:
        sources = ", ".join(t.source for t in tables.values())
        report.add(ValidationIssue.build("error", sources, "period", "period parseable", "no row has a readable period (is the table empty?)"))
    if not report.ok or fmt is None:
        return None
    step = panel_rules.check_grid(keys, fmt, ", ".join(t.source for t in tables.values()), report)
    if not report.ok:
        return None
    return ValidatedTables(tables, fmt, step, report, keys)


def _text_columns(name: str, schema: TableSchema, mapping: ColumnMapping) -> set[str]:
    """The columns of a table file that hold identifiers or periods (by their canonical or mapped names): read as text."""
    canonical = {*schema.keys, "region", schema.long_form.get("item", ""), schema.respondent_form.get("respondent", "")} - {""}
    return canonical | {original for original, target in mapping.columns.get(name, {}).items() if target in canonical}


def _as_raw(name: str, table: TableInput, directory: Path | None, report: ValidationReport, text_columns: set[str] | None = None) -> RawTable | None:
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
    raw, issues = read_table(path, text_columns=text_columns)
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


def _check_raw(name: str, raw: RawTable | None, schema: TableSchema, mapping: ColumnMapping, report: ValidationReport) -> CheckedTable | None:
    """Map a table's columns and check it against its schema; None when it cannot be checked."""
    if raw is None or not _mapping_fits(name, raw, mapping, report):
        return None
    raw = dataclasses.replace(raw, frame=mapping.rename(name, raw.frame))
    if name != "deliverables" and "region" in raw.frame.columns:
        report.add(ValidationIssue.build("warning", raw.source, "region", "region from deliverables", "regions are taken from the deliverables table; this column is not used"))
        raw = dataclasses.replace(raw, frame=raw.frame.drop(columns="region"))
    table, table_report = check_one(name, raw, schema, mapping)
    report.extend(_name_user_columns(table_report.issues, name, mapping))
    return table


def _tables_to_read(tables: Mapping[str, TableInput], directory: Path | None, report: ValidationReport) -> list[TableName]:
    """The tables there are to check, in order; a warning for each optional table a folder does not hold."""
    names: list[TableName] = []
    for name in TABLES:
        given = tables.get(name)
        if given is None and directory is None and name != "deliverables":
            continue
        if given is None and directory is not None and name != "deliverables" and not find_table_files(directory, name):
            report.add(ValidationIssue.build("warning", str(directory), None, "table present", f"no {name} table; its measures are not available"))
            continue
        names.append(name)
    return names


def _read(name: str, given: TableInput, directory: Path | None, text_columns: set[str] | None = None) -> tuple[RawTable | None, ValidationReport]:
    """One table as read, with what reading it reported."""
    report = ValidationReport()
    return _as_raw(name, given, directory, report, text_columns), report


def validate_tables(tables: Mapping[str, TableInput], *, directory: Path | None = None, mapping=None) -> tuple[ValidatedTables | None, ValidationReport]:
    """Validate tables (frames or paths) and build a panel when they pass; never raises on bad data.

    Files are read one ahead: while a table is checked, the next one is read
    in a second thread (pyarrow and NumPy release the GIL, so the two overlap).
    """
    mapping = ColumnMapping.from_dict(mapping)
    schemas = load_schemas()
    report = ValidationReport()
    if directory is not None and not directory.is_dir():
        what = "is a file, not a folder" if directory.exists() else "does not exist"
        report.add(ValidationIssue.build("error", str(directory), None, "data folder exists", f"the data folder {what}"))
        return None, report
    checked: dict[str, CheckedTable] = {}
    names = _tables_to_read(tables, directory, report)
    with ThreadPoolExecutor(max_workers=1) as reader:

        def start_reading(name: TableName) -> Future:
            return reader.submit(_read, name, tables.get(name), directory, _text_columns(name, schemas[name], mapping))

        upcoming = start_reading(names[0])
        for position, name in enumerate(names):
            raw, table_report = upcoming.result()
            if position + 1 < len(names):  # one table ahead, no more: memory stays near two tables' size
                upcoming = start_reading(names[position + 1])
            checked_table = _check_raw(name, raw, schemas[name], mapping, table_report)
            if raw is not None and raw.numbers_read and not table_report.ok:  # read again as text so that messages quote cells as written
                raw, table_report = _read(name, tables.get(name), directory)
                checked_table = _check_raw(name, raw, schemas[name], mapping, table_report)
            report.extend(table_report.issues)
            if checked_table is not None:
                checked[name] = checked_table
    if not report.ok or "deliverables" not in checked:
        return None, report
    return check_panel(checked, schemas, report), report


def require_valid_tables(tables: Mapping[str, TableInput], *, directory: Path | None = None, mapping=None) -> ValidatedTables:
    """Validated tables, or :class:`~bstate_stats.errors.ValidationError` carrying every problem."""
    validated, report = validate_tables(tables, directory=directory, mapping=mapping)
    report.raise_if_invalid()
    assert validated is not None
    return validated


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


def validate_generic_frame(frame: pd.DataFrame, *, team: str, period: str, region: str | None, outcomes: list[str], drivers: list[str], scales: dict[str, str]) -> ValidatedTables:
    """One frame with the user's own column names validated as a panel's only table (no B STATE tables needed)."""
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
    validated = check_panel({"deliverables": checked}, {"deliverables": schema}, report)
    report.raise_if_invalid()
    assert validated is not None
    return validated
