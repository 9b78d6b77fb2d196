"""Every outcome family: the PyMC likelihood, the NumPy predictor and SciPy's distribution agree; fits recover simulated truth."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pymc as pm
import pytest
from scipy import stats

import bstate_stats as bs
from bstate_stats.models.hierarchical.build import build_model
from bstate_stats.models.hierarchical.design import prepare_data
from bstate_stats.models.hierarchical.estimands import Setting
from bstate_stats.models.hierarchical.families import FAMILIES, family
from bstate_stats.models.hierarchical.predict import Draws, linear_predictor
from bstate_stats.models.hierarchical.spec import HierarchicalSpec

EXTRA = {"binomial": {"trials": "customers"}, "poisson": {"exposure": "employee_days"}, "negative_binomial": {"exposure": "employee_days"}}


def _setup(name: str, **shape):
    study = bs.simulate.family_study(name, seed=4, n_regions=3, teams_per_region=4, n_periods=8, **shape)
    spec = HierarchicalSpec("outcome", ("habit_index",), 0, family=name, **EXTRA.get(name, {}))  # type: ignore[arg-type]
    arrays, meta, _ = prepare_data(study.panel(), spec)
    return study, spec, arrays, meta


def _scipy_loglik(name: str, eta: np.ndarray, aux, y: np.ndarray, extra, bounds) -> float:
    """The family's log likelihood written with SciPy alone (the reference)."""
    if name == "censored_normal":
        low, high = bounds
        inside = (y > low) & (y < high)
        return float(stats.norm.logpdf(y[inside], eta[inside], aux).sum() + stats.norm.logsf(high, eta[y >= high], aux).sum() + stats.norm.logcdf(low, eta[y <= low], aux).sum())
    if name == "normal":
        return float(stats.norm.logpdf(y, eta, aux).sum())
    if name == "bernoulli":
        return float(stats.bernoulli.logpmf(y, 1 / (1 + np.exp(-eta))).sum())
    if name == "binomial":
        return float(stats.binom.logpmf(y, extra, 1 / (1 + np.exp(-eta))).sum())
    if name == "poisson":
        return float(stats.poisson.logpmf(y, np.exp(eta) * extra).sum())
    if name == "negative_binomial":
        mean = np.exp(eta) * extra
        return float(stats.nbinom.logpmf(y, aux, aux / (aux + mean)).sum())
    if name == "lognormal":
        return float(stats.lognorm.logpdf(y, s=aux, scale=np.exp(eta)).sum())
    if name == "gamma":
        return float(stats.gamma.logpdf(y, a=aux, scale=np.exp(eta) / aux).sum())
    mean = 1 / (1 + np.exp(-eta))
    return float(stats.beta.logpdf(y, mean * aux, (1 - mean) * aux).sum())


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_likelihood_predictor_and_scipy_agree(name):
    """At a draw from the prior: PyMC's log likelihood of the data == SciPy's, with the linear predictor from the NumPy predictor."""
    _, spec, arrays, meta = _setup(name)
    model = build_model(arrays, meta, spec, bs.Priors())
    prior = pm.sample_prior_predictive(draws=1, model=model, random_seed=1).prior
    draws = Draws.from_posterior(prior, meta, family(name).aux)
    eta = linear_predictor(draws, meta, arrays["x"], arrays["team_idx"], arrays["period_idx"])[0]
    aux = None if draws.aux is None else float(draws.aux[0])
    reference = _scipy_loglik(name, eta, aux, arrays["y"], arrays.get("extra"), meta["bounds"])
    pointwise = pm.compute_log_likelihood(az.InferenceData(posterior=prior), model=model, extend_inferencedata=False, progressbar=False)
    loglik = sum(float(pointwise[name].sum()) for name in pointwise.data_vars)
    assert loglik == pytest.approx(reference, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_prob_target_agrees_with_simulation(name):
    """P(outcome meets a target) from the family equals the share of simulated outcomes that meet it (both directions)."""
    fam = family(name)
    rng = np.random.default_rng(0)
    eta = np.full(200_000, {"censored_normal": 7.5, "normal": 7.5, "lognormal": 10.0, "gamma": 4.0}.get(name, -1.5 if fam.link == "logit" else np.log(0.05)))
    aux = {"censored_normal": 2.0, "normal": 1.0, "negative_binomial": 5.0, "lognormal": 0.3, "gamma": 10.0, "beta": 30.0}.get(name)
    extra = {"binomial": 300.0, "poisson": 400.0, "negative_binomial": 400.0}.get(name)
    bounds = (0.0, 10.0) if name == "censored_normal" else None
    simulated = fam.simulate(rng, eta, aux, None if extra is None else np.full(eta.shape, extra), bounds) / (extra or 1.0)
    edges = [-0.5, 0.0, 10.0, 10.5] if bounds else []  # at and beyond the bounds of a censored scale
    for target in [*np.quantile(simulated, [0.2, 0.5, 0.9]), *edges]:
        for direction, meets in (("at_least", simulated >= target), ("at_most", simulated <= target)):
            assert fam.prob_target(eta[:1], aux, float(target), direction, extra, bounds)[0] == pytest.approx(meets.mean(), abs=0.005)


@pytest.mark.parametrize("name", ["poisson", "normal"])
def test_expected_ratio_is_the_rate_ratio_or_linear_in_the_change(name):
    """One slope for every team (varying=()): for a log link the ratio of expected events is exp(slope x change) in every draw;
    for the identity link the change in the expected total is proportional to the change (rows kept below the scale's top)."""
    study = bs.simulate.family_study(name, seed=4, n_regions=3, teams_per_region=4, n_periods=8)
    spec = HierarchicalSpec("outcome", ("habit_index",), 0, family=name, varying=(), **EXTRA.get(name, {}))  # type: ignore[arg-type]
    arrays, meta, _ = prepare_data(study.panel(), spec)
    prior = pm.sample_prior_predictive(draws=25, model=build_model(arrays, meta, spec, bs.Priors()), random_seed=2).prior
    setting = Setting(Draws.from_posterior(prior, meta, family(name).aux), meta, arrays, family(name))
    rows = np.flatnonzero(arrays["x_raw"][:, 0] <= 80)
    slope = setting.draws.effects_std[:, 0] / meta["driver_sd"][0]
    if name == "poisson":
        np.testing.assert_allclose(setting.expected_ratio(rows, 0, 10.0), np.exp(slope * 10), rtol=1e-10)
    else:
        np.testing.assert_allclose(setting.expected_ratio(rows, 0, 20.0) - 1, 2 * (setting.expected_ratio(rows, 0, 10.0) - 1), rtol=1e-9)
    np.testing.assert_allclose(setting.expected_ratio(rows, 0, 0.0), 1.0)


def test_rules_of_each_family_name_rows():
    study = bs.simulate.family_study("normal", seed=1, n_regions=2, teams_per_region=3, n_periods=5)
    with pytest.raises(bs.SpecificationError, match=r"family='bernoulli' needs outcome to be 0 or 1: \d+ row\(s\) are not \(team/period T000/"):
        bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=1, family="bernoulli")
    with pytest.raises(bs.SpecificationError, match="needs trials="):
        bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=1, family="binomial")
    with pytest.raises(bs.SpecificationError, match="exposure= is for family='poisson'"):
        bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=1, exposure="habit_index")
    with pytest.raises(bs.SpecificationError, match="family='gamma_ray'"):
        bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=1, family="gamma_ray")
    with pytest.raises(bs.SpecificationError, match=r"varying=\['relationship'\]"):
        bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=1, varying=["relationship"])
    with pytest.raises(bs.SpecificationError, match="needs a bounded scale"):
        bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=1, family="censored_normal")


def _recovery(name: str, seed: int, **options):
    study = bs.simulate.family_study(name, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=seed, family=name, progress=False, **EXTRA.get(name, {}), **options)
    return study, fit


@pytest.mark.parametrize("name", ["binomial", "poisson"])
def test_recovery_counts(name):
    """The teams' average effect (per +10 habit points, link scale) lies in its 99% interval (misses 1 run in 100), and the fit converges.

    At target_accept 0.95, the most the engine's defaults may need: at the default 0.9 the binomial panel
    gave 1 divergent transition in 8000 draws (the spread of team slopes is tiny here, 0.05 per +10).
    """
    study, fit = _recovery(name, seed=3, credible_level=0.99, target_accept=0.95)
    assert fit.converged, fit.diagnostics.message()
    row = fit.effects("population").iloc[0]
    assert row["hdi_low"] < study.truth["teams_effect"] < row["hdi_high"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_recovery_every_family(name):
    """The truth lies in the 99% interval at the defaults, for both estimands.

    99%, not 90%: one seed per family, nine families, so 90% intervals would miss somewhere in 61% of runs
    (negative_binomial missed by 0.007 on this seed). Calibration at the nominal level is the coverage test below.
    """
    study, fit = _recovery(name, seed=11, credible_level=0.99)
    assert fit.converged, fit.diagnostics.message()
    row = fit.effects("population").iloc[0]
    assert row["hdi_low"] < study.truth["teams_effect"] < row["hdi_high"]
    centre = fit.effects("population", estimand="new_team").iloc[0]
    assert centre["hdi_low"] < study.truth["effect"] < centre["hdi_high"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_coverage_of_every_family_over_100_simulated_datasets(name):
    """90% central intervals of the standardised habit effect cover the truth in 84-96% of 100 datasets drawn from the priors (2 binomial se), ranks uniform.

    Simulation-based calibration on a 4 x 6 x 12 panel of the family: the truth is drawn from the priors, so every
    prior-plausible value is tried, not only the simulator's defaults. The rank test of the effect is one of nine, one
    per family, each with fixed seeds: at 0.01 apiece a calibrated engine would fail one of the nine with probability about 9%, so the
    threshold is 0.01 / 9 (Bonferroni: 1% for the nine together). Measured before the change: bernoulli gave p = 0.0094
    at seed 41, and 0.14 and 0.17 at seeds 42 and 43 (mean rank share 0.44 and 0.50, coverage 92% and 89%).
    """
    study = bs.simulate.family_study(name, seed=41)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bs.calibrate(study.panel(), "outcome", ["habit_index"], family=name, simulations=100, random_seed=41, progress=False, **EXTRA.get(name, {}))
    table = result.summary().set_index("parameter")
    converged = result.ranks.drop_duplicates("simulation")["converged"].mean()
    print(name, f"converged {converged:.2f}", table[["coverage", "p_value"]].to_dict())
    assert converged >= 0.9
    effect = table.loc[[p for p in table.index if p.startswith("effects_std")]]
    assert len(effect) == 1
    assert effect["coverage"].between(0.84, 0.96).all(), effect
    assert (effect["p_value"] >= 0.01 / len(FAMILIES)).all(), result.sentence()  # the effect's ranks uniform (one chi-square test per family, not all ~60)
