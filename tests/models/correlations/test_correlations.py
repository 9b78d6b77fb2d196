"""Within-team correlations: equal to partial correlations from dummy regressions, recover known correlations, cover them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import bstate_stats as bs
from bstate_stats.models.correlations import within_team_correlations


def simulated_panel(seed: int, *, n_teams: int = 20, n_periods: int = 12, rho: float = 0.6, lag_effect: float = 0.0, drop: float = 0.0, trend: float = 0.0) -> bs.Panel:
    """x and y with large team effects; within a team, (x, y) bivariate normal with correlation ``rho`` (plus ``lag_effect`` times x one period earlier)."""
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(n_teams), n_periods)
    period = np.tile(np.arange(n_periods), n_teams)
    x = rng.normal(size=team.size)
    e = rng.normal(size=team.size)
    y = rho * x + np.sqrt(1 - rho**2) * e
    if lag_effect:
        earlier = np.where(period > 0, np.roll(x, 1), 0.0)
        y = np.where(period > 0, y + lag_effect * earlier, y)
    frame = pd.DataFrame({"team": [f"T{g:02d}" for g in team], "period": 2000 + period, "x": x + 5 * rng.normal(size=n_teams)[team] + trend * period, "y": y - 3 * rng.normal(size=n_teams)[team] + trend * period})
    frame = frame.sample(frac=1 - drop, random_state=seed).sort_index() if drop else frame
    return bs.Panel.from_frame(frame, team="team", period="period", outcomes=["y"], drivers=["x"])


def partial_correlation(frame: pd.DataFrame, formula: str) -> float:
    """Partial correlation of x and y given the dummies in ``formula``, from the t statistic of x (an independent route)."""
    fit = smf.ols(formula, frame).fit()
    t = fit.tvalues["x"]
    return float(np.sign(t) * np.sqrt(t**2 / (t**2 + fit.df_resid)))


@pytest.mark.parametrize("period_effects", [False, True])
def test_equals_partial_correlation_of_dummy_regressions_on_an_unbalanced_panel(period_effects):
    panel = simulated_panel(1, drop=0.15, trend=0.3)
    fit = within_team_correlations(panel, ["x", "y"], lags=(0, 1), period_effects=period_effects, bootstrap_reps=20)
    table = fit.summary().set_index("term")
    frame = panel.data.reset_index()[["team", "t", "x", "y"]]
    frame["x_lag"] = panel.lagged("x", 1).to_numpy()
    dummies = " + C(team)" + (" + C(t)" if period_effects else "")
    assert table.loc["x ~ y", "estimate"] == pytest.approx(partial_correlation(frame, "y ~ x" + dummies), abs=1e-10)
    lagged = frame.dropna(subset=["x_lag"]).drop(columns="x").rename(columns={"x_lag": "x"})
    assert table.loc["x[t-1] ~ y", "estimate"] == pytest.approx(partial_correlation(lagged, "y ~ x" + dummies), abs=1e-10)
    assert table.loc["x[t-1] ~ y", "n_rows"] == len(lagged)


def test_lag_skips_a_missing_period():
    """A value two periods back is never used as the previous period's."""
    panel = simulated_panel(2, n_teams=4, n_periods=6)
    frame = panel.data.reset_index()
    gapped = bs.Panel.from_frame(frame[~((frame["team"] == "T00") & (frame["t"] == frame["t"].min() + 2))][["team", "period", "x", "y"]].astype({"period": int}), team="team", period="period", outcomes=["y"], drivers=["x"])
    table = within_team_correlations(gapped, ["x", "y"], lags=(1,), bootstrap_reps=10).summary().set_index("term")
    assert table.loc["x[t-1] ~ y", "n_rows"] == 4 * 5 - 2  # T00 loses the gap's row and the row after it
    assert table.loc["x[t-1] ~ y", "n_rows"] + table.loc["x[t-1] ~ y", "n_excluded"] == gapped.n_rows  # every row left out is counted


def test_recovers_known_correlations_and_their_lag_structure():
    panel = simulated_panel(3, n_teams=60, n_periods=15, rho=0.0, lag_effect=0.8)
    table = within_team_correlations(panel, ["x", "y"], bootstrap_reps=400, seed=1).summary().set_index("term")
    truth_lag = 0.8 / np.sqrt(0.8**2 + 1)  # corr(x[t-1], y[t]) when y = 0.8 x[t-1] + e with unit variances
    row = table.loc["x[t-1] ~ y"]
    assert row["conf_low"] < truth_lag < row["conf_high"] and abs(row["estimate"] - truth_lag) < 3 * row["std_error"]
    same = table.loc["x ~ y"]
    assert same["conf_low"] < 0 < same["conf_high"] and same["p_value"] > 0.01


@pytest.mark.parametrize("n_teams", [6, 15, 24])
def test_intervals_cover_the_truth_at_the_nominal_rate(n_teams):
    """95% intervals over 200 simulated studies (truth rho = 0.5): coverage within the binomial band of 95% (sd 1.5 points), even with 6 teams."""
    truth = 0.5
    # demeaning within a team of T periods shrinks the correlation's sampling spread but not its centre: truth stays rho
    covered = [
        (lambda row: row["conf_low"] <= truth <= row["conf_high"])(within_team_correlations(simulated_panel(100 + k, n_teams=n_teams, n_periods=8, rho=truth), ["x", "y"], lags=(0,), bootstrap_reps=300, seed=k).summary().iloc[0])
        for k in range(200)
    ]
    assert 0.90 <= np.mean(covered) <= 0.985


def test_same_seed_same_intervals_and_errors_name_the_problem():
    panel = simulated_panel(4, n_teams=6, n_periods=5)
    first, second = (within_team_correlations(panel, ["x", "y"], bootstrap_reps=50, seed=9).summary() for _ in range(2))
    pd.testing.assert_frame_equal(first, second)
    with pytest.raises(bs.ColumnError, match="cannot correlate nope"):
        within_team_correlations(panel, ["x", "nope"])
    with pytest.raises(bs.SpecificationError, match="lags must be whole numbers"):
        within_team_correlations(panel, ["x", "y"], lags=(-1,))
    with pytest.raises(bs.SpecificationError, match="at least two columns"):
        within_team_correlations(panel, ["x"])


def test_a_column_listed_twice_is_refused():
    with pytest.raises(bs.SpecificationError, match="listed twice"):
        within_team_correlations(simulated_panel(5, n_teams=4, n_periods=4), ["x", "x", "y"])
