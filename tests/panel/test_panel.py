"""Panel structure: ledger arithmetic, lags from the index, generic panels, descriptions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs


def test_ledger_counts_add_up(small_study):
    deliverables = small_study.deliverables.copy()
    deliverables.loc[[0, 5, 9], "csat"] = np.nan
    panel = bs.Panel.from_frames(deliverables, small_study.habits.iloc[:-2], small_study.relationships)
    frame = panel.model_frame("csat", ["habit_index", "relationship_index"])
    ledger = frame.ledger
    assert ledger.n_input == panel.n_rows
    assert ledger.n_kept == len(frame.data)
    assert ledger.n_kept + ledger.n_excluded == ledger.n_input
    reasons = {e.reason: e.n_rows for e in ledger.entries}
    assert reasons == {"missing csat": 3, "missing habit_index": 2}
    summary = ledger.summary().set_index("reason")["n_rows"]
    assert summary["kept"] + summary["total excluded"] == summary["input"]


def test_lag_comes_from_the_index_not_row_order(small_study):
    panel = small_study.panel()
    lagged = panel.lagged("habit_index", 1)
    data = panel.data.reset_index()
    for team, block in data.groupby("team"):
        values = lagged.loc[team].to_numpy()
        assert np.isnan(values[0])
        np.testing.assert_allclose(values[1:], block["habit_index"].to_numpy()[:-1])


def test_lag_is_missing_after_a_real_gap(small_study):
    """A team with no row at all in one period: the next period's lag is missing, not the value two periods back (what a row shift gives)."""
    team, missing = small_study.deliverables["team"].iloc[0], "2024-04"
    tables = {name: frame[~((frame["team"] == team) & (frame["period"] == missing))] for name, frame in small_study.tables.items()}
    panel = bs.Panel.from_frames(**tables)
    lagged = panel.lagged("habit_index", 1).loc[team]
    habit = panel.data.loc[team, "habit_index"]
    assert len(habit) == 7  # periods 1-8 less April
    may, june = pd.Period("2024-05", "M"), pd.Period("2024-06", "M")
    assert np.isnan(lagged.loc[may])  # a row shift would give March's value here
    np.testing.assert_allclose(lagged.loc[june], habit.loc[may])  # the lag resumes once a previous period exists
    frame = panel.model_frame("csat", ["habit_index"], lags={"habit_index": 1})
    assert frame.ledger.n_kept + frame.ledger.n_excluded == panel.n_rows
    assert len(frame.data.loc[team]) == 5  # January (start) and May (after the gap) have no lag


def test_shuffled_input_rows_give_the_same_panel_lags_and_estimates(small_study):
    """Row order of the input files carries no information: shuffled tables give identical lags and fixed-effects estimates."""
    rng = np.random.default_rng(0)
    shuffled = {name: frame.sample(frac=1.0, random_state=rng) for name, frame in small_study.tables.items()}
    panel, again = small_study.panel(), bs.Panel.from_frames(**shuffled)
    pd.testing.assert_series_equal(panel.lagged("habit_index", 2), again.lagged("habit_index", 2))
    options = {"lags": {"habit_index": 1}, "bootstrap_reps": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = bs.fixed_effects(panel, "csat", ["habit_index", "relationship_index"], **options)
        second = bs.fixed_effects(again, "csat", ["habit_index", "relationship_index"], **options)
    pd.testing.assert_series_equal(first.params, second.params, rtol=1e-10)
    pd.testing.assert_series_equal(first.std_errors, second.std_errors, rtol=1e-10)


def test_generic_panel_with_own_names():
    frame = pd.DataFrame({"fcode": [1, 1, 2, 2, 3, 3], "year": [1987, 1988] * 3, "lscrap": [0.1, 0.2, 0.5, 0.3, 1.0, 1.1], "grant": [0, 1, 0, 0, 1, 1]})
    panel = bs.Panel.from_frame(frame, team="fcode", period="year", outcomes=["lscrap"], drivers=["grant"])
    assert panel.outcomes == ["lscrap"] and panel.drivers == ["grant"]
    assert panel.period_format.kind == "integer" and not panel.has_regions
    assert list(panel.periods) == [1987, 1988]


def test_generic_panel_missing_column_named():
    frame = pd.DataFrame({"fcode": [1, 2], "year": [1, 2], "y": [1.0, 2.0]})
    with pytest.raises(bs.ValidationError, match="lscrap"):
        bs.Panel.from_frame(frame, team="fcode", period="year", outcomes=["lscrap"])


def test_describe_tables(study):
    panel = study.panel()
    description = panel.describe()
    trajectories = description.trajectories
    assert len(trajectories) == 18 and (trajectories["n_teams"] == 24).all()
    manual = study.deliverables.groupby("period")["csat"].mean().to_numpy()
    np.testing.assert_allclose(trajectories["csat"].to_numpy(), manual)
    share = description.share_above
    last = share[share["period"] == share["period"].iloc[-1]]
    expected = (study.deliverables[study.deliverables["period"] == "2025-06"].groupby("region")["csat"].apply(lambda s: (s >= 8).mean()))
    np.testing.assert_allclose(last.set_index("region")["share_above"].sort_index(), expected.sort_index())
    assert description.region_ranking["rank"].tolist() == [1, 2, 3, 4]
    assert description.region_ranking["csat_last"].is_monotonic_decreasing


def test_panel_repr_and_labels(study):
    panel = study.panel()
    assert "24 teams" in repr(panel)
    assert str(panel.period_label(panel.data["t"].iloc[0])) == "2024-01"
