"""Validate one table against its declared schema, collecting every failure.

Steps: required columns present; key columns filled; measure cells parsed as
numbers (each unreadable cell reported); then ranges, finiteness, whole counts
and unique keys: a vectorised screen first, and where it finds anything a
pandera schema built from the declared scales checks them in one lazy pass and
names every failing row, so all failures are reported together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from bstate_stats.schema.periods import ParsedPeriods, PeriodFormat, parse_periods
from bstate_stats.schema.readers import RawTable
from bstate_stats.schema.report import Severity, ValidationIssue, ValidationReport
from bstate_stats.schema.spec import ColumnSpec, TableSchema

DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
WHOLE_FLOAT = r"^([-+]?[0-9]+)\.0+$"  # an identifier written as a whole float
UNIQUE_CHECK = "multiple_fields_uniqueness"


@dataclass
class CheckedTable:
    """A table after validation: parsed columns, their specs and the period format."""

    name: str
    frame: pd.DataFrame  # canonical columns; measures as float; `_t` = period ordinal
    specs: dict[str, ColumnSpec]
    period_format: PeriodFormat | None
    source: str
    row_label: str


def _issue(raw: RawTable, severity: Severity, column: str | None, rule: str, message: str, mask: pd.Series | None = None, values=()):
    rows = raw.frame.index[mask.to_numpy()] if mask is not None else []
    if mask is not None and not len(values):
        values = raw.frame.loc[mask, column].tolist() if column in raw.frame.columns else []
    return ValidationIssue.build(severity, raw.source, column, rule, message, rows, values, raw.row_label)


def parse_number_column(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cells as floats, and a mask of cells that were given but are not numbers."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float), pd.Series(False, index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float), pd.Series(False, index=values.index)
    fast = _arrow_numbers(values)
    if fast is not None:
        return fast, pd.Series(False, index=values.index)
    text = values.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    return numbers, values.notna() & numbers.isna()


def _arrow_numbers(values: pd.Series) -> pd.Series | None:
    """Arrow-backed text read as numbers in one vectorised cast, or None when any cell needs the careful parse.

    The cast fails on anything it cannot read (spaces, decimal commas, 'n/a');
    text it reads as NaN ('nan') is refused here too, since a written 'nan' is
    reported as not a number. Where the cast succeeds it equals the careful parse.
    """
    if not isinstance(values.array, pd.arrays.ArrowStringArray):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        numbers = pc.cast(pa.array(values.array), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if pc.any(pc.is_nan(numbers)).as_py():
        return None
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=values.index)


def _not_numeric_message(values: pd.Series) -> str:
    text = values.astype(str)
    if text.str.match(DECIMAL_COMMA).any():
        return "values are not numbers; some look like decimal commas (write 7.5, not 7,5)"
    return "values are not numbers (leave missing values as empty cells; text such as 'n/a' is not read as missing)"


def key_text(column: pd.Series) -> pd.Series:
    """Identifiers as categories of text, the same however a file stored them: 1, 1.0 and "1" are all "1"; "NA" stays "NA".

    Text and number columns are converted once per distinct value; the
    categories are the distinct identifiers (in no particular order).
    """
    if column.dtype == object:  # mixed Python objects: 1 and True hash alike, so convert cell by cell
        return _key_text(column).astype("category")
    codes, distinct = pd.factorize(column)
    text = _key_text(pd.Series(distinct))
    if text.notna().all() and text.is_unique:  # the categories in order of appearance: sorting waits until the tables are joined
        return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(text, dtype="string")), index=column.index)
    merged, names = pd.factorize(text, sort=True)  # '1' and '1.0' become one identifier
    codes = np.where(codes >= 0, merged[np.maximum(codes, 0)], -1)
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype="string")), index=column.index)


def _key_text(column: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        return column.astype("string")
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.astype(float)
        whole = numbers.notna() & np.isfinite(numbers) & (numbers == np.round(numbers))
        text = numbers.astype("string")
        text[whole] = numbers[whole].astype("int64").astype("string")
        return text.where(numbers.notna(), pd.NA)
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(pa.array(column.astype("string").array, type=pa.large_string()))  # pyarrow: little cost per call, fast per value
    plain = pc.replace_substring_regex(text, WHOLE_FLOAT, r"\1")  # 1.0 written by a float column of another file
    return pd.Series(pd.array(plain, dtype="string"), index=column.index)


def _key_checks(raw: RawTable, spec: ColumnSpec, report: ValidationReport) -> pd.Series:
    column = raw.frame[spec.name]
    text = key_text(column)
    missing = text.isna() | (text == "")
    if missing.any():
        report.add(_issue(raw, "error", spec.name, "key not missing", f"{spec.role} is missing", missing, values=[None] * int(missing.sum())))
    return text


def _period_checks(raw: RawTable, report: ValidationReport) -> ParsedPeriods:
    parsed = parse_periods(raw.frame["period"])
    if parsed.unparseable.any():
        fmt = parsed.format.describe() if parsed.format else "no readable period"
        report.add(
            _issue(
                raw, "error", "period", "period parseable",
                f"period cannot be read as a period of this panel ({fmt}); use integers, years, '2024-01', '2024Q1', weeks ('2024-W01') or dates",
                parsed.unparseable,
            )
        )
    return parsed


def _pandera_schema(specs: dict[str, ColumnSpec], keys: tuple[str, ...]) -> pa.DataFrameSchema:
    """A pandera schema of the parsed measure columns, built from their declared scales."""
    columns = {}
    for name, spec in specs.items():
        if spec.is_key:
            continue
        scale = spec.bounds()
        checks = [pa.Check(lambda s: ~np.isinf(s), error="finite (no infinity)")]
        if scale.low is not None or scale.high is not None:
            low = -np.inf if scale.low is None else scale.low
            high = np.inf if scale.high is None else scale.high
            checks.append(pa.Check.in_range(low, high, error=f"{spec.scale}: {scale.describe()}"))
        if scale.integer:
            checks.append(pa.Check(lambda s: s == np.round(s), error=f"{spec.scale}: whole numbers"))
        columns[name] = pa.Column(float, checks=checks, nullable=True)
    return pa.DataFrameSchema(columns, unique=list(keys) or None, report_duplicates="all")


def _rule_message(check: str) -> str:
    if check.startswith("finite"):
        return "value is infinite; leave the cell empty if the value is missing"
    if check.endswith("whole numbers"):
        return "value must be a whole number"
    return "value outside its scale"


def _passes_screen(parsed: Mapping[str, pd.Series] | pd.DataFrame, specs: dict[str, ColumnSpec], keys: tuple[str, ...]) -> bool:
    """Whether every measure is finite, on its scale and whole where it must be, and the keys unique: one vectorised pass.

    The screen is at least as strict as the pandera schema built from the same
    scales; pandera runs only when the screen finds something, to name the
    failing rows and values.
    """
    for name, spec in specs.items():
        if spec.is_key:
            continue
        values = parsed[name].to_numpy() if parsed[name].dtype == np.float64 else parsed[name].to_numpy(dtype=float, na_value=np.nan)
        if not len(values):
            continue
        low, high = np.fmin.reduce(values), np.fmax.reduce(values)  # NaN only when every value is missing
        scale = spec.bounds()
        if np.isinf(low) or np.isinf(high):
            return False
        if (scale.low is not None and low < scale.low) or (scale.high is not None and high > scale.high):
            return False
        if scale.integer and not np.array_equal(np.floor(values), values, equal_nan=True):  # a missing value's NaN is no fraction
            return False
    if not keys:
        return True
    combined, size = np.zeros(len(parsed[keys[0]]), dtype=np.int64), 1
    for key in keys:
        codes, n_codes = _key_codes(parsed[key])
        combined, size = combined * n_codes + codes, size * n_codes  # equal keys, equal integers (an overflow only adds false alarms)
    if 0 <= size <= 8 * len(combined) + 1024:
        return np.bincount(combined, minlength=size).max(initial=0) <= 1
    return len(pd.unique(combined)) == len(combined)


def _key_codes(column: pd.Series) -> tuple[np.ndarray, int]:
    """A key column as integers from 0 (equal values, equal codes; missing values share a code of their own), and how many codes there can be."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(dtype=np.int64) + 1, len(column.cat.categories) + 1
    present = column.notna().to_numpy()
    if pd.api.types.is_integer_dtype(column) and present.any():  # period ordinals: their offset from the first
        values = column.to_numpy(dtype=np.int64, na_value=0)
        low, high = values[present].min(), values[present].max()
        return np.where(present, values - low + 1, 0), int(high - low) + 2
    codes = pd.factorize(column, use_na_sentinel=False)[0].astype(np.int64)
    return codes, int(codes.max(initial=0)) + 1


def _pandera_issues(raw: RawTable, parsed: pd.DataFrame, schema: pa.DataFrameSchema) -> list[ValidationIssue]:
    try:
        schema.validate(parsed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    issues = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        if check == UNIQUE_CHECK:
            continue
        rows = pd.Index(group["index"].dropna().unique())
        mask = raw.frame.index.isin(rows)
        values = raw.frame.loc[mask, column].tolist() if column in raw.frame else group["failure_case"].tolist()
        message = _rule_message(str(check))
        issues.append(_issue(raw, "error", str(column), str(check), message, pd.Series(mask, index=raw.frame.index), values))
    duplicated = cases[cases["check"] == UNIQUE_CHECK]
    if len(duplicated):
        keys = list(schema.unique or [])
        mask = pd.Series(raw.frame.index.isin(duplicated["index"].unique()), index=raw.frame.index)
        seen = ["/".join(map(str, row)) for row in raw.frame.loc[mask, keys].itertuples(index=False)]
        named = ", ".join(keys)
        issues.append(_issue(raw, "error", named, f"unique ({named})", f"the same ({named}) appears more than once", mask, seen))
    return issues


def _exposure_issues(raw: RawTable, parsed: pd.DataFrame, specs: dict[str, ColumnSpec]) -> list[ValidationIssue]:
    """Counts above what they are counted out of (more customers lost than served): one vectorised comparison per pair."""
    issues = []
    for name, spec in specs.items():
        if not spec.of or spec.of not in parsed.columns:
            continue
        above = pd.Series(parsed[name].to_numpy(dtype=float) > parsed[spec.of].to_numpy(dtype=float), index=raw.frame.index)
        if above.any():
            seen = [f"{a:g} of {b:g}" for a, b in zip(parsed.loc[above, name], parsed.loc[above, spec.of])]
            issues.append(_issue(raw, "error", name, f"{name} <= {spec.of}", f"{name} exceeds {spec.of}: a count cannot be larger than what it is counted out of", above, seen))
    return issues


def check_table(raw: RawTable, schema: TableSchema, *, scale_overrides: dict[str, str] | None = None) -> tuple[CheckedTable, ValidationReport]:
    """Validate one raw table against ``schema``; never raises on bad data.

    Parameters
    ----------
    raw
        The table as read (columns already renamed to canonical names).
    schema
        Its declared contract.
    scale_overrides
        Scale per column name or role, e.g. ``{"habit_item": "likert_1_5"}``.

    Returns
    -------
    checked, report
        The parsed table (bad cells set to missing) and every issue found.
    """
    report = ValidationReport()
    frame = raw.frame
    for name in schema.required:
        if name not in frame.columns:
            spec = schema.column(name)
            description = f" ({spec.description})" if spec and spec.description else ""
            report.add(ValidationIssue.build("error", raw.source, name, "required column", f"required column is missing{description}; columns present: {', '.join(frame.columns)}"))
    specs = schema.resolve(list(frame.columns), scale_overrides)
    ignored = [c for c in frame.columns if c not in specs]
    if ignored:
        report.add(ValidationIssue.build("warning", raw.source, ", ".join(ignored), "declared column", "columns not in the schema are ignored (map them to a role to use them)"))
    columns: dict[str, pd.Series] = {}
    period_format = None
    for name, spec in specs.items():
        if spec.is_key and spec.scale == "id":
            columns[name] = _key_checks(raw, spec, report)
        elif spec.is_key:
            if frame[name].isna().any():
                report.add(_issue(raw, "error", name, "key not missing", "period is missing", frame[name].isna()))
            periods = _period_checks(raw, report)
            columns["_t"] = periods.ordinals
            columns[name] = frame[name]
            period_format = periods.format
        else:
            columns[name], bad = parse_number_column(frame[name])
            if bad.any():
                report.add(_issue(raw, "error", name, "numeric", _not_numeric_message(frame.loc[bad, name]), bad))
    parsed = pd.DataFrame(columns, index=frame.index, copy=False)  # no copy into one block: a million rows per column
    # duplicates are judged on parsed periods, so '2024-01' and '2024-01-01' are the same key
    keys = tuple(schema.keys) if set(schema.keys) - {"period"} | {"_t"} <= set(parsed.columns) else ()
    by_ordinal = {("period" if c == "_t" else c): v for c, v in columns.items() if c != "period"}
    if not _passes_screen(by_ordinal, specs, keys):
        report.extend(_pandera_issues(raw, pd.DataFrame(by_ordinal, index=frame.index, copy=False), _pandera_schema(specs, keys)))
    report.extend(_exposure_issues(raw, parsed, specs))
    for name, spec in specs.items():
        if not spec.is_key and columns[name].isna().any() and name in frame.columns:
            missing = frame[name].isna()
            if missing.any():
                report.add(
                    _issue(raw, "warning", name, "missing values", "empty cells: rows are kept; a model that uses this column excludes them and counts them in its ledger", missing, values=[None] * int(missing.sum()))
                )
    return CheckedTable(schema.name, parsed, specs, period_format, raw.source, raw.row_label), report
