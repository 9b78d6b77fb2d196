"""Relative importance: brute-force subset regressions, sums, the orthogonal case, recovery and coverage of known shares."""

from __future__ import annotations

from itertools import combinations, permutations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import bstate_stats as bs
from bstate_stats.models.importance import relative_importance
from bstate_stats.models.importance.shares import relative_weights, shapley_shares, subset_r2

BETA = np.array([0.6, 0.3, 0.0])
COV = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.0]])


def simulated_panel(seed: int, *, n_teams: int = 30, n_periods: int = 10, drop: float = 0.0, noise: float = 1.0, trend: float = 1.0) -> bs.Panel:
    """Three correlated drivers (covariance COV within teams), y = X BETA + noise, large team effects and a common trend (which only period effects remove)."""
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(n_teams), n_periods)
    period = np.tile(np.arange(n_periods), n_teams)
    x = rng.multivariate_normal(np.zeros(3), COV, size=team.size)
    y = x @ BETA + noise * rng.normal(size=team.size)
    frame = pd.DataFrame({"team": [f"T{g:02d}" for g in team], "period": 2000 + period, "y": y + 4 * rng.normal(size=n_teams)[team] + 0.2 * trend * period})
    for k in range(3):
        frame[f"x{k}"] = x[:, k] + 3 * rng.normal(size=n_teams)[team] + 0.1 * trend * period
    frame = frame.sample(frac=1 - drop, random_state=seed).sort_index() if drop else frame
    return bs.Panel.from_frame(frame, team="team", period="period", outcomes=["y"], drivers=["x0", "x1", "x2"])


def brute_force_lmg(panel: bs.Panel, effects: str) -> tuple[np.ndarray, float]:
    """Shapley shares from statsmodels OLS with dummies for every subset, averaged over every order of entry."""
    data = panel.data.reset_index()
    dummies = "C(team)" + (" + C(t)" if effects == "twoway" else "")
    base = smf.ols(f"y ~ {dummies}", data).fit().ssr
    r2 = {frozenset(): 0.0}
    for size in range(1, 4):
        for subset in combinations(["x0", "x1", "x2"], size):
            r2[frozenset(subset)] = 1 - smf.ols(f"y ~ {' + '.join(subset)} + {dummies}", data).fit().ssr / base
    orders = list(permutations(["x0", "x1", "x2"]))
    shares = []
    for driver in ["x0", "x1", "x2"]:
        total = 0.0
        for order in orders:
            before = frozenset(order[: order.index(driver)])
            total += r2[before | {driver}] - r2[before]
        shares.append(total / len(orders))
    return np.array(shares), r2[frozenset({"x0", "x1", "x2"})]


@pytest.mark.parametrize("effects", ["twoway", "team"])
def test_equals_brute_force_subset_regressions_and_sums_to_the_within_r2(effects):
    panel = simulated_panel(1, drop=0.1)
    fit = relative_importance(panel, "y", ["x0", "x1", "x2"], effects=effects, bootstrap_reps=20)
    expected, r2_within = brute_force_lmg(panel, effects)
    np.testing.assert_allclose(fit.lmg, expected, atol=1e-10)
    assert fit.lmg.sum() == pytest.approx(r2_within, abs=1e-10)
    assert fit.relative_weights.sum() == pytest.approx(r2_within, abs=1e-10)


def test_orthogonal_drivers_share_their_squared_correlations():
    """With drivers uncorrelated with each other, LMG shares and relative weights both equal each driver's squared correlation with y."""
    rng = np.random.default_rng(2)
    z = rng.normal(size=(200, 4))
    z -= z.mean(axis=0)
    q, _ = np.linalg.qr(z[:, :3])  # three exactly orthogonal, centred columns
    y = q @ np.array([3.0, 2.0, 1.0]) + z[:, 3]
    cross = np.cov(np.column_stack([y, q]), rowvar=False, bias=True) * len(y)
    squared = np.array([np.corrcoef(y, q[:, k])[0, 1] ** 2 for k in range(3)])
    np.testing.assert_allclose(shapley_shares(subset_r2(cross), 3), squared, atol=1e-12)
    np.testing.assert_allclose(relative_weights(cross), squared, atol=1e-12)


def test_shares_of_a_stack_equal_shares_one_by_one():
    rng = np.random.default_rng(3)
    stack = np.stack([(lambda m: m.T @ m)(rng.normal(size=(50, 4))) for _ in range(5)])
    together = shapley_shares(subset_r2(stack), 3)
    for k in range(5):
        np.testing.assert_allclose(together[k], shapley_shares(subset_r2(stack[k]), 3), atol=1e-14)
        np.testing.assert_allclose(relative_weights(stack)[k], relative_weights(stack[k]), atol=1e-14)


def population_lmg() -> np.ndarray:
    """The true shares: LMG of the population cross-product matrix of (y, x)."""
    cov_xy = COV @ BETA
    cross = np.block([[np.array([[BETA @ COV @ BETA + 1.0]]), cov_xy[None, :]], [cov_xy[:, None], COV]])
    return shapley_shares(subset_r2(cross), 3)


def test_recovers_known_shares_and_ranks_them():
    truth = population_lmg()
    fit = relative_importance(simulated_panel(4, n_teams=80, n_periods=12), "y", ["x0", "x1", "x2"], bootstrap_reps=300, seed=1)  # two-way: the trend goes
    table = fit.summary().set_index("term")
    for k, driver in enumerate(["x0", "x1", "x2"]):
        assert table.loc[driver, "conf_low"] < truth[k] < table.loc[driver, "conf_high"]
    assert list(table.index) == ["x0", "x1", "x2"] and table.loc["x0", "prob_top_k"] > 0.99


def coverage(effects: str, n_teams: int, trend: float, studies: int = 200) -> np.ndarray:
    """Share of studies whose 95% interval holds each true share."""
    truth = population_lmg()
    covered = []
    for s in range(studies):
        table = relative_importance(simulated_panel(100 + s, n_teams=n_teams, trend=trend), "y", ["x0", "x1", "x2"], effects=effects, bootstrap_reps=400, seed=s).summary()
        table = table.set_index("term").loc[["x0", "x1", "x2"]]
        covered.append(((table["conf_low"] <= truth) & (truth <= table["conf_high"])).to_numpy())
    return np.mean(covered, axis=0)


def test_intervals_cover_the_true_shares_with_ten_teams():
    """200 studies of 10 teams (team effects, no trend): 95% coverage within the binomial band; the driver whose true share is
    near 0 (0.0095) sits at the boundary, where the interval is conservative (measured 99%), so only its floor is checked."""
    rates = coverage("team", 10, trend=0.0)
    assert np.all((rates[:2] >= 0.90) & (rates[:2] <= 0.985)) and rates[2] >= 0.90, rates


@pytest.mark.slow
def test_intervals_cover_the_true_shares_with_period_effects_over_200_studies():
    rates = coverage("twoway", 25, trend=1.0)
    assert np.all((rates[:2] >= 0.90) & (rates[:2] <= 0.985)) and rates[2] >= 0.90, rates


def test_errors_name_the_problem():
    panel = simulated_panel(5, n_teams=5, n_periods=4)
    with pytest.raises(bs.SpecificationError, match="2 to 12 drivers"):
        relative_importance(panel, "y", ["x0"])
    with pytest.raises(bs.SpecificationError, match="top_k"):
        relative_importance(panel, "y", ["x0", "x1"], top_k=3)
    with pytest.raises(bs.ColumnError):
        relative_importance(panel, "y", ["x0", "nope"])


def test_drivers_that_cannot_be_ranked_are_refused_by_name():
    panel = simulated_panel(6, n_teams=6, n_periods=5)
    frame = panel.data.reset_index()
    frame["fixed"] = frame["team"].map({t: k for k, t in enumerate(sorted(frame["team"].unique()))}).astype(float)  # constant within each team
    frame["twin"] = 2 * frame["x0"]  # collinear with x0
    wide = bs.Panel.from_frame(frame[["team", "period", "y", "x0", "x1", "fixed", "twin"]].astype({"period": int}), team="team", period="period", outcomes=["y"], drivers=["x0", "x1", "fixed", "twin"])
    with pytest.raises(bs.SpecificationError, match="fixed never change within a team"):
        relative_importance(wide, "y", ["x0", "fixed"], bootstrap_reps=10)
    with pytest.raises(bs.SpecificationError, match="collinear within teams"):
        relative_importance(wide, "y", ["x0", "twin"], effects="team", bootstrap_reps=10)
