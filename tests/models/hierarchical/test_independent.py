"""The engine against an independent PyMC model written here from the formulas, family by family.

Same data, same priors (their scales read from the fit's stated prior units), code written apart (likelihoods
from PyMC's distributions, team intercepts centred, or non-centred where one 0/1 outcome per row says little about
a team: centred, the bernoulli reference repeated its draws and its team_sd sat 0.2 posterior sd below the
engine's). The reference must pass the same convergence checks as the engine; posterior means agree within
0.1 posterior sd. With 16,000 draws each, the Monte Carlo error of a mean is 0.01-0.03 sd (effective sample
sizes of about 1,000-10,000), so the bound is 2-7 standard errors of the difference: the spreads (team_sd,
ESS lowest) are the ones a chance failure would name.
"""

from __future__ import annotations

import warnings

import numpy as np
import pymc as pm
import pytest

import bstate_stats as bs
from bstate_stats.diagnostics.convergence import check_convergence
from bstate_stats.models.hierarchical.families import FAMILIES

OPTIONS = {"binomial": "trials", "poisson": "exposure", "negative_binomial": "exposure"}
AUX = {"censored_normal": "sigma", "normal": "sigma", "lognormal": "sigma", "negative_binomial": "alpha", "gamma": "shape", "beta": "phi"}
SETTINGS = {"varying": (), "period_effects": False, "region_effects": "none"}


def _hand_written(frame, name: str, centre: float, unit: float, bounds, extra_column: str | None, *, centred: bool) -> pm.Model:
    """Team intercepts around a population mean (centred or not), one standardised habit slope, the family's likelihood."""
    team = frame["team"].astype("category").cat.codes.to_numpy()
    habit = frame["habit_index"].to_numpy(float)
    x = (habit - habit.mean()) / habit.std()
    y = frame["outcome"].to_numpy(float)
    extra = frame[extra_column].to_numpy(float) if extra_column else None
    with pm.Model() as model:
        alpha = pm.Normal("intercept", centre, 2.0 * unit)
        beta = pm.Normal("beta", 0.0, 1.0 * unit)
        team_sd = pm.HalfNormal("team_sd", 0.5 * unit)
        n_teams = int(team.max()) + 1
        a = pm.Normal("a", alpha, team_sd, shape=n_teams) if centred else alpha + team_sd * pm.Normal("a_z", 0.0, 1.0, shape=n_teams)
        eta = a[team] + beta * x
        if name in ("censored_normal", "normal", "lognormal"):
            sigma = pm.HalfNormal("sigma", 1.0 * unit)
        elif name in AUX:
            aux = pm.Gamma(AUX[name], 2.0, 0.1)
        if name == "censored_normal":
            pm.Censored("y", pm.Normal.dist(eta, sigma), lower=bounds[0], upper=bounds[1], observed=y)
        elif name == "normal":
            pm.Normal("y", eta, sigma, observed=y)
        elif name == "lognormal":
            pm.Normal("log_y", eta, sigma, observed=np.log(y))  # the log-Normal likelihood up to the Jacobian, a constant in the parameters
        elif name == "bernoulli":
            pm.Bernoulli("y", p=pm.math.sigmoid(eta), observed=y)
        elif name == "binomial":
            pm.Binomial("y", n=extra, p=pm.math.sigmoid(eta), observed=y)
        elif name == "poisson":
            pm.Poisson("y", extra * pm.math.exp(eta), observed=y)
        elif name == "negative_binomial":
            pm.NegativeBinomial("y", mu=extra * pm.math.exp(eta), alpha=aux, observed=y)
        elif name == "gamma":
            pm.Gamma("y", mu=pm.math.exp(eta), sigma=pm.math.exp(eta) / pm.math.sqrt(aux), observed=y)
        else:
            mean = pm.math.sigmoid(eta)
            pm.Beta("y", mu=mean, nu=aux, observed=y)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_engine_agrees_with_a_hand_written_model(name):
    study = bs.simulate.family_study(name, seed=31)
    extra = study.extra_column if name in OPTIONS else None
    options = {OPTIONS[name]: extra} if extra else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=3, family=name, progress=False, draws=4000, **SETTINGS, **options)
        frame = study.frame.sort_values(["team", "period"])
        with _hand_written(frame, name, fit.meta["centre"], fit.meta["unit"], fit.meta["bounds"], extra, centred=name != "bernoulli"):
            hand = pm.sample(4000, tune=1000, chains=4, random_seed=3, nuts_sampler="nutpie", target_accept=0.9, progressbar=False)
    assert fit.converged, fit.diagnostics.message()
    reference = check_convergence(hand, ["intercept", "beta", "team_sd", *([AUX[name]] if name in AUX else [])], warn=False)
    assert reference.converged, f"the hand-written reference: {reference.message()}"
    pairs = {"intercept": "intercept", "effects_std": "beta", "team_sd": "team_sd", **({AUX[name]: AUX[name]} if name in AUX else {})}
    for ours, theirs in pairs.items():
        engine = fit.idata.posterior[ours].to_numpy().ravel()
        other = hand.posterior[theirs].to_numpy().ravel()
        sd = max(engine.std(), other.std())
        assert abs(engine.mean() - other.mean()) < 0.1 * sd, f"{ours}: engine {engine.mean():.4f} vs hand-written {other.mean():.4f} (posterior sd {sd:.4f})"
