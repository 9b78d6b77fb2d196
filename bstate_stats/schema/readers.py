"""Reading the three tables from disk (CSV, Parquet, Excel) without losing anything.

Only empty cells count as missing: "n/a", "NA" or "7,5" in a score are
reported, never turned into NaN behind the user's back. Well-formed UTF-8 CSV
files are read by pyarrow in parallel, identifiers and periods as text and
the other columns as numbers where every cell is one (a column with any other
cell stays text); the validator reads a failing table again as text, so every
message quotes the cells as written. Other files go to a careful text reader.
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
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
    numbers_read: bool = False  # a CSV's columns read as numbers: messages quoting cells need the file read as text


def find_table_files(directory: Path, table: str) -> list[Path]:
    """The files that may hold ``table`` in ``directory`` (``deliverables.csv``, ``habits.XLSX`` ...), any letter case.

    Parameters
    ----------
    directory
        The data folder.
    table
        ``deliverables``, ``habits`` or ``relationships``.

    Returns
    -------
    list of Path
        Sorted; more than one means the folder is ambiguous.
    """
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.stem.lower() == table and p.suffix.lower() in SUFFIXES)


def _duplicates(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    return [name for name, count in seen.items() if count > 1]


def _duplicate_header_issue(source: str, names: list[str]) -> ValidationIssue | None:
    """An error naming every column header written more than once (after trimming spaces)."""
    twice = _duplicates([str(n).strip() for n in names])
    if not twice:
        return None
    return ValidationIssue.build(
        "error", source, ", ".join(twice), "unique column names",
        f"column header(s) {', '.join(repr(t) for t in twice)} appear more than once; keep one column per name (rename or delete the copy)",
    )


def _csv_header(path: Path, encoding: str) -> tuple[list[str], int]:
    """The header as written and the number of blank lines above it."""
    with open(path, encoding=encoding, newline="") as handle:
        for blank, row in enumerate(csv.reader(handle)):
            if any(cell.strip() for cell in row):
                return row, blank
    return [], 0


def _utf8_header(path: Path) -> tuple[list[str], int]:
    """The header read as UTF-8, or no header when its bytes are not UTF-8."""
    try:
        return _csv_header(path, "utf-8-sig")
    except (UnicodeDecodeError, csv.Error):
        return [], 0


def _overlong_lines(path: Path, encoding: str, width: int) -> list[int]:
    """File lines holding more non-empty cells than the header has columns (a trailing comma is fine)."""
    with open(path, encoding=encoding, newline="") as handle:
        return [line for line, row in enumerate(csv.reader(handle), start=1) if len(row) > width and any(c.strip() for c in row[width:])]


def _read_csv_arrow(path: Path, header: list[str], text_columns: Collection[str] | None) -> pd.DataFrame | None:
    """The fast path for well-formed UTF-8 files: pyarrow reads the file in parallel.

    With ``text_columns`` None every column is read as text. Otherwise those
    columns are read as text and the others as numbers where every cell is
    one; a column that is not all numbers (or holds 'nan', which a user did
    not mean as a number) stays text, or, for types other than numbers and
    text, the whole file is read as text.

    Returns None (and the careful reader takes over) whenever the file needs
    its care: a repeated header, cells that do not line up with the header,
    quoted line breaks, bytes that are not UTF-8 or cells with leading spaces.
    Otherwise its text cells equal the careful reader's: only empty cells are
    missing, rows are labelled by file line and wholly empty rows dropped.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if not header or _duplicates([name.strip() for name in header]):
        return None
    names = [f"column {i}" for i in range(len(header))]
    as_text = {n for n, h in zip(names, header) if text_columns is None or h.strip() in text_columns}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.large_string() for name in as_text}, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, OSError):
        return None
    numbers = [_plain_numbers(column) for column in table.columns]
    text = [pa.types.is_large_string(column.type) or pa.types.is_string(column.type) for column in table.columns]
    if not all(n or t for n, t in zip(numbers, text)):
        return None if text_columns is None else _read_csv_arrow(path, header, None)
    if any(pc.any(pc.starts_with(column, " ")).as_py() for column, n in zip(table.columns, numbers) if not n):
        return None  # the careful reader skips the spaces after each comma
    frame = table.to_pandas()
    frame.columns = range(len(header))
    frame.index = pd.RangeIndex(2, 2 + len(frame))  # file line numbers, the header on line 1
    if all(column.null_count for column in table.columns):  # a wholly empty row needs an empty cell in every column
        empty = np.logical_and.reduce([np.asarray(pc.is_null(column)) for column in table.columns])
        return frame[~empty] if empty.any() else frame
    return frame


def _plain_numbers(column) -> bool:
    """Whether pyarrow read a column as numbers (or as nothing but empty cells) and no cell as NaN."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_null(column.type) or pa.types.is_integer(column.type):
        return True
    return pa.types.is_floating(column.type) and not pc.any(pc.is_nan(column)).as_py()


def _read_csv_text(path: Path, text_columns: Collection[str] | None = None) -> tuple[pd.DataFrame, str, list[str]]:
    """Read a CSV: UTF-8 (with or without BOM) first, then Windows-1252 (Excel's export), then Latin-1.

    Every cell is read as text, except that with ``text_columns`` given a
    well-formed UTF-8 file's other columns may be read as numbers (see
    :func:`_read_csv_arrow`). Also returns the header as written (pandas
    would rename a repeated header).
    """
    header, blank = _utf8_header(path)
    if blank == 0:
        fast = _read_csv_arrow(path, header, text_columns)
        if fast is not None:
            return fast, "utf-8", header
    for encoding, label in (("utf-8-sig", "utf-8"), ("cp1252", "windows-1252"), ("latin-1", "latin-1")):
        try:
            header, blank = _csv_header(path, encoding)
            frame = pd.read_csv(
                path, encoding=encoding, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True,
                header=blank, index_col=False, skip_blank_lines=False,
            )
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError:
            lines = _overlong_lines(path, encoding, len(header))
            if lines:
                raise _OverlongRows(lines) from None
            raise
        frame.index = pd.RangeIndex(blank + 2, blank + 2 + len(frame))  # file line numbers, the header on its own line
        return frame.dropna(how="all"), label, header
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


class _OverlongRows(ValueError):
    """Rows with more cells than the header names: their extra cells would be lost."""

    def __init__(self, lines: list[int]) -> None:
        super().__init__(lines)
        self.lines = lines


def _read_parquet(path: Path) -> tuple[pd.DataFrame, list[str]]:
    import pyarrow.parquet as pq

    names = list(pq.read_schema(path).names)
    if _duplicates(names):
        return pd.DataFrame(columns=range(len(names))), names
    frame = pq.read_table(path).to_pandas()
    if not isinstance(frame.index, pd.RangeIndex):  # columns written as a pandas index are columns too
        frame = frame.reset_index()
    return frame, [str(c) for c in frame.columns]


def _sheet_rows(path: Path) -> dict[str, list[tuple]]:
    """Every sheet's rows as written: numbers stay numbers, text (``n/a``, ``NA``) and error cells (``#N/A``) stay text."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
    finally:
        book.close()


def _trim(row: tuple) -> list:
    cells = ["" if v is None else v for v in row]
    while cells and (cells[-1] == "" or (isinstance(cells[-1], str) and not cells[-1].strip())):
        cells.pop()
    return cells


def _read_excel(path: Path) -> tuple[pd.DataFrame, list[str], list[ValidationIssue]]:
    """Every sheet that holds rows; sheets with the same header are read as one table, else refused by name.

    Cells are read as written: text stays text (``n/a`` in a score is reported,
    a team called ``NA`` is a name), error cells such as ``#N/A`` are text,
    and only empty cells are missing. Row labels are ``line`` numbers, or
    ``sheet!line`` when the table spans sheets.
    """
    sheets = {}
    for name, rows in _sheet_rows(path).items():
        numbered = [(line, _trim(row)) for line, row in enumerate(rows, start=1)]
        numbered = [(line, cells) for line, cells in numbered if cells]
        if numbered:
            sheets[name] = numbered
    if not sheets:
        return pd.DataFrame(), [], []
    headers = {name: [str(v).strip() if v != "" else "" for v in rows[0][1]] for name, rows in sheets.items()}
    if len({tuple(h) for h in headers.values()}) > 1:
        described = "; ".join(f"{name!r}: {', '.join(h[:6])}{' ...' if len(h) > 6 else ''}" for name, h in headers.items())
        issue = ValidationIssue.build(
            "error", str(path), None, "one table per workbook",
            f"the workbook has {len(sheets)} sheets with rows and different headers ({described}); "
            "keep only the table's sheets (sheets with the same header are read as one table)",
        )
        return pd.DataFrame(), [], [issue]
    width = max(len(cells) for rows in sheets.values() for _, cells in rows)
    header = (next(iter(headers.values())) + [""] * width)[:width]
    records, labels = [], []
    for name, rows in sheets.items():
        for line, cells in rows[1:]:
            records.append([None if isinstance(v, str) and not v.strip() else v for v in (cells + [""] * width)[:width]])
            labels.append(f"{name}!{line}" if len(sheets) > 1 else line)
    frame = pd.DataFrame(records, columns=list(range(width)), index=labels or None, dtype=object)
    return frame, header, []


def _file_refusal(path: Path) -> ValidationIssue | None:
    """Why ``path`` cannot be read as a table at all (missing, a folder, empty, an unknown or old format), or None."""
    source = str(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "file not found"
        return ValidationIssue.build("error", source, None, "file exists", what)
    if path.stat().st_size == 0:
        return ValidationIssue.build("error", source, None, "file not empty", "file is empty (0 bytes)")
    if path.suffix.lower() == ".xls":
        return ValidationIssue.build("error", source, None, "file format", "old Excel .xls workbooks cannot be read; save the workbook as .xlsx")
    if path.suffix.lower() not in SUFFIXES:
        known = ", ".join(sorted(SUFFIXES))
        return ValidationIssue.build("error", source, None, "file format", f"unsupported file type; use one of {known}")
    return None


def _reading_failure(source: str, kind: str, exc: Exception) -> ValidationIssue:
    """A reader's failure as one issue, in the reader's words."""
    if isinstance(exc, _OverlongRows):
        shown = ", ".join(map(str, exc.lines[:5])) + (f" and {len(exc.lines) - 5} more" if len(exc.lines) > 5 else "")
        message = f"lines {shown} hold more cells than the header has columns; their extra cells have no column name (add the header or remove the cells)"
        return ValidationIssue.build("error", source, None, "cells under a header", message, n_rows=len(exc.lines))
    if isinstance(exc, pd.errors.EmptyDataError):
        return ValidationIssue.build("error", source, None, "file not empty", "file has no header and no rows")
    return ValidationIssue.build("error", source, None, "file readable", f"cannot read the file as {kind}: {type(exc).__name__}: {exc}")


def read_table(path: str | Path, *, text_columns: Collection[str] | None = None) -> tuple[RawTable | None, list[ValidationIssue]]:
    """Read one table file, keeping every row or saying why not.

    Parameters
    ----------
    path
        A CSV, Parquet or Excel file.
    text_columns
        For CSV files: the columns to keep as text (identifiers, periods);
        given, the other columns may be read as numbers, which is faster
        (``RawTable.numbers_read`` says so). None reads every cell as text.

    Returns
    -------
    table, issues
        ``table`` is None when the file cannot be used (missing, empty,
        unreadable, duplicate column headers, an ambiguous workbook);
        ``issues`` says why, or warns about the encoding.
    """
    path = Path(path)
    source = str(path)
    refusal = _file_refusal(path)
    if refusal is not None:
        return None, [refusal]
    kind = SUFFIXES[path.suffix.lower()]
    issues: list[ValidationIssue] = []
    encoding = None
    try:
        if kind == "csv":
            frame, encoding, header = _read_csv_text(path, text_columns)
            if encoding != "utf-8":
                issues.append(
                    ValidationIssue.build(
                        "warning", source, None, "encoding utf-8", f"file is not valid UTF-8; it was read as {encoding} (check accented names and symbols such as €)"
                    )
                )
        elif kind == "parquet":
            frame, header = _read_parquet(path)
        else:
            frame, header, sheet_issues = _read_excel(path)
            if sheet_issues:
                return None, sheet_issues
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem, said with the reader's words
        return None, [_reading_failure(source, kind, exc)]
    header = [str(name).strip() or f"Unnamed: {i}" for i, name in enumerate(header)]
    duplicated = _duplicate_header_issue(source, header)
    if duplicated is not None:
        return None, [duplicated]
    if len(header) == frame.shape[1]:
        frame.columns = header
    else:
        frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        return None, [ValidationIssue.build("error", source, None, "file has rows", "file has a header but no data rows")]
    row_label = "row" if kind == "parquet" or not isinstance(frame.index[0], (int, np.integer)) else "line"
    if kind == "parquet":
        frame.index = pd.RangeIndex(1, len(frame) + 1)
    numbers_read = kind == "csv" and not all(pd.api.types.is_string_dtype(dtype) for dtype in frame.dtypes)
    return RawTable(frame, source, row_label, encoding, numbers_read), issues


def frame_table(frame: pd.DataFrame, source: str) -> tuple[RawTable | None, list[ValidationIssue]]:
    """Wrap an in-memory frame as a table whose rows are named by their index labels.

    Returns
    -------
    table, issues
        ``table`` is None when ``frame`` is no DataFrame or repeats a column name.
    """
    if not isinstance(frame, pd.DataFrame):
        return None, [ValidationIssue.build("error", source, None, "a DataFrame", f"expected a pandas DataFrame, got {type(frame).__name__}")]
    duplicated = _duplicate_header_issue(source, [str(c) for c in frame.columns])
    if duplicated is not None:
        return None, [duplicated]
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    return RawTable(frame, source, "row"), []
