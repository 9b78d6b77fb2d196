"""Readers keep every row or say why: Excel sheets, text in numeric cells, names that look missing, duplicate headers,
mappings onto one role, periods as dates, Periods or Arrow types, ambiguous folders."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import bstate_stats as bs
from tests.conftest import issues_for

SMALL = dict(seed=3, n_regions=3, teams_per_region=3, n_periods=8, programme_start=3, ramp_periods=3)


@pytest.fixture(scope="module")
def tables():
    return bs.simulate.case_study(**SMALL).tables


def write(directory: Path, tables: dict[str, pd.DataFrame], formats: dict[str, str] | None = None) -> Path:
    formats = formats or {}
    for name, frame in tables.items():
        kind = formats.get(name, "csv")
        path = directory / f"{name}.{ {'csv': 'csv', 'parquet': 'parquet', 'excel': 'xlsx'}[kind] }"
        {"csv": lambda p: frame.to_csv(p, index=False), "parquet": lambda p: frame.to_parquet(p, index=False), "excel": lambda p: frame.to_excel(p, index=False)}[kind](path)
    return directory


def replace_table(tables, name, frame):
    return {**tables, name: frame}


# -- Excel --------------------------------------------------------------------------------
def test_excel_table_over_two_sheets_keeps_every_row(tmp_path, tables):
    d = tables["deliverables"]
    with pd.ExcelWriter(tmp_path / "deliverables.xlsx") as book:
        d.iloc[:36].to_excel(book, sheet_name="first half", index=False)
        d.iloc[36:].to_excel(book, sheet_name="second half", index=False)
    write(tmp_path, {k: v for k, v in tables.items() if k != "deliverables"})
    panel = bs.load_panel(tmp_path)
    assert panel.data["csat"].notna().sum() == len(d)


def test_excel_rows_are_named_by_sheet_and_line(tmp_path, tables):
    d = tables["deliverables"].astype({"csat": object})
    d.loc[40, "csat"] = 12.0
    with pd.ExcelWriter(tmp_path / "deliverables.xlsx") as book:
        d.iloc[:36].to_excel(book, sheet_name="A", index=False)
        d.iloc[36:].to_excel(book, sheet_name="B", index=False)
    report = bs.validate(tmp_path)
    [issue] = issues_for(report, "score_0_10")
    assert issue.rows == ("B!6",)  # row 40 is the 5th data row of sheet B, on line 6


def test_excel_sheets_with_different_headers_are_refused_by_name(tmp_path, tables):
    with pd.ExcelWriter(tmp_path / "deliverables.xlsx") as book:
        tables["deliverables"].to_excel(book, sheet_name="data", index=False)
        pd.DataFrame({"note": ["exported from CRM"]}).to_excel(book, sheet_name="notes", index=False)
    report = bs.validate(tmp_path)
    [issue] = issues_for(report, "one table per workbook")
    assert "'data'" in issue.message and "'notes'" in issue.message


@pytest.mark.parametrize("text", ["n/a", "NA", "#N/A", "NULL", "-"])
def test_excel_text_in_a_numeric_cell_is_an_error(tmp_path, tables, text):
    d = tables["deliverables"].astype({"csat": object})
    d.loc[3, "csat"] = text
    write(tmp_path, replace_table(tables, "deliverables", d), {"deliverables": "excel"})
    [issue] = issues_for(bs.validate(tmp_path), "numeric")
    assert issue.column == "csat" and issue.rows == (5,) and issue.values == (text,)


# -- names that look like missing values ------------------------------------------------------------
def rename_first_team(tables, name: str):
    first = tables["deliverables"]["team"].iloc[0]
    out = {k: v.assign(team=v["team"].replace(first, name)) for k, v in tables.items()}
    out["deliverables"] = out["deliverables"].assign(region=out["deliverables"]["region"].replace("North", name))
    return out


@pytest.mark.parametrize("fmt", ["csv", "parquet", "excel"])
@pytest.mark.parametrize("name", ["NA", "None", "null", "NaN"])
def test_team_and_region_called_like_missing_values_are_names(tmp_path, tables, fmt, name):
    renamed = rename_first_team(tables, name)
    write(tmp_path, renamed, dict.fromkeys(renamed, fmt))
    panel = bs.load_panel(tmp_path)
    assert panel.n_rows == len(tables["deliverables"])
    assert name in panel.teams and name in panel.regions


def test_from_frame_keeps_names_that_look_missing(tables):
    frame = tables["deliverables"].assign(team=lambda f: f["team"].replace(f["team"].iloc[0], "None"), region=lambda f: f["region"].replace("North", "NA"))
    panel = bs.Panel.from_frame(frame, team="team", period="period", region="region", outcomes=["csat"])
    assert "None" in panel.teams and "NA" in panel.regions and panel.n_rows == len(frame)


# -- duplicate column headers and mappings ---------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "excel"])
def test_duplicate_headers_are_named(tmp_path, tables, fmt):
    h = tables["habits"]
    doubled = pd.concat([h, h[["daily_huddle"]]], axis=1)
    write(tmp_path, replace_table(tables, "habits", doubled), {"habits": fmt})
    [issue] = issues_for(bs.validate(tmp_path), "unique column names")
    assert issue.column == "daily_huddle" and "more than once" in issue.message


def test_duplicate_headers_differing_by_spaces(tmp_path, tables):
    write(tmp_path, tables)
    path = tmp_path / "deliverables.csv"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("csat_right_person", " csat ")
    path.write_text("\n".join(lines) + "\n")
    [issue] = issues_for(bs.validate(tmp_path), "unique column names")
    assert issue.column == "csat"


def test_duplicate_names_in_parquet_and_frames(tmp_path, tables):
    d = tables["deliverables"]
    arrow = pa.Table.from_arrays([pa.array(d[c]) for c in [*d.columns, "csat"]], names=[*d.columns, "csat"])
    import pyarrow.parquet as pq

    pq.write_table(arrow, tmp_path / "deliverables.parquet")
    write(tmp_path, {k: v for k, v in tables.items() if k != "deliverables"})
    assert issues_for(bs.validate(tmp_path), "unique column names")[0].column == "csat"
    doubled = pd.concat([d, d[["csat"]]], axis=1)
    with pytest.raises(bs.ValidationError, match="more than once"):
        bs.Panel.from_frames(doubled)
    with pytest.raises(bs.ValidationError, match="more than once"):
        bs.Panel.from_frame(doubled, team="team", period="period", outcomes=["csat"])


def test_mapping_two_columns_onto_one_role_names_both(tmp_path, tables):
    d = tables["deliverables"].rename(columns={"csat": "CSAT overall"})
    write(tmp_path, replace_table(tables, "deliverables", d))
    mapping = {"deliverables": {"CSAT overall": "csat", "csat_right_person": "csat"}}
    [issue] = issues_for(bs.validate(tmp_path, mapping=mapping), "one column per role")
    assert "'CSAT overall'" in issue.message and "'csat_right_person'" in issue.message


def test_mapping_onto_a_column_already_present(tmp_path, tables):
    write(tmp_path, tables)
    report = bs.validate(tmp_path, mapping={"deliverables": {"csat_right_person": "csat"}, "habits": {"daily_huddle": "period"}})
    clashes = issues_for(report, "one column per role")
    assert {i.column for i in clashes} == {"csat, csat_right_person", "period, daily_huddle"}


def test_mapping_of_an_absent_column_is_a_warning(tmp_path, tables):
    write(tmp_path, tables)
    report = bs.validate(tmp_path, mapping={"deliverables": {"CSAT overal": "csat"}})
    assert report.ok and issues_for(report, "mapped column present", "warning")[0].column == "CSAT overal"


@pytest.mark.parametrize("mapping", [{"scales": {"habits": "likert_1_5"}}, {"scales": "x"}, {"deliverables": ["csat"]}, {"scales": {"habits": {"habit_item": "likert_1_7"}}}])
def test_malformed_mappings_are_config_errors(tmp_path, tables, mapping):
    write(tmp_path, tables)
    with pytest.raises(bs.ConfigError, match="column mapping"):
        bs.validate(tmp_path, mapping=mapping)


def test_mapping_file_not_utf8(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_bytes('[deliverables]\n"Qualité" = "csat"\n'.encode("latin-1"))
    with pytest.raises(bs.ConfigError, match="not UTF-8"):
        bs.ColumnMapping.from_toml(path)


@pytest.mark.parametrize("reserved", ["t", "_t"])
def test_reserved_column_names(tmp_path, tables, reserved):
    h = tables["habits"].rename(columns={"daily_huddle": reserved})
    write(tmp_path, replace_table(tables, "habits", h))
    assert issues_for(bs.validate(tmp_path), "reserved column name")
    with pytest.raises(bs.ValidationError, match="reserved"):
        bs.Panel.from_frame(tables["deliverables"].rename(columns={"csat": reserved}), team="team", period="period", outcomes=[reserved])


def test_long_habit_called_like_a_key(tmp_path, tables):
    h = tables["habits"].melt(id_vars=["team", "period"], var_name="habit", value_name="score")
    h.loc[h["habit"] == "daily_huddle", "habit"] = "period"
    write(tmp_path, replace_table(tables, "habits", h))
    [issue] = issues_for(bs.validate(tmp_path), "habit names")
    assert issue.values[0] == "period"


# -- periods written as dates, Periods or Arrow types -------------------------------------------------------
def months(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    period = pd.PeriodIndex(frame["period"], freq="M")
    values = {
        "period": pd.Series(period, index=frame.index),
        "datetime64": pd.Series(period.to_timestamp(), index=frame.index),
        "utc": pd.Series(period.to_timestamp().tz_localize("UTC"), index=frame.index),
        "arrow_date": pd.Series(period.to_timestamp(), index=frame.index).astype(pd.ArrowDtype(pa.date32())),
        "arrow_timestamp": pd.Series(period.to_timestamp(), index=frame.index).astype(pd.ArrowDtype(pa.timestamp("ms"))),
        "python_date": pd.Series([p.to_timestamp().date() for p in period], index=frame.index, dtype=object),
    }[how]
    return frame.assign(period=values)


@pytest.mark.parametrize("how", ["period", "datetime64", "utc", "arrow_date", "arrow_timestamp", "python_date"])
def test_parquet_periods_equal_the_same_months_as_text(tmp_path, tables, how):
    write(tmp_path, replace_table(tables, "deliverables", months(tables["deliverables"], how)), {"deliverables": "parquet"})
    panel = bs.load_panel(tmp_path)
    reference = bs.Panel.from_frames(*tables.values())
    assert panel.n_rows == reference.n_rows == len(tables["deliverables"])
    assert list(panel.periods.astype(str)) == list(reference.periods.astype(str))
    assert panel.report.ok and not issues_for(panel.report, "coverage", "warning")


@pytest.mark.parametrize("how", ["period", "datetime64", "arrow_date", "python_date"])
def test_from_frame_periods(tables, how):
    frame = months(tables["deliverables"], how)
    panel = bs.Panel.from_frame(frame, team="team", period="period", region="region", outcomes=["csat"])
    assert panel.period_format.freq == "M" and panel.n_rows == len(frame)
    assert str(panel.periods[0]) == "2024-01"


@pytest.mark.parametrize("freq, text", [("Q", "2024Q1"), ("Y", "2024")])
def test_quarters_and_years_as_periods_equal_text(tables, freq, text):
    frame = tables["deliverables"].loc[lambda f: f["period"] <= "2024-03"].copy()
    frame = frame.loc[frame["period"] == "2024-01"]
    as_period = frame.assign(period=pd.Series(pd.Period(text, freq=freq), index=frame.index))
    other = as_period.assign(period=pd.Series(pd.Period(text, freq=freq) + 1, index=frame.index))
    stacked = pd.concat([as_period, other], ignore_index=True)
    from_periods = bs.Panel.from_frame(stacked, team="team", period="period", outcomes=["csat"])
    from_text = bs.Panel.from_frame(stacked.assign(period=stacked["period"].astype(str)), team="team", period="period", outcomes=["csat"])
    assert from_periods.period_format == from_text.period_format


def test_float_team_ids_in_parquet_match_integer_ids_in_csv(tmp_path, tables):
    codes = {t: i + 1 for i, t in enumerate(tables["deliverables"]["team"].unique())}
    numbered = {k: v.assign(team=v["team"].map(codes)) for k, v in tables.items()}
    numbered["habits"] = numbered["habits"].astype({"team": float})
    write(tmp_path, numbered, {"habits": "parquet"})
    panel = bs.load_panel(tmp_path)
    assert len(panel.teams) == len(codes) and panel.data["habit_index"].notna().all()


# -- files and folders --------------------------------------------------------------------------------------
def test_two_files_for_one_table_are_refused(tmp_path, tables):
    write(tmp_path, tables)
    tables["deliverables"].to_excel(tmp_path / "deliverables.xlsx", index=False)
    [issue] = issues_for(bs.validate(tmp_path), "one file per table")
    assert "deliverables.csv" in issue.message and "deliverables.xlsx" in issue.message


def test_upper_case_suffix_is_found(tmp_path, tables):
    write(tmp_path, tables, {"deliverables": "excel"})
    (tmp_path / "deliverables.xlsx").rename(tmp_path / "Deliverables.XLSX")
    assert bs.load_panel(tmp_path).n_rows == len(tables["deliverables"])


@pytest.mark.parametrize("content", [b"PK\x03\x04 truncated", "zip"])
def test_broken_workbooks_are_reported(tmp_path, tables, content):
    write(tmp_path, tables)
    (tmp_path / "deliverables.csv").unlink()
    path = tmp_path / "deliverables.xlsx"
    if content == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
    else:
        path.write_bytes(content)
    [issue] = issues_for(bs.validate(tmp_path), "file readable")
    assert issue.source == str(path)


def test_folder_named_like_a_table(tmp_path, tables):
    write(tmp_path, {k: v for k, v in tables.items() if k != "deliverables"})
    (tmp_path / "deliverables.csv").mkdir()
    assert issues_for(bs.validate(tmp_path), "file exists")


@pytest.mark.parametrize("bad", [None, 3, {"team": ["A"]}, "not a frame"])
def test_from_frame_needs_a_dataframe(bad):
    with pytest.raises(bs.ValidationError, match="expected a pandas DataFrame"):
        bs.Panel.from_frame(bad, team="team", period="period", outcomes=["csat"])


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(outcomes=[]), "at least one outcome"),
        (dict(outcomes=["csat"], scales={"csat": "score_1_10"}), "unknown scale"),
        (dict(outcomes=["nope"]), "'nope' is not in the frame"),
        (dict(outcomes=["region"]), "reserved"),
        (dict(outcomes=[1]), "must be text"),
    ],
)
def test_from_frame_argument_errors(tables, options, message):
    with pytest.raises(bs.ValidationError, match=message):
        bs.Panel.from_frame(tables["deliverables"], team="team", period="period", **options)


def test_from_frames_with_a_non_frame_is_a_validation_error():
    with pytest.raises(bs.ValidationError, match="expected a pandas DataFrame"):
        bs.Panel.from_frames({"team": ["A"]})


@pytest.mark.parametrize("fmt", ["csv", "parquet", "excel"])
def test_all_empty_measure_keeps_rows(tmp_path, tables, fmt):
    d = tables["deliverables"].assign(service_level=np.nan, fcr=np.nan)  # two empty columns, one of them inside the table
    write(tmp_path, replace_table(tables, "deliverables", d), {"deliverables": fmt})
    panel = bs.load_panel(tmp_path)
    assert panel.n_rows == len(d) and panel.data["csat"].notna().all() and panel.data["fcr"].isna().all()


def test_windows_1252_export_keeps_the_euro_sign(tmp_path, tables):
    d = tables["deliverables"].assign(region=lambda f: f["region"].replace("North", "Nord–€"))
    write(tmp_path, {k: v for k, v in tables.items() if k != "deliverables"})
    (tmp_path / "deliverables.csv").write_bytes(d.to_csv(index=False).encode("cp1252"))
    panel = bs.load_panel(tmp_path)
    assert "Nord–€" in panel.regions
    assert "windows-1252" in issues_for(panel.report, "encoding", "warning")[0].message


def test_region_column_in_habits_is_not_used_and_said(tmp_path, tables):
    with_region = tables["habits"].merge(tables["deliverables"][["team", "period", "region"]])
    write(tmp_path, replace_table(tables, "habits", with_region))
    panel = bs.load_panel(tmp_path)
    assert panel.n_rows == len(tables["deliverables"]) and issues_for(panel.report, "region from deliverables", "warning")
    mapped = bs.validate(tmp_path, mapping={"relationships": {"customer_focus": "region"}})
    assert mapped.ok and len(issues_for(mapped, "region from deliverables", "warning")) == 2


def test_data_folder_that_is_missing_or_not_a_path(tmp_path):
    report = bs.validate(tmp_path / "nope")
    assert [i.rule for i in report.issues] == ["data folder exists"]
    with pytest.raises(bs.ConfigError, match="path of a data folder"):
        bs.validate(None)
    with pytest.raises(bs.ValidationError, match="does not exist"):
        bs.load_panel(tmp_path / "nope")


def test_csv_trailing_commas_keep_every_column_in_place(tmp_path, tables):
    write(tmp_path, tables)
    path = tmp_path / "deliverables.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], *(line + "," for line in lines[1:])]) + "\n")
    panel = bs.load_panel(tmp_path)
    assert panel.n_rows == len(tables["deliverables"]) and set(panel.teams) == set(tables["deliverables"]["team"])


def test_csv_rows_with_cells_beyond_the_header_are_refused(tmp_path, tables):
    write(tmp_path, tables)
    path = tmp_path / "deliverables.csv"
    lines = path.read_text().splitlines()
    lines[3] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    [issue] = issues_for(bs.validate(tmp_path), "cells under a header")
    assert "lines 4 " in issue.message


def test_csv_line_numbers_count_blank_lines(tmp_path, tables):
    d = tables["deliverables"].astype({"csat": object})
    d.loc[1, "csat"] = 12
    write(tmp_path, replace_table(tables, "deliverables", d))
    path = tmp_path / "deliverables.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(["", lines[0], lines[1], "", *lines[2:]]) + "\n")
    [issue] = issues_for(bs.validate(tmp_path), "score_0_10")
    assert issue.rows == (5,)  # blank, header, row 0, blank, row 1 on line 5


def test_parquet_written_with_an_index_keeps_its_columns(tmp_path, tables):
    write(tmp_path, {k: v for k, v in tables.items() if k != "deliverables"})
    tables["deliverables"].set_index("team").to_parquet(tmp_path / "deliverables.parquet")
    assert bs.load_panel(tmp_path).n_rows == len(tables["deliverables"])


def test_old_xls_workbooks_are_named(tmp_path, tables):
    write(tmp_path, {k: v for k, v in tables.items() if k != "deliverables"})
    (tmp_path / "deliverables.xls").write_bytes(b"\xd0\xcf\x11\xe0 old workbook")
    assert "save the workbook as .xlsx" in issues_for(bs.validate(tmp_path), "file format")[0].message
