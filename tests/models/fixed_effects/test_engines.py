"""Pins the pyfixest internals that `models/fixed_effects/engines.py` reads (the one place that touches them).

pyfixest has no public getter for the covariance matrix it reports, the t degrees of freedom, the
demeaned design or the terms it drops as collinear; if a release changes their meaning these tests fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from scipy import stats

from bstate_stats.models.fixed_effects.engines import pyfixest_fit
from bstate_stats.models.fixed_effects.spec import FixedEffectsSpec


@pytest.fixture(scope="module")
def frame(small_study):
    panel = small_study.panel()
    data = panel.model_frame("csat", ["habit_index", "relationship_index"]).data
    return data.assign(habit_twice=data["habit_index"] * 2)


@pytest.mark.parametrize("cluster", ["team", None])
def test_private_covariance_and_df_match_public_errors_and_pvalues(frame, cluster):
    spec = FixedEffectsSpec("csat", ("habit_index", "relationship_index"), cluster=cluster)
    fit = pyfixest_fit(frame, "csat", ["habit_index", "relationship_index"], spec, team_fe=True, period_fe=True, intercept=True)
    long = frame.reset_index().astype({"team": str})
    vcov = {"CRV1": "team"} if cluster else "iid"
    reference = pf.feols("csat ~ habit_index + relationship_index | team + t", long, vcov=vcov, ssc=pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True))
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), reference.se().to_numpy(), rtol=1e-10)
    pvalues = 2 * stats.t.sf(np.abs(fit.params / np.sqrt(np.diag(fit.cov))), fit.df)
    np.testing.assert_allclose(pvalues, reference.pvalue().to_numpy(), rtol=1e-8)


def test_private_demeaned_design_reproduces_the_coefficients(frame):
    spec = FixedEffectsSpec("csat", ("habit_index", "relationship_index"))
    fit = pyfixest_fit(frame, "csat", ["habit_index", "relationship_index"], spec, team_fe=True, period_fe=True, intercept=True)
    X, y = fit.demeaned
    np.testing.assert_allclose(np.linalg.lstsq(X, y, rcond=None)[0], fit.params.to_numpy(), rtol=1e-8)


def test_private_collinear_terms_are_named(frame):
    spec = FixedEffectsSpec("csat", ("habit_index", "habit_twice"))
    fit = pyfixest_fit(frame, "csat", ["habit_index", "habit_twice"], spec, team_fe=True, period_fe=True, intercept=True)
    assert fit.extra["collinear"] == ["habit_twice"] and list(fit.params.index) == ["habit_index"]
    assert isinstance(fit.params, pd.Series)


def test_within_slopes_equal_pyfixest_on_team_resamples(frame):
    """The bootstrap's light estimator gives pyfixest's two-way slopes on resamples that repeat teams."""
    from bstate_stats.inference.resampling import TeamResampler
    from bstate_stats.models.fixed_effects.engines import within_slopes

    drivers = ["habit_index", "relationship_index"]
    spec = FixedEffectsSpec("csat", tuple(drivers))
    teams = frame.index.get_level_values("team").unique().to_numpy()
    resampler, rng = TeamResampler(frame), np.random.default_rng(3)
    for _ in range(5):
        resample = resampler.sample(rng.choice(teams, size=len(teams)))
        reference = pyfixest_fit(resample, "csat", drivers, spec, team_fe=True, period_fe=True, intercept=True).params[drivers]
        np.testing.assert_allclose(within_slopes(resample, "csat", drivers).to_numpy(), reference.to_numpy(), rtol=1e-8, atol=1e-10)


def test_within_slopes_refuse_what_the_effects_absorb(frame):
    from bstate_stats.models.fixed_effects.engines import within_slopes

    team_constant = frame.assign(size=frame.groupby(level="team")["habit_index"].transform("mean"))
    with pytest.raises(np.linalg.LinAlgError):
        within_slopes(team_constant, "csat", ["habit_index", "size"])
    with pytest.raises(np.linalg.LinAlgError):
        within_slopes(frame, "csat", ["habit_index", "habit_twice"])
