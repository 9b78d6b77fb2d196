"""Quarterly, weekly and date-labelled panels run end to end: files -> validation -> panel -> lags -> fixed effects.

Weeks as pandas writes them ('2024-01-01/2024-01-07') were read as a minute of the first day until this test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs


def _relabel(study, labels: dict[str, str]) -> dict[str, pd.DataFrame]:
    return {name: frame.assign(period=frame["period"].map(labels)) for name, frame in study.tables.items()}


LABELLINGS = {
    "quarters": (lambda k: f"{2021 + k // 4}Q{k % 4 + 1}", "Q-DEC", 4),
    "weeks": (lambda k: str(pd.Period("2024-01-07", "W-SUN") + k), "W-SUN", 52),
    "ISO weeks": (lambda k: f"2024-W{k + 1:02d}", "W-SUN", 52),
    "dates, a week apart": (lambda k: str((pd.Timestamp("2024-01-07") + pd.Timedelta(weeks=k)).date()), "W-SUN", 52),
}


@pytest.mark.parametrize("name", LABELLINGS)
def test_panel_of_other_period_formats_runs_end_to_end(name, small_study, tmp_path):
    label, freq, per_year = LABELLINGS[name]
    months = sorted(small_study.deliverables["period"].unique())
    labels = {month: label(k) for k, month in enumerate(months)}
    # one team misses the fourth period everywhere: a real gap on the new grid
    team = small_study.deliverables["team"].iloc[0]
    tables = {k: v[~((v["team"] == team) & (v["period"] == labels[months[3]]))] for k, v in _relabel(small_study, labels).items()}
    for table, frame in tables.items():
        frame.to_csv(tmp_path / f"{table}.csv", index=False)
    report = bs.validate(tmp_path)
    assert report.ok, report
    panel = bs.load_panel(tmp_path)
    assert panel.period_format.freq == freq and panel.period_format.periods_per_year == per_year
    assert len(panel.periods) == len(months)
    lagged = panel.lagged("habit_index", 1).loc[team]
    assert lagged.isna().sum() == 2  # the team's first period and the one after its gap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = bs.fixed_effects(panel, "csat", ["habit_index"], lags={"habit_index": 1}, bootstrap_reps=0)
        monthly_tables = {k: v[~((v["team"] == team) & (v["period"] == months[3]))] for k, v in small_study.tables.items()}
        monthly = bs.fixed_effects(bs.Panel.from_frames(**monthly_tables), "csat", ["habit_index"], lags={"habit_index": 1}, bootstrap_reps=0)
    np.testing.assert_allclose(ours.params.to_numpy(), monthly.params.to_numpy(), rtol=1e-10)  # same grid, other labels: same numbers
    assert ours.n_rows == monthly.n_rows


def test_a_span_that_is_not_a_week_is_not_a_period():
    from bstate_stats.schema.periods import read_period_label

    assert read_period_label("2024-01-01/2024-01-07") == pd.Period("2024-01-07", "W-SUN")
    assert read_period_label("2024-W01") == pd.Period("2024-01-07", "W-SUN")
    with pytest.raises(ValueError, match="spans 10 days"):
        read_period_label("2024-01-01/2024-01-10")
