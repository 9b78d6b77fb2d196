"""Threshold, revenue and chain models against simulated truth; specification tests against linearmodels."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from linearmodels import PanelOLS

import bstate_stats as bs

ROOT = Path(__file__).resolve().parents[2]
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
    """Mundlak's statistic equals (b_mean / se_mean)^2 for a single driver, period dummies included (two-way, as the FE default)."""
    import statsmodels.formula.api as smf

    panel = bs.simulate.case_study(seed=6).panel()
    frame = panel.model_frame("csat", ["habit_index"]).data.reset_index()
    frame["team_mean"] = frame.groupby("team")["habit_index"].transform("mean")
    fit = smf.ols("csat ~ habit_index + team_mean + C(t)", frame).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["team"])[0]})
    expected = (fit.params["team_mean"] / fit.bse["team_mean"]) ** 2
    assert bs.mundlak(panel, "csat", ["habit_index"]).statistic == pytest.approx(expected, rel=1e-8)
    without = smf.ols("csat ~ habit_index + team_mean", frame).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["team"])[0]})
    expected = (without.params["team_mean"] / without.bse["team_mean"]) ** 2
    assert bs.mundlak(panel, "csat", ["habit_index"], period_effects=False).statistic == pytest.approx(expected, rel=1e-8)


@pytest.fixture(scope="module")
def jtrain():
    from linearmodels.datasets import jobtraining

    data = jobtraining.load().dropna(subset=["lscrap"])
    return bs.Panel.from_frame(data, team="fcode", period="year", outcomes=["lscrap"], drivers=["grant", "grant_1", "d88", "d89"])


def test_mundlak_leaves_out_team_means_that_are_the_same_for_every_team(jtrain):
    """Wooldridge's job-training panel (example 14.1) with year dummies as drivers.

    The team means of d88 and d89 are 1/3 for every firm (balanced panel): they carry no between-firm information. The
    old test counted them and rejected (chi2(4) = 16.1, p = 0.001) where the identifiable test, built by hand below on
    the means of grant and grant_1 only, gives chi2(2) = 1.85, p = 0.40, in line with Hausman (chi2(2) = 2.05, p = 0.36).
    """
    import statsmodels.formula.api as smf

    drivers = ["d88", "d89", "grant", "grant_1"]
    test = bs.mundlak(jtrain, "lscrap", drivers)
    frame = jtrain.model_frame("lscrap", drivers).data.reset_index()
    for name in ("grant", "grant_1"):
        frame[f"{name}_mean"] = frame.groupby("team")[name].transform("mean")
    fit = smf.ols("lscrap ~ d88 + d89 + grant + grant_1 + grant_mean + grant_1_mean", frame).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["team"])[0]})
    hand = fit.wald_test("grant_mean = 0, grant_1_mean = 0", use_f=False, scalar=True)
    assert test.df == (2,) and test.dropped == ("d88", "d89")
    assert test.statistic == pytest.approx(float(hand.statistic), rel=1e-8)
    assert test.p_value == pytest.approx(0.3965, abs=5e-4)
    assert "d88, d89" in test.conclusion() and "do not reject" in test.conclusion()
    hausman = bs.hausman(jtrain, "lscrap", drivers)
    assert hausman.df == (2,) and hausman.p_value > 0.05  # the year dummies add no degree of freedom to Hausman either; the tests agree


def test_mundlak_leaves_out_period_driven_team_means_in_an_unbalanced_panel(jtrain):
    """With one firm-year missing the means of d88 and d89 differ by firm, but only as the period dummies' means do: still left out, df 2."""
    drivers = ["d88", "d89", "grant", "grant_1"]
    data = jtrain.data.reset_index().iloc[1:]
    unbalanced = bs.Panel.from_frame(data, team="team", period="period", outcomes=["lscrap"], drivers=["grant", "grant_1", "d88", "d89"])
    test = bs.mundlak(unbalanced, "lscrap", drivers)
    assert test.df == (2,) and test.dropped == ("d88", "d89")


def test_mundlak_on_an_unbalanced_panel_controls_for_the_team_means_of_period_dummies():
    """With rows missing, period dummies' team means differ by team and enter as controls (Wooldridge 2019); hand-built equivalent."""
    import statsmodels.formula.api as smf

    study = bs.simulate.case_study(seed=8)
    rng = np.random.default_rng(8)
    tables = {name: frame.copy() for name, frame in study.tables.items()}
    tables["deliverables"] = tables["deliverables"][rng.random(len(tables["deliverables"])) > 0.15]
    panel = bs.Panel.from_frames(*tables.values())
    frame = panel.model_frame("csat", ["habit_index"]).data.reset_index()
    dummies = pd.get_dummies(frame["t"], prefix="p", drop_first=True, dtype=float)
    frame = pd.concat([frame, dummies, dummies.groupby(frame["team"]).transform("mean").add_suffix("_m")], axis=1)
    frame["habit_mean"] = frame.groupby("team")["habit_index"].transform("mean")
    terms = " + ".join([*dummies.columns, *(f"{c}_m" for c in dummies.columns)])
    fit = smf.ols(f"csat ~ habit_index + habit_mean + {terms}", frame).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["team"])[0]})
    test = bs.mundlak(panel, "csat", ["habit_index"])
    assert test.statistic == pytest.approx((fit.params["habit_mean"] / fit.bse["habit_mean"]) ** 2, rel=1e-8)
    assert test.dropped == ()


def test_unconverged_logit_reports_no_numbers(threshold_fit):
    import dataclasses

    failed = dataclasses.replace(threshold_fit, logit=dataclasses.replace(threshold_fit.logit, converged=False))
    row = failed.summary().iloc[1]
    assert np.isnan(row["estimate"]) and np.isnan(row["conf_low"]) and "did not converge" in row["note"]


def test_logit_on_the_example_data_says_why_it_cannot_converge():
    """The bundled example: few teams cross 8 on both sides, so the note says why and points to the linear probability model."""
    panel = bs.load_panel(ROOT / "data" / "example")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bs.threshold_model(panel, "csat", ["habit_index", "relationship_index"], threshold=8.0, bootstrap_reps=0)
    assert not result.logit.converged
    (sentence,) = [n for n in result.notes() if n.startswith("The conditional logit did not converge")]
    assert f"only {result.logit.n_teams} teams have csat on both sides of 8 ({result.logit.n_rows} rows)" in sentence
    assert "read the linear probability model" in sentence
