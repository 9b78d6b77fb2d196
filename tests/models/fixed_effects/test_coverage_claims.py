"""The README's fixed-effects coverage figures, re-measured on every CI run (marker ``claims``).

Each band is centred on the figure the README states. The seeds are fixed, so a test changes verdict only when
the estimator (or a library under it) changes; how strongly it reacts, with 400 studies per design (binomial se
of a coverage near 93% about 1.3 points, near 82% about 1.9 points; Normal approximation):
- away from the ceiling, band 91.0-95.5%: coverage 5 points lower (88.25%) would pass about 1 time in 20;
- default case study, band 79.5-84.5%: coverage 5 points lower (77%) would pass about 1 time in 8.

Each claim is a class of its own, a scope of its own for ``--dist loadscope``: the two may run on different workers.
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


class TestAwayFromTheCeiling:
    @pytest.mark.claims
    def test_coverage_away_from_the_ceiling_is_nominal(self):
        """README: away from the ceiling and with one slope for every team, 95% intervals cover the truth in 93.25% of 400 studies.

        Baseline satisfaction 4.5 keeps scores off 10, team and region slopes are equal: the linear model is the true model.
        Cluster-robust intervals with 36 clusters run slightly short of 95% (t(G-1), CRV1).
        """
        coverage, ratio = _coverage(n_regions=6, teams_per_region=6, team_slope_sd=0, region_slope_sd=0, baseline_csat=4.5)
        print(f"coverage {coverage:.4f}, mean estimate / truth {ratio:.4f}")
        assert 0.91 <= coverage <= 0.955
        assert 0.98 <= ratio <= 1.02  # unbiased: the Monte Carlo sd of the mean ratio is about 0.5%


class TestDefaultCaseStudy:
    @pytest.mark.claims
    def test_coverage_in_the_default_case_study_is_short_of_the_population_slope(self):
        """README: in the default case study the linear estimate is attenuated by about 7% and its 95% interval covers the population slope in about 82% of studies.

        Two causes, measured apart on the same 400 seeds: scores clipped at 10 as teams pass 8 (ceiling alone: 87.5%
        coverage, estimate / truth 0.947), and slopes that vary by team and by region with only 4 regions, while the truth
        is the population slope and errors are clustered by team (slope spread alone, baseline 4.5: 84%, 0.988). The
        censored Bayesian model, with its "new_team" estimand, targets the population slope. This test fails if the stated
        shortfall stops holding, either way.
        """
        coverage, ratio = _coverage()
        print(f"coverage {coverage:.4f}, mean estimate / truth {ratio:.4f}")
        assert 0.795 <= coverage <= 0.845
        assert 0.90 <= ratio <= 0.95
