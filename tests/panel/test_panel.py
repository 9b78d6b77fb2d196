"""Panel structure: ledger arithmetic, lags from the index, generic panels, descriptions."""

from __future__ import annotations

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


def test_lag_is_missing_after_a_gap(small_study):
    tables = {k: v.copy() for k, v in small_study.tables.items()}
    tables["deliverables"] = tables["deliverables"].drop(index=[3])
    panel = bs.Panel.from_frames(**tables)
    frame = panel.model_frame("csat", ["habit_index"], lags={"habit_index": 1})
    first_team = frame.data.loc[small_study.deliverables["team"].iloc[0]]
    # periods 0..7 with period 3 missing from deliverables: habits row still exists, so period 4 keeps its lag
    assert frame.ledger.n_kept + frame.ledger.n_excluded == panel.n_rows
    assert len(first_team) == 6


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
