"""Importance x performance: gaps recomputed by hand, replicates paired with the importance fit's, priorities, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.formula.api as smf

import bstate_stats as bs

DRIVERS = ["habit_index", "relationship_index", "service_level", "handle_time", "fcr"]


@pytest.fixture(scope="module")
def fitted():
    panel = bs.simulate.case_study(seed=4).panel()
    importance = bs.relative_importance(panel, "csat", DRIVERS, bootstrap_reps=99, seed=5)
    matrix = bs.importance_matrix(importance, panel, {"service_level": 0.8, "handle_time": (300.0, "at_most"), "habit_index": 10.0})
    return panel, importance, matrix


def test_gaps_equal_a_direct_computation(fitted):
    """Current level = mean of each team's latest row; gap in sd of the metric's residual on team and period dummies; the sign follows the direction."""
    panel, _, matrix = fitted
    frame = panel.model_frame("csat", DRIVERS).data.reset_index()
    latest = frame.sort_values(["team", "t"]).groupby("team").tail(1)
    table = matrix.summary().set_index("term")
    for term, sign in (("service_level", 1.0), ("handle_time", -1.0), ("habit_index", 1.0)):
        sd = float(np.std(smf.ols(f"{term} ~ C(team) + C(t)", data=frame).fit().resid))
        current = latest[term].mean()
        assert table.loc[term, "current"] == pytest.approx(current, rel=1e-12)
        assert table.loc[term, "gap_sd"] == pytest.approx(sign * (table.loc[term, "target"] - current) / sd, rel=1e-6)
        assert table.loc[term, "gap_low"] <= table.loc[term, "gap_sd"] <= table.loc[term, "gap_high"]


def test_replicates_are_the_importance_fits_own(fitted, monkeypatch):
    """The gap's replicates resample the same teams as the importance fit's: the counts regenerated from its seed are the ones it used."""
    import bstate_stats.models.importance.estimate as estimate

    panel, importance, _ = fitted
    used = []
    original = estimate.team_bootstrap_counts
    monkeypatch.setattr(estimate, "team_bootstrap_counts", lambda *args: used.append(original(*args)) or used[-1])
    again = bs.relative_importance(panel, "csat", DRIVERS, bootstrap_reps=99, seed=5)
    np.testing.assert_array_equal(used[0], again.bootstrap_counts())
    np.testing.assert_array_equal(again.bootstrap_counts(), importance.bootstrap_counts())
    assert (used[0].sum(axis=1) == importance.n_teams).all()


def test_priorities_and_refusals(fitted):
    panel, importance, matrix = fitted
    table = matrix.summary().set_index("term")
    median = importance.summary()["share_of_r2"].median()
    assert table.loc["habit_index", "gap_sd"] < 0 and table.loc["habit_index", "priority"] in ("keep", "fine")  # a target of 10 is met
    for term, row in table.iterrows():
        expected = {(True, True): "act first", (True, False): "keep", (False, True): "watch", (False, False): "fine"}[(row["share_of_r2"] >= median, row["gap_sd"] > 0)]
        assert row["priority"] == expected, term
    with pytest.raises(bs.SpecificationError, match="unknown \\['churn'\\]"):
        bs.importance_matrix(importance, panel, {"churn": 0.05})
    with pytest.raises(bs.SpecificationError, match="bad"):
        bs.importance_matrix(importance, panel, {"fcr": (0.7, "above")})
