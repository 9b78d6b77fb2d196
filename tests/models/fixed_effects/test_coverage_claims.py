"""The README's fixed-effects coverage figures, re-measured on every CI run (marker ``claims``).

400 studies per design: the standard error of a coverage near 95% is 1.1 points, so a band of
+/- 2.5 points fails a calibrated estimator about 2% of the time and a 5-point miscalibration
(coverage 90%) passes it only about 1 time in 100 (Normal approximation to the binomial).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bstate_stats as bs

STUDIES = 400
DRIVERS = ["habit_index", "relationship_index"]


def _coverage(**design) -> tuple[float, float]:
    """Share of 95% intervals covering the true habit effect, and the mean estimate over the truth."""
    hits, ratios = [], []
    for seed in range(STUDIES):
        study = bs.simulate.case_study(seed=1000 + seed, **design)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = bs.fixed_effects(study.panel(), "csat", DRIVERS, bootstrap_reps=0)
        low, high = result.conf_int().loc["habit_index"]
        truth = study.truth.habit_effect / 10
        hits.append(low < truth < high)
        ratios.append(result.params["habit_index"] / truth)
    return float(np.mean(hits)), float(np.mean(ratios))


@pytest.mark.claims
def test_coverage_away_from_the_ceiling_is_nominal():
    """README: away from the ceiling and with one slope for every team, 95% intervals cover the truth in 93.25% of 400 studies.

    Baseline satisfaction 4.5 keeps scores off 10, team and region slopes are equal: the linear model is the true model.
    Cluster-robust intervals with 36 clusters run slightly short of 95% (t(G-1), CRV1).
    """
    coverage, ratio = _coverage(n_regions=6, teams_per_region=6, team_slope_sd=0, region_slope_sd=0, baseline_csat=4.5)
    print(f"coverage {coverage:.4f}, mean estimate / truth {ratio:.4f}")
    assert 0.925 <= coverage <= 0.975
    assert 0.98 <= ratio <= 1.02  # unbiased: the Monte Carlo sd of the mean ratio is about 0.5%


@pytest.mark.claims
def test_coverage_in_the_default_case_study_is_short_because_of_the_ceiling():
    """README: in the default case study the linear estimate is attenuated by about 7% and its 95% interval covers the latent slope in about 82% of studies.

    Scores are clipped at 10 as teams pass 8; the linear model estimates the slope of the clipped score, smaller than the
    latent slope the simulation draws (the censored Bayesian model targets the latent slope). This test fails if that
    stated shortfall stops holding, either way.
    """
    coverage, ratio = _coverage()
    print(f"coverage {coverage:.4f}, mean estimate / truth {ratio:.4f}")
    assert 0.78 <= coverage <= 0.86
    assert 0.90 <= ratio <= 0.95
