"""The PyMC model: team intercepts and habit slopes around regions around the population, period effects, a censored likelihood, revenue."""

from __future__ import annotations

import numpy as np
import pymc as pm

from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.models.hierarchical.results import SCORE_BOUNDS
from bstate_stats.models.hierarchical.spec import (
    HierarchicalSpec,
)


def build_model(arrays: dict[str, np.ndarray], meta: dict, spec: HierarchicalSpec, priors: Priors) -> pm.Model:
    r"""The joint PyMC model.

    Satisfaction, for team i in region r(i) and period t (drivers standardised):

    .. math::
        y_{it} = a_i + b_i x_{it} + \gamma' z_{it} + \delta_t + \varepsilon_{it},\quad
        a_i = a_{r(i)} + \sigma^a_{team} u_i,\; a_r = \mu_a + \sigma^a_{region} v_r

    and likewise :math:`b_i` around :math:`b_r` around :math:`\mu_b` (region
    offsets :math:`v_r` sum to zero, so :math:`\mu_a, \mu_b` are the organisation's
    averages over its regions). Team values are written non-centred, as above, or
    centred (:math:`a_i \sim N(a_{r(i)}, \sigma^a_{team})`), as ``meta["team_effects"]``
    says (see :func:`team_parameterisation`);
    :math:`\delta_t = \sigma_\delta w_t` with :math:`w` a zero-sum standard Normal
    (non-centred: period shocks are often tiny, and the centred form is a funnel).
    ``likelihood="censored"`` censors the Normal at 0 and 10 (scores piled at a
    bound are read as "at least 10"; see :func:`_censored_likelihood`); ``"normal"``
    ignores the bounds. Revenue (when present):
    :math:`\log R_{it} = \rho_i + \lambda 1[y_{it} \ge c] + \omega_t + e_{it}`.
    """
    n_regions = len(meta["regions"])
    coords = {"team": meta["teams"], "region": meta["regions"], "period": meta["periods"], "other": meta["others"], "row": np.arange(len(arrays["y"]))}
    to_std = meta["habit_sd"] / meta["habit_unit"]
    with pm.Model(coords=coords) as model:
        team_idx = pm.Data("team_idx", arrays["team_idx"], dims="row")
        period_idx = pm.Data("period_idx", arrays["period_idx"], dims="row")
        team_region = pm.Data("team_region_idx", arrays["team_region_idx"], dims="team")
        x_habit = pm.Data("x_habit", arrays["x_habit"], dims="row")
        x_other = pm.Data("x_other", arrays["x_other"], dims=("row", "other"))

        mu_a = pm.Normal("intercept", priors.intercept_mu, priors.intercept_sigma)
        mu_b = pm.Normal("habit_effect_std", priors.habit_effect_mu * to_std, priors.habit_effect_sigma * to_std)
        sd_a_team = pm.HalfNormal("team_intercept_sd", priors.team_intercept_sd)
        sd_b_team = pm.HalfNormal("team_habit_sd_std", priors.team_habit_sd * to_std)
        if n_regions > 1:
            sd_a_region = pm.HalfNormal("region_intercept_sd", priors.region_intercept_sd)
            sd_b_region = pm.HalfNormal("region_habit_sd_std", priors.region_habit_sd * to_std)
            # zero-sum region offsets: the population values are the organisation's averages over its regions,
            # which removes the ridge between them and the offsets' mean when regions are few
            a_region = pm.Deterministic("region_intercept", mu_a + sd_a_region * pm.ZeroSumNormal("region_intercept_z", sigma=1.0, dims="region"), dims="region")
            b_region = pm.Deterministic("region_habit_effect_std", mu_b + sd_b_region * pm.ZeroSumNormal("region_habit_z", sigma=1.0, dims="region"), dims="region")
        else:
            a_region = pm.Deterministic("region_intercept", mu_a + pm.math.zeros(1), dims="region")
            b_region = pm.Deterministic("region_habit_effect_std", mu_b + pm.math.zeros(1), dims="region")
        a_team = _team_effect("team_intercept", a_region[team_region], sd_a_team, meta["team_effects"]["intercept"])
        b_team = _team_effect("team_habit_effect_std", b_region[team_region], sd_b_team, meta["team_effects"]["habit"])
        other_sigma = np.array([priors.other_effect_sigma * meta["other_scale"][c][1] / meta["other_units"][c] for c in meta["others"]])
        gamma = pm.Normal("other_effects_std", 0.0, other_sigma if len(other_sigma) else 1.0, dims="other")
        sd_period = pm.HalfNormal("period_sd", priors.period_sd)
        delta = pm.Deterministic("period_effect", sd_period * pm.ZeroSumNormal("period_effect_z", sigma=1.0, dims="period"), dims="period")
        sigma = pm.HalfNormal("sigma", priors.noise_sd)

        unit = meta["habit_unit"] / meta["habit_sd"]
        pm.Deterministic("habit_effect", mu_b * unit)
        pm.Deterministic("region_habit_effect", b_region * unit, dims="region")
        pm.Deterministic("team_habit_effect", b_team * unit, dims="team")
        pm.Deterministic("other_effects", gamma * np.array([meta["other_units"][c] / meta["other_scale"][c][1] for c in meta["others"]]) if meta["others"] else gamma, dims="other")

        mu = a_team[team_idx] + b_team[team_idx] * x_habit + pm.math.dot(x_other, gamma) + delta[period_idx]
        if spec.likelihood == "censored":
            _censored_likelihood(model, mu, sigma, arrays["y"])
        else:
            pm.Normal("y", mu, sigma, observed=arrays["y"], dims="row")

        if "revenue" in arrays:
            rows = arrays["revenue_rows"]
            log_revenue = np.log(arrays["revenue"][rows])
            above = (arrays["y"][rows] >= spec.threshold).astype(float)
            model.add_coord("revenue_row", rows)
            pm.Data("revenue_row_idx", rows, dims="revenue_row")
            pm.Data("revenue_observed", arrays["revenue"], dims="row")
            rho_mu = pm.Normal("revenue_intercept", float(log_revenue.mean()), 2.0 * float(log_revenue.std()) + 1.0)
            rho_sd = pm.HalfNormal("revenue_team_sd", priors.revenue_team_sd)
            # centred: each team's revenue level is pinned down by its own periods (log revenue is far less noisy
            # than satisfaction), and with data that informative the non-centred form mixes worse
            rho = pm.Normal("revenue_team", rho_mu, rho_sd, dims="team")
            lam = pm.Normal("revenue_log_lift", 0.0, priors.revenue_lift_sigma)
            pm.Deterministic("revenue_lift", pm.math.exp(lam) - 1)
            omega_sd = pm.HalfNormal("revenue_period_sd", 0.3)
            omega = pm.Deterministic("revenue_period_effect", omega_sd * pm.ZeroSumNormal("revenue_period_effect_z", sigma=1.0, dims="period"), dims="period")
            sd_r = pm.HalfNormal("revenue_sigma", priors.revenue_noise_sd)
            pm.Normal("log_revenue", rho[arrays["team_idx"][rows]] + lam * above + omega[arrays["period_idx"][rows]], sd_r, observed=log_revenue, dims="revenue_row")
    return model


def _censored_likelihood(model: pm.Model, mu, sigma, y: np.ndarray) -> None:
    """Normal censored at the score bounds, split by row: the same likelihood as ``pm.Censored`` on every row.

    Scores strictly inside the scale contribute the Normal density (``y``,
    dims ``row_inside``); scores at 0 or 10 the probability of lying at or
    beyond the bound (``y_at_bound``). ``pm.Censored`` evaluates both CDF
    terms on every row, which makes the gradient about three times as
    costly when, as usual, few scores sit at a bound.
    """
    low, high = SCORE_BOUNDS
    inside = np.flatnonzero((y > low) & (y < high))
    at_bound = np.flatnonzero((y <= low) | (y >= high))
    model.add_coord("row_inside", inside)
    pm.Normal("y", mu[inside], sigma, observed=y[inside], dims="row_inside")
    if len(at_bound):
        model.add_coord("row_at_bound", at_bound)
        pm.Censored("y_at_bound", pm.Normal.dist(mu[at_bound], sigma), lower=low, upper=high, observed=y[at_bound], dims="row_at_bound")


def _team_effect(name: str, centre, spread, parameterisation: str):
    """Team values around their region's value, in the chosen parameterisation (inside a model context)."""
    if parameterisation == "centred":
        return pm.Normal(name, centre, spread, dims="team")
    return pm.Deterministic(name, centre + spread * pm.Normal(f"{name}_z", 0, 1, dims="team"), dims="team")
