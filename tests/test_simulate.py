"""The simulator: deterministic per seed, and its stated case-study properties hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import bstate_stats as bs


def test_same_seed_same_tables():
    a, b = bs.simulate.case_study(seed=11), bs.simulate.case_study(seed=11)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert not a.deliverables.equals(bs.simulate.case_study(seed=12).deliverables)


def test_case_study_shape(study):
    d = study.deliverables
    truth = study.truth
    programme = d["team"].isin(truth.programme_teams)
    baseline = d.loc[d["period"] < truth.programme_start, "csat"].mean()
    assert baseline == pytest.approx(5.8, abs=0.3)
    six_months_on = (pd.Period(truth.programme_start) + 6).strftime("%Y-%m")
    treated_later = d.loc[programme & (d["period"] >= six_months_on), "csat"].mean()
    assert treated_later > 8.0
    assert truth.programme_revenue_before == pytest.approx(500_000, rel=0.1)
    assert truth.programme_revenue_after == pytest.approx(1_000_000, rel=0.15)


def test_share_of_habits_improved_near_61_percent():
    shares = []
    for seed in range(5):
        study = bs.simulate.case_study(seed=seed)
        table = study.panel().habits_improved()
        shares.append(table.loc[study.truth.programme_teams, "share_improved"].mean())
    assert np.mean(shares) == pytest.approx(0.61, abs=0.06)


def test_relationships_improve_for_half_to_four_fifths(study):
    r = study.relationships
    late = r["team"].isin(study.truth.programme_teams) & (r["period"] >= study.truth.programme_start)
    assert 0.5 <= r.loc[late, "share_improved"].mean() <= 0.8


def test_regression_truth_is_exact_in_expectation():
    """Pooled OLS of csat on the latent design recovers the habit effect (no slope heterogeneity)."""
    study = bs.simulate.case_study(seed=5, team_slope_sd=0.0, region_slope_sd=0.0, n_regions=6)
    latent = study.latent.assign(csat=study.deliverables["csat"])
    fit = smf.ols("csat ~ I(habit_index / 10) + I(relationship_index / 10) + C(team) + C(period)", latent).fit()
    low, high = fit.conf_int(0.001).loc["I(habit_index / 10)"]
    assert low < study.truth.habit_effect < high


def test_parameters_are_validated():
    with pytest.raises(bs.SpecificationError, match="two periods"):
        bs.simulate.case_study(n_periods=1)
    with pytest.raises(bs.SpecificationError, match="not_a_parameter"):
        bs.simulate.case_study(not_a_parameter=3)
    with pytest.raises(bs.SpecificationError, match="seed"):
        bs.simulate.case_study(seed=-1)


def test_bundled_example_regenerates(tmp_path):
    from pathlib import Path

    bundled = Path(__file__).resolve().parents[1] / "data" / "example"
    bs.simulate.case_study(seed=7).write(tmp_path)
    for name in ("deliverables.csv", "habits.csv", "relationships.csv", "truth.json"):
        assert (tmp_path / name).read_bytes() == (bundled / name).read_bytes(), name


def test_more_regions_than_named_ones_give_unique_teams():
    study = bs.simulate.case_study(seed=1, n_regions=12, teams_per_region=3, n_periods=4)
    panel = study.panel()
    assert len(panel.regions) == 12 and len(panel.teams) == 36
