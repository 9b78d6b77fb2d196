"""Do the internal metrics move the customer outcomes: against dummy-variable OLS, against a known truth, in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import bstate_stats as bs


def _panel(seed: int, n_teams: int = 40, n_periods: int = 12) -> tuple[bs.Panel, dict[str, float]]:
    """Satisfaction moves with resolution (+0.8 points per unit) and not with handle time; both metrics vary within teams."""
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(n_teams), n_periods)
    period = np.tile(np.arange(n_periods), n_teams)
    resolution = rng.normal(0, 1, n_teams)[team] + rng.normal(0, 1, team.size)
    handle = rng.normal(0, 1, n_teams)[team] + 0.3 * resolution + rng.normal(0, 1, team.size)
    score = rng.normal(6, 1, n_teams)[team] + 0.05 * period + 0.8 * resolution + rng.normal(0, 1, team.size)
    frame = pd.DataFrame({"team": [f"T{k:02d}" for k in team], "period": period, "score": score, "resolution": resolution, "handle": handle})
    panel = bs.Panel.from_frame(frame, team="team", period="period", outcomes=["score"], drivers=["resolution", "handle"])
    return panel, {"resolution": 0.8, "handle": 0.0}


def test_effect_per_sd_equals_dummy_variable_ols_times_the_within_sd():
    panel, _ = _panel(seed=1)
    result = bs.metrics_and_outcomes(panel, ["score"], ["resolution", "handle"], controls=[], bootstrap_reps=99)
    frame = panel.model_frame("score", ["resolution", "handle"]).data.reset_index()
    for row in result.summary().itertuples():
        ols = smf.ols(f"score ~ {row.metric} + C(team) + C(t)", data=frame).fit()
        residual = smf.ols(f"{row.metric} ~ C(team) + C(t)", data=frame).fit().resid  # the metric's within-team, within-period variation
        assert row.metric_sd == pytest.approx(float(np.std(residual)), rel=1e-8)
        assert row.estimate == pytest.approx(ols.params[row.metric] * row.metric_sd, rel=1e-8)
        assert row.interval == "clustered" and row.n_teams == 40  # 40 teams: clustered intervals, no bootstrap
        assert row.n_rows + row.n_excluded == 480 and row.n_excluded == 0  # every row counted


def test_recovers_which_metric_moves_the_outcome():
    """Resolution moves the score (its interval covers the true +0.8 per unit, scaled to one sd); handle time does not."""
    panel, truth = _panel(seed=2)
    table = bs.metrics_and_outcomes(panel, ["score"], ["resolution", "handle"], bootstrap_reps=99).summary().set_index("metric")
    resolution = table.loc["resolution"]
    assert resolution["moves"] and resolution["conf_low"] < truth["resolution"] * resolution["metric_sd"] < resolution["conf_high"]
    held = bs.metrics_and_outcomes(panel, ["score"], ["handle"], controls=["resolution"], bootstrap_reps=99).summary().iloc[0]
    assert not held["moves"] and held["conf_low"] < 0 < held["conf_high"]  # with resolution held fixed, handle time says nothing


def test_sentence_and_refusals_speak_the_outcomes_words():
    panel = bs.simulate.case_study(seed=3).panel()
    result = bs.metrics_and_outcomes(panel, ["csat", "churn"], ["fcr", "handle_time"], bootstrap_reps=49)
    sentence = result.sentence()
    assert "first-contact resolution" in sentence and "satisfaction points" in sentence and "percentage points of churn" in sentence
    assert set(result.summary()["interval"]) == {"wild cluster bootstrap"}  # 24 teams: the few-clusters bootstrap gives the interval
    with pytest.raises(bs.SpecificationError, match="none named twice"):
        bs.metrics_and_outcomes(panel, ["csat"], ["csat", "fcr"])


def test_rows_a_regression_leaves_out_are_counted():
    """Five missing handle times: that regression keeps 475 rows and counts 5; the other keeps all 480."""
    panel, _ = _panel(seed=3)
    frame = panel.data.reset_index()[["team", "t", "score", "resolution", "handle"]]
    frame.loc[[3, 50, 100, 200, 400], "handle"] = np.nan
    gappy = bs.Panel.from_frame(frame, team="team", period="t", outcomes=["score"], drivers=["resolution", "handle"])
    table = bs.metrics_and_outcomes(gappy, ["score"], ["resolution", "handle"], bootstrap_reps=99).summary().set_index("metric")
    assert (table.loc["handle", "n_rows"], table.loc["handle", "n_excluded"]) == (475, 5)
    assert (table.loc["resolution", "n_rows"], table.loc["resolution", "n_excluded"]) == (480, 0)
