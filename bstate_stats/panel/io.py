"""Reading the three tables from disk (CSV, Parquet, Excel) without losing anything.

CSV files are read as text so that every cell reaches the validator as it was
written: only empty cells count as missing ("n/a", "NA" or "7,5" in a score
are reported, never turned into NaN behind the user's back).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bstate_stats.schema.report import ValidationIssue

SUFFIXES = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xls": "excel"}


@dataclass(frozen=True)
class RawTable:
    """A table as read from its source, before validation.

    ``frame.index`` holds the row labels used in messages: file line numbers
    (header on line 1) for CSV and Excel, 1-based row numbers for Parquet.
    """

    frame: pd.DataFrame
    source: str
    row_label: str
    encoding: str | None = None


def find_table_file(directory: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``directory`` (``deliverables.csv``, ``habits.parquet`` ...)."""
    for suffix in SUFFIXES:
        candidate = directory / f"{table}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _read_csv_text(path: Path) -> tuple[pd.DataFrame, str]:
    """Read a CSV as text; UTF-8 (with or without BOM) first, Latin-1 as fallback."""
    options = dict(dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True)
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **options), "utf-8"
    except UnicodeDecodeError:
        return pd.read_csv(path, encoding="latin-1", **options), "latin-1"


def read_table(path: str | Path) -> tuple[RawTable | None, list[ValidationIssue]]:
    """Read one table file.

    Returns
    -------
    table, issues
        ``table`` is None when the file cannot be used (missing, empty,
        unreadable); ``issues`` says why, or warns about the encoding.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        return None, [ValidationIssue.build("error", source, None, "file exists", "file not found")]
    if path.stat().st_size == 0:
        return None, [ValidationIssue.build("error", source, None, "file not empty", "file is empty (0 bytes)")]
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(SUFFIXES))
        return None, [ValidationIssue.build("error", source, None, "file format", f"unsupported file type; use one of {known}")]
    issues: list[ValidationIssue] = []
    encoding = None
    try:
        if kind == "csv":
            frame, encoding = _read_csv_text(path)
            if encoding == "latin-1":
                issues.append(
                    ValidationIssue.build(
                        "warning", source, None, "encoding utf-8", "file is not valid UTF-8; it was read as Latin-1 (check accented names)"
                    )
                )
        elif kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_excel(path, sheet_name=0)
    except pd.errors.EmptyDataError:
        return None, [ValidationIssue.build("error", source, None, "file not empty", "file has no header and no rows")]
    except (pd.errors.ParserError, ValueError, OSError, ImportError) as exc:
        return None, [ValidationIssue.build("error", source, None, "file readable", f"cannot read file: {exc}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        return None, [ValidationIssue.build("error", source, None, "file has rows", "file has a header but no data rows")]
    row_label = "row" if kind == "parquet" else "line"
    frame.index = pd.RangeIndex(1 if kind == "parquet" else 2, len(frame) + (1 if kind == "parquet" else 2))
    return RawTable(frame, source, row_label, encoding), issues


def frame_table(frame: pd.DataFrame, source: str) -> RawTable:
    """Wrap an in-memory frame as a table whose rows are named by their index labels."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    return RawTable(frame, source, "row")
