"""Threshold, revenue and chain models against simulated truth; specification tests against linearmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from linearmodels import PanelOLS

import bstate_stats as bs
from bstate_stats.simulate import prob_above


@pytest.fixture(scope="module")
def near_threshold():
    """Many teams cross 8.0 back and forth: both threshold models are informative."""
    return bs.simulate.case_study(seed=0, n_regions=8, teams_per_region=8, baseline_csat=7.3, noise_sd=0.5, team_slope_sd=0, region_slope_sd=0, relationship_effect=0)


@pytest.fixture(scope="module")
def threshold_fit(near_threshold):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.EstimationWarning)
        return bs.threshold_model(near_threshold.panel(), "csat", ["habit_index"], bootstrap_reps=0)


def test_lpm_covers_its_estimand(near_threshold, threshold_fit):
    """The LPM estimates the fixed-effects linear projection of the true P(csat >= 8) on habits."""
    latent = near_threshold.latent.assign(P=prob_above(near_threshold.latent["expected_csat"], near_threshold.truth.noise_sd))
    estimand = pf.feols("P ~ habit_index | team + period", latent).coef()["habit_index"] * 10
    row = threshold_fit.summary().iloc[0]
    assert row["conf_low"] < estimand < row["conf_high"]


def test_conditional_logit_ame_covers_truth_on_its_rows(near_threshold, threshold_fit):
    panel = near_threshold.panel()
    latent = near_threshold.latent.set_index(["team", "period"])
    rows = [(team, str(panel.period_label(t))) for team, t in threshold_fit.logit.rows]
    sub = latent.loc[rows]
    truth = np.mean(prob_above(sub["expected_csat"] + sub["habit_slope"], 0.5) - prob_above(sub["expected_csat"], 0.5))
    row = threshold_fit.summary().iloc[1]
    assert threshold_fit.logit.converged
    assert row["conf_low"] < truth < row["conf_high"]


def test_uninformative_teams_are_counted(threshold_fit):
    ledger = threshold_fit.logit.ledger
    reasons = {e.reason.split(" (")[0]: e.n_rows for e in ledger.entries}
    assert any("never changes side" in r for r in reasons)
    assert ledger.n_kept == threshold_fit.logit.n_rows
    assert ledger.n_kept + ledger.n_excluded == ledger.n_input


def test_outcome_that_never_crosses_is_an_error():
    study = bs.simulate.case_study(seed=1, baseline_csat=3.0)
    with pytest.raises(bs.SpecificationError, match="never crossed|below 8 in every row"):
        bs.threshold_model(study.panel(), "csat", ["habit_index"], bootstrap_reps=0)


def test_revenue_lift_recovered():
    study = bs.simulate.case_study(seed=2)
    result = bs.revenue_model(study.panel(), bootstrap_reps=0)
    lift = result.lift
    assert lift["conf_low"] < study.truth.revenue_lift < lift["conf_high"]
    assert abs(lift["estimate"] - 1.0) < 0.1


def test_zero_revenue_rows_are_counted():
    study = bs.simulate.case_study(seed=2)
    deliverables = study.deliverables.copy()
    deliverables.loc[[0, 7], "revenue"] = 0.0
    panel = bs.Panel.from_frames(deliverables, study.habits, study.relationships)
    result = bs.revenue_model(panel, bootstrap_reps=0)
    assert {e.reason: e.n_rows for e in result.fit.ledger.entries} == {"missing log_revenue": 2}


def test_habit_to_revenue_chain_covers_truth():
    study = bs.simulate.case_study(seed=1)
    chain = bs.habit_to_revenue(study.panel(), habit_change=10, bootstrap_reps=150, progress=False)
    low, high = chain.interval
    truth = study.true_revenue_lift(10)
    assert low < truth < high
    assert chain.prob_positive > 0.95
    assert chain.summary().loc[0, "estimate"] == pytest.approx(chain.estimate)


def test_chain_is_reproducible_per_seed():
    panel = bs.simulate.case_study(seed=1).panel()
    a = bs.habit_to_revenue(panel, bootstrap_reps=20, seed=3, progress=False)
    b = bs.habit_to_revenue(panel, bootstrap_reps=20, seed=3, progress=False)
    np.testing.assert_array_equal(a.draws, b.draws)


def test_f_test_matches_linearmodels_poolability():
    panel = bs.simulate.case_study(seed=3).panel()
    ours = bs.team_effects_f_test(panel, "csat", ["habit_index"], period_effects=False)
    frame = panel.model_frame("csat", ["habit_index"]).data
    reference = PanelOLS(frame["csat"], frame[["habit_index"]].assign(const=1.0), entity_effects=True).fit().f_pooled
    assert ours.statistic == pytest.approx(reference.stat, rel=1e-8)
    assert ours.df == (reference.df, reference.df_denom)


def test_hausman_and_mundlak_detect_correlated_team_effects():
    study = bs.simulate.case_study(seed=5, n_regions=6, teams_per_region=8)
    data = study.deliverables.copy()
    team_habit = study.latent.groupby("team")["habit_index"].transform("mean")
    data["csat"] = np.clip(data["csat"] + 0.08 * (team_habit - team_habit.mean()), 0, 10)
    panel = bs.Panel.from_frames(data, study.habits, study.relationships)
    assert bs.hausman(panel, "csat", ["habit_index"]).p_value < 0.01
    assert bs.mundlak(panel, "csat", ["habit_index"]).p_value < 0.01


def test_mundlak_equals_hand_wald():
    """Mundlak's statistic equals (b_mean / se_mean)^2 for a single driver."""
    import statsmodels.formula.api as smf

    panel = bs.simulate.case_study(seed=6).panel()
    frame = panel.model_frame("csat", ["habit_index"]).data.reset_index()
    frame["team_mean"] = frame.groupby("team")["habit_index"].transform("mean")
    fit = smf.ols("csat ~ habit_index + team_mean", frame).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["team"])[0]})
    expected = (fit.params["team_mean"] / fit.bse["team_mean"]) ** 2
    assert bs.mundlak(panel, "csat", ["habit_index"]).statistic == pytest.approx(expected, rel=1e-8)


def test_unconverged_logit_reports_no_numbers(threshold_fit):
    import dataclasses

    failed = dataclasses.replace(threshold_fit, logit=dataclasses.replace(threshold_fit.logit, converged=False))
    row = failed.summary().iloc[1]
    assert np.isnan(row["estimate"]) and np.isnan(row["conf_low"]) and "did not converge" in row["note"]
