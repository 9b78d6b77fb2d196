"""Every validation rule: a bad input and the parts its message must name (file, column, rows, rule)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs
from tests.conftest import issues_for, set_cell


def test_clean_example_validates(table_dir):
    report = bs.validate(table_dir())
    assert report.ok, report.to_text()
    assert report.errors == []


def test_missing_file_is_named(tmp_path):
    report = bs.validate(tmp_path)
    (issue,) = issues_for(report, "file exists")
    assert "deliverables" in issue.message and str(tmp_path) in issue.source


def test_empty_file(table_dir):
    directory = table_dir(raw_text=b"")
    (issue,) = issues_for(bs.validate(directory), "file not empty")
    assert issue.source.endswith("deliverables.csv") and "empty" in issue.message


def test_header_only_file(table_dir):
    directory = table_dir(raw_text="team,region,period,csat,revenue\n")
    (issue,) = issues_for(bs.validate(directory), "file has rows")
    assert "no data rows" in issue.message


def test_missing_required_column(table_dir):
    directory = table_dir(lambda d: d.drop(columns=["revenue"]))
    (issue,) = issues_for(bs.validate(directory), "required column")
    assert issue.column == "revenue" and issue.source.endswith("deliverables.csv")


@pytest.mark.parametrize("bad", [11, -1, 10.01])
def test_score_outside_scale(table_dir, bad):
    directory = table_dir(lambda d: set_cell(d, 4, "csat", bad))
    (issue,) = issues_for(bs.validate(directory), "score_0_10")
    assert issue.column == "csat"
    assert issue.rows == (6,)  # data row 4 is line 6 (header on line 1)
    assert float(issue.values[0]) == bad


def test_text_and_decimal_comma_in_score(table_dir):
    directory = table_dir(lambda d: set_cell(set_cell(d, 0, "csat", "n/a"), 2, "csat", "7,5"))
    (issue,) = issues_for(bs.validate(directory), "numeric")
    assert issue.column == "csat" and issue.rows == (2, 4) and issue.n_rows == 2
    assert set(issue.values) == {"n/a", "7,5"}
    assert "decimal comma" in issue.message


@pytest.mark.parametrize("value", ["inf", "-inf"])
def test_infinity(table_dir, value):
    directory = table_dir(lambda d: set_cell(d, 1, "revenue", value))
    (issue,) = issues_for(bs.validate(directory), "finite")
    assert issue.column == "revenue" and issue.rows == (3,)


def test_nan_in_measure_is_a_counted_warning(table_dir):
    directory = table_dir(lambda d: set_cell(d, 5, "csat", np.nan))
    report = bs.validate(directory)
    assert report.ok
    (issue,) = issues_for(report, "missing values", "warning")
    assert issue.column == "csat" and issue.n_rows == 1


def test_duplicate_keys(table_dir):
    directory = table_dir(lambda d: pd.concat([d, d.iloc[[3]]], ignore_index=True))
    (issue,) = issues_for(bs.validate(directory), "unique")
    assert issue.n_rows == 2 and "team, period" in issue.column


def test_duplicate_keys_after_parsing_periods():
    """2019 and '2019.0' are the same period, so the second row duplicates the first."""
    frame = pd.DataFrame({"team": ["A", "A", "A"], "region": ["N"] * 3, "period": ["2019", "2019.0", "2020"], "csat": [5.0, 6.0, 7.0], "revenue": [1.0, 1.0, 1.0]})
    (issue,) = issues_for(bs.validate({"deliverables": frame}), "unique")
    assert issue.rows == (0, 1)


def test_period_of_another_frequency(small_study):
    deliverables = small_study.deliverables.copy()
    deliverables.loc[0, "period"] = "2024Q1"
    (issue,) = issues_for(bs.validate({"deliverables": deliverables}), "period parseable")
    assert issue.values == ("2024Q1",) and "frequency M" in issue.message


def test_team_in_two_regions(table_dir):
    directory = table_dir(lambda d: set_cell(d, 2, "region", "Elsewhere"))
    (issue,) = issues_for(bs.validate(directory), "one region per team")
    assert "switches region" in issue.message and issue.n_rows == 8


def test_unparseable_period(table_dir):
    directory = table_dir(lambda d: set_cell(d, 0, "period", "2024-13"))
    (issue,) = issues_for(bs.validate(directory), "period parseable")
    assert issue.values == ("2024-13",) and issue.rows == (2,)


def test_missing_key(table_dir):
    directory = table_dir(lambda d: set_cell(d, 0, "team", np.nan))
    (issue,) = issues_for(bs.validate(directory), "key not missing")
    assert issue.column == "team"


def test_gap_in_periods_is_a_warning(small_study):
    tables = {name: frame.drop(index=[3]) for name, frame in small_study.tables.items()}
    (issue,) = issues_for(bs.validate(tables), "no gaps", "warning")
    assert issue.rows == (small_study.deliverables["team"].iloc[0],) and "2024-04" in issue.values[0]


def test_single_period_team_warns(small_study):
    tables = {k: v.copy() for k, v in small_study.tables.items()}
    lone = tables["deliverables"].iloc[[0]].assign(team="LONE")
    tables["deliverables"] = pd.concat([tables["deliverables"], lone], ignore_index=True)
    report = bs.validate(tables)
    (issue,) = issues_for(report, "more than one period", "warning")
    assert issue.rows == ("LONE",)


def test_too_few_periods(small_study):
    first = small_study.deliverables[small_study.deliverables["period"] == small_study.deliverables["period"].iloc[0]]
    report = bs.validate({"deliverables": first})
    (issue,) = issues_for(report, "at least 2 periods")
    assert "1 distinct period" in issue.message


def test_coverage_is_reported_not_joined_away(small_study):
    tables = {k: v.copy() for k, v in small_study.tables.items()}
    tables["habits"] = tables["habits"].iloc[2:]
    panel = bs.Panel.from_frames(**tables)
    coverage = issues_for(panel.report, "coverage", "warning")
    assert coverage and coverage[0].n_rows == 2
    assert panel.n_rows == len(small_study.deliverables)
    assert panel.data["habit_index"].isna().sum() == 2


def test_every_failure_is_collected(table_dir):
    def many(d):
        d = set_cell(d, 0, "csat", 12)
        d = set_cell(d, 1, "revenue", "n/a")
        return d.drop(columns=["fcr"])
    report = bs.validate(table_dir(many))
    assert {i.rule.split(":")[0] for i in report.errors} >= {"score_0_10", "numeric"}
    assert len(report.errors) >= 2


def test_utf8_bom_and_latin1(table_dir, small_study):
    text = small_study.deliverables.to_csv(index=False)
    assert bs.validate(table_dir(raw_text=b"\xef\xbb\xbf" + text.encode())).ok
    latin = text.replace("North", "Nörth").encode("latin-1")
    report = bs.validate(table_dir(raw_text=latin))
    assert report.ok and issues_for(report, "encoding", "warning")


def test_load_raises_with_full_report(table_dir):
    directory = table_dir(lambda d: set_cell(set_cell(d, 0, "csat", 11), 1, "csat", -1))
    with pytest.raises(bs.ValidationError) as caught:
        bs.load_panel(directory)
    assert caught.value.report.errors[0].n_rows == 2
    assert "deliverables.csv" in str(caught.value) and "csat" in str(caught.value)


def test_mapping_renames_and_messages_use_user_names(small_study):
    deliverables = small_study.deliverables.rename(columns={"csat": "CSAT overall"})
    mapping = {"deliverables": {"CSAT overall": "csat"}}
    panel = bs.Panel.from_frames(deliverables, small_study.habits, small_study.relationships, mapping=mapping)
    assert "csat" in panel.outcomes
    broken = set_cell(deliverables, 0, "CSAT overall", 20)
    report = bs.validate({"deliverables": broken}, mapping=mapping)
    assert report.errors[0].column == "CSAT overall (csat)"


def test_mapping_rejects_unknown_scale():
    with pytest.raises(bs.ConfigError, match="unknown scale"):
        bs.ColumnMapping.from_dict({"scales": {"habits": {"habit_item": "likert_1_7"}}})


def test_mapping_from_toml(tmp_path, small_study):
    path = tmp_path / "mapping.toml"
    path.write_text('[deliverables]\n"Team ID" = "team"\n[scales.habits]\nhabit_item = "percent_0_100"\n')
    directory = tmp_path / "data"
    directory.mkdir()
    small_study.deliverables.rename(columns={"team": "Team ID"}).to_csv(directory / "deliverables.csv", index=False)
    small_study.habits.to_csv(directory / "habits.csv", index=False)
    assert bs.load_panel(directory, mapping=path).n_rows == len(small_study.deliverables)


@pytest.mark.parametrize("fmt", ["parquet", "excel"])
def test_parquet_and_excel_load_like_csv(tmp_path, small_study, fmt):
    small_study.write(tmp_path / "csv")
    small_study.write(tmp_path / fmt, format=fmt)
    a, b = bs.load_panel(tmp_path / "csv"), bs.load_panel(tmp_path / fmt)
    pd.testing.assert_frame_equal(a.data, b.data, check_dtype=False)
