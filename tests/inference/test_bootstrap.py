"""Few-cluster wild bootstrap: our vectorised denominator equals wildboottest's, intervals invert the test."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from wildboottest.wildboottest import WildboottestCL

import bstate_stats as bs
from bstate_stats.inference.bootstrap import _pvalue, _run_bootstrap, _WildBootstrapCRV1


def _run(cls, X, y, clusters, seed):
    return _run_bootstrap(cls, X, y, clusters, np.array([1.0, 0.0]), 499, "webb", seed)


def test_vectorised_denominator_equals_library():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    clusters = np.repeat(np.arange(6), 50)
    y = X @ [0.3, 1.0] + rng.normal(size=300) + rng.normal(size=6)[clusters]
    ours, theirs = _run(_WildBootstrapCRV1, X, y, clusters, 4), _run(WildboottestCL, X, y, clusters, 4)
    np.testing.assert_allclose(ours.denom, theirs.denom, rtol=1e-12)
    np.testing.assert_allclose(ours.t_boot, theirs.t_boot, rtol=1e-12)
    # draws whose |t*| ties |t| exactly (e.g. all clusters given the same weight) may fall either side in the last bit
    ties = np.sum(np.isclose(np.abs(theirs.t_boot), abs(theirs.t_stat), rtol=1e-12, atol=0))
    assert abs(ours.pvalue - theirs.pvalue) <= (ties + 0.5) / 499


def test_few_regions_warn_and_bootstrap_interval_inverts_the_test():
    panel = bs.simulate.case_study(seed=1).panel()
    with pytest.warns(bs.EstimationWarning, match="only 4 clusters"):
        result = bs.fixed_effects(panel, "csat", ["habit_index", "relationship_index"], cluster="region", bootstrap_reps=399, seed=2)
    inference = result.bootstrap["habit_index"]
    row = result.summary().set_index("term").loc["habit_index"]
    assert row["boot_conf_low"] == inference.conf_low
    assert inference.conf_low < result.params["habit_index"] < inference.conf_high
    assert inference.reps == 399 and inference.weights == "webb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = bs.fixed_effects(panel, "csat", ["habit_index", "relationship_index"], cluster="region", bootstrap_reps=399, seed=2)
    assert again.bootstrap["habit_index"] == inference  # seeded: identical


def test_pvalue_is_one_at_the_estimate_and_small_far_away():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 2))
    clusters = np.repeat(np.arange(8), 30)
    y = X @ [0.5, 1.0] + rng.normal(size=240)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    assert _pvalue(X, y, clusters, 0, beta[0], 499, "webb", 0) > 0.9
    assert _pvalue(X, y, clusters, 0, beta[0] + 2.0, 499, "webb", 0) < 0.05


def test_interval_ends_are_where_the_bootstrap_p_value_crosses_one_minus_the_level():
    """Test inversion, checked: just inside each end the p-value is at least 1 - level, just outside below (to 1/reps)."""
    from bstate_stats.inference.bootstrap import wild_cluster_bootstrap

    rng = np.random.default_rng(5)
    X = rng.normal(size=(240, 2))
    clusters = np.repeat(np.arange(8), 30)
    y = X @ [0.5, 1.0] + rng.normal(size=240) + rng.normal(size=8)[clusters]
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    reps, alpha, step = 399, 0.1, 0.01
    result = wild_cluster_bootstrap(X, y, clusters, 0, term="x", estimate=beta[0], std_error=0.1, confidence_level=1 - alpha, reps=reps, seed=3)
    for end, inward in ((result.conf_low, 1.0), (result.conf_high, -1.0)):
        inside = _pvalue(X, y, clusters, 0, end + inward * step, reps, "webb", 3)
        outside = _pvalue(X, y, clusters, 0, end - inward * step, reps, "webb", 3)
        assert inside >= alpha - 1 / reps and outside <= alpha + 1 / reps
        assert inside > outside


@pytest.mark.parametrize(("options", "promise"), [({"estimator": "random", "effects": "team"}, "no wild cluster bootstrap is available for the random estimator"), ({"cluster": "twoway"}, "no wild cluster bootstrap is available for two-way clustering")])
def test_few_cluster_warning_promises_only_what_is_computed(options, promise):
    """Random effects and two-way clustering have no wild bootstrap: the warning says so and no bootstrap columns appear."""
    panel = bs.simulate.case_study(seed=1).panel()
    options = {"cluster": "region", **options}
    with pytest.warns(bs.EstimationWarning, match=promise):
        result = bs.fixed_effects(panel, "csat", ["habit_index", "relationship_index"], bootstrap_reps=99, **options)
    assert not result.bootstrap
    assert "boot_p_value" not in result.summary().columns
