"""Bayesian hierarchical model of satisfaction (teams nested in regions) and revenue, in PyMC.

Specification (this module) is separate from the results API
(:mod:`bstate_stats.results.hierarchical`), which reads only the
InferenceData, so a saved posterior reloads into the same results object.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from dataclasses import asdict, dataclass
from dataclasses import replace as dataclasses_replace
from typing import Literal, Mapping, Sequence, get_args

import numpy as np
import pandas as pd
import pymc as pm

from bstate_stats.errors import EstimationWarning, SpecificationError
from bstate_stats.io.provenance import package_versions
from bstate_stats.models.priors import Priors
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.panel.panel import Panel
from bstate_stats.results.hierarchical import SCORE_BOUNDS, HierarchicalResults

Sampler = Literal["nutpie", "pymc", "numpyro"]
Likelihood = Literal["censored", "normal"]
Parameterisation = Literal["auto", "centred", "non-centred"]
LARGE_PANEL_ROWS = 10_000
MEASURED_LARGE_PANEL = (12_000, 11.2, 211.9)  # rows, set-up s, sampling s (nutpie, 2 cores; benchmarks/bench_samplers.py)


@dataclass(frozen=True)
class HierarchicalSpec:
    """What a call to :func:`hierarchical` asked for (stored in the posterior's attrs)."""

    outcome: str
    drivers: tuple[str, ...]
    random_seed: int
    sampler: Sampler = "nutpie"
    chains: int = 4
    draws: int = 1500
    tune: int = 1000
    target_accept: float = 0.98
    likelihood: Likelihood = "censored"
    threshold: float = 8.0
    revenue: str | None = "revenue"
    credible_level: float = 0.9
    team_effects: Parameterisation = "auto"

    def __post_init__(self) -> None:
        if self.sampler not in get_args(Sampler):
            raise SpecificationError(f"sampler={self.sampler!r}; choose one of {get_args(Sampler)}")
        if self.likelihood not in get_args(Likelihood):
            raise SpecificationError(f"likelihood={self.likelihood!r}; choose one of {get_args(Likelihood)}")
        if self.team_effects not in get_args(Parameterisation):
            raise SpecificationError(f"team_effects={self.team_effects!r}; choose one of {get_args(Parameterisation)}")
        for name in ("chains", "draws", "tune", "random_seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise SpecificationError(f"{name}={value!r}; a whole number is needed")
        if self.random_seed < 0:
            raise SpecificationError(f"random_seed={self.random_seed}; a seed is a whole number, 0 or more")
        if self.chains < 2:
            raise SpecificationError("chains must be at least 2: R-hat needs several chains")
        if self.draws < 1 or self.tune < 0:
            raise SpecificationError("draws must be positive and tune non-negative")
        if not 0 < self.target_accept < 1:
            raise SpecificationError(f"target_accept={self.target_accept}; must lie strictly between 0 and 1 (0.8-0.99 in practice)")
        if not 0 < self.credible_level < 1:
            raise SpecificationError("credible_level must lie strictly between 0 and 1")


def _standardise(values: pd.Series, name: str) -> tuple[np.ndarray, float, float]:
    mean, sd = float(values.mean()), float(values.std(ddof=0))
    if not np.isfinite(sd) or sd == 0:
        raise SpecificationError(f"driver {name!r} has no variation in the estimation sample: its effect is not identified")
    return ((values - mean) / sd).to_numpy(dtype=float), mean, sd


def _unit(panel: Panel, column: str) -> float:
    """Effects are reported per +10 points for 0-100 indices, per +1 otherwise."""
    return 10.0 if panel.scales.get(column) == "percent_0_100" else 1.0


def prepare_data(panel: Panel, spec: HierarchicalSpec) -> tuple[dict[str, np.ndarray], dict, ExclusionLedger]:
    """Arrays for the model (``constant_data``), metadata for the attrs, and the ledger of excluded rows."""
    extra = ["region"] if panel.has_regions else []
    frame = panel.model_frame(spec.outcome, spec.drivers, extra=extra)
    data, ledger = frame.data, frame.ledger
    if data.empty:
        raise SpecificationError(f"no rows have {spec.outcome} and all of {list(spec.drivers)}:\n{ledger}")
    team = data.index.get_level_values("team")
    teams = pd.Index(team.unique()).sort_values()
    regions = pd.Index(data["region"].unique()).sort_values() if extra else pd.Index(["all"])
    team_region = data.groupby(level="team")["region"].first().reindex(teams) if extra else pd.Series("all", index=teams)
    t = data.index.get_level_values("t").to_numpy()
    periods = np.unique(t)
    y = data[spec.outcome].to_numpy(dtype=float)
    if np.nanstd(y) == 0:
        raise SpecificationError(f"{spec.outcome} is constant ({y[0]:g}) in every row: there is nothing to explain")
    habit, *others = list(frame.drivers)
    x_habit, habit_mean, habit_sd = _standardise(data[habit], habit)
    other_std, other_scale = [], {}
    for column in others:
        values, mean, sd = _standardise(data[column], column)
        other_std.append(values)
        other_scale[column] = (mean, sd)
    arrays = {
        "y": y,
        "team_idx": teams.get_indexer(team),
        "period_idx": np.searchsorted(periods, t),
        "team_region_idx": regions.get_indexer(team_region.to_numpy()),
        "x_habit": x_habit,
        "x_other": np.column_stack(other_std) if other_std else np.zeros((len(y), 0)),
        "habit_raw": data[habit].to_numpy(dtype=float),
    }
    meta = {
        "outcome": spec.outcome,
        "habit": habit,
        "others": others,
        "habit_mean": habit_mean,
        "habit_sd": habit_sd,
        "habit_unit": _unit(panel, habit.split("_lag")[0]),
        "other_scale": other_scale,
        "other_units": {c: _unit(panel, c) for c in others},
        "teams": [str(x) for x in teams],
        "regions": [str(x) for x in regions],
        "periods": [str(panel.period_label(int(p))) for p in periods],
        "periods_per_year": panel.period_format.periods_per_year,
        "habit_scale_max": 100.0 if panel.scales.get(habit) == "percent_0_100" else None,
    }
    if spec.revenue is not None and spec.revenue in panel.data:
        revenue = _aligned(panel, data, spec.revenue)
        usable = np.isfinite(revenue) & (revenue > 0)
        ledger_revenue = ExclusionLedger(len(y))
        ledger_revenue.exclude(f"missing or zero {spec.revenue} (revenue part of the model only)", data.index[~usable])
        arrays["revenue"] = np.where(usable, revenue, np.nan)
        arrays["revenue_rows"] = np.flatnonzero(usable)
        meta["revenue_excluded"] = ledger_revenue.n_excluded
    meta["team_effects"] = team_parameterisation(arrays, spec.team_effects)
    return arrays, meta, ledger


def team_parameterisation(arrays: dict[str, np.ndarray], requested: Parameterisation = "auto") -> dict[str, str]:
    """Centred or non-centred team intercepts and habit slopes.

    The non-centred form suits teams whose own periods say little (the prior
    spread dominates); the centred form suits teams whose periods pin their
    level down, where the non-centred form couples every team's offset to
    the spread and NUTS crawls along that ridge. ``"auto"`` decides each of the
    two effects from a least-squares pilot (:func:`_team_pilot`): each team's
    standard error and, by the method of moments, the spread of teams around
    their region; the effect is centred when the median standard error is
    below that spread. Measured (``benchmarks/bench_samplers.py``, 500 teams x
    24 periods): centred intercepts took nutpie from 819 s and a minimum ESS
    of 39 to 223 s and 355 (with the split censored likelihood).

    Returns
    -------
    dict
        ``{"intercept": ..., "habit": ...}``, each ``"centred"`` or ``"non-centred"``.
    """
    if requested != "auto":
        return {"intercept": requested, "habit": requested}
    pilot = _team_pilot(arrays)
    if pilot is None:
        return {"intercept": "non-centred", "habit": "non-centred"}
    return {name: "centred" if np.median(se) < spread else "non-centred" for name, (se, spread) in pilot.items()}


def _team_pilot(arrays: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, float]] | None:
    """Per-team standard errors and between-team spread of intercept and habit slope (None when too few teams).

    A two-way within regression (common habit slope, other drivers, period
    effects) gives the residual noise and what the common parts explain.
    Intercepts: each team's mean of what is left, standard error
    sigma / sqrt(rows). Slopes: each team's own least-squares slope on what
    is left. Spreads are around region means, less the mean squared error.
    """
    team, x = arrays["team_idx"], arrays["x_habit"]
    periods = np.eye(int(arrays["period_idx"].max()) + 1)[arrays["period_idx"]][:, 1:]
    design = np.column_stack([x, arrays["x_other"], periods])

    def team_mean(values: np.ndarray) -> np.ndarray:
        return pd.DataFrame(values).groupby(team).transform("mean").to_numpy()

    within_design, within_y = design - team_mean(design), arrays["y"] - team_mean(arrays["y"][:, None]).ravel()
    coef = np.linalg.lstsq(within_design, within_y, rcond=None)[0]
    residual = within_y - within_design @ coef
    dof = len(residual) - len(np.unique(team)) - len(coef)
    if dof <= 0:
        return None
    sigma = np.sqrt(residual @ residual / dof)
    left = arrays["y"] - design[:, 1:] @ coef[1:]
    frame = pd.DataFrame({"team": team, "x": x, "level": left - coef[0] * x, "left": left})
    rows = frame.groupby("team").size()
    level = frame.groupby("team")["level"].mean()
    slopes = frame.groupby("team").apply(lambda g: g["x"].cov(g["left"]) / g["x"].var() if len(g) >= 3 and g["x"].var() > 0 else np.nan, include_groups=False)
    slope_se = sigma / np.sqrt(frame.groupby("team")["x"].var() * (rows - 1))
    region = pd.Series(arrays["team_region_idx"][level.index.to_numpy()], index=level.index)
    out = {}
    for name, estimate, se in (("intercept", level, sigma / np.sqrt(rows)), ("habit", slopes, slope_se)):
        usable = estimate.notna() & np.isfinite(se)
        if usable.sum() - region[usable].nunique() < 2:
            return None
        deviation = estimate[usable] - estimate[usable].groupby(region[usable]).transform("mean")
        between = float((deviation**2).sum() / (usable.sum() - region[usable].nunique()))
        out[name] = (se[usable].to_numpy(), float(np.sqrt(max(between - float((se[usable] ** 2).mean()), 0.0))))
    return out


def _aligned(panel: Panel, data: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` of the panel for the model rows (matched on team and grid position)."""
    source = panel.data.reset_index()[["team", "t", column]].set_index(["team", "t"])[column]
    return source.reindex(data.index).to_numpy(dtype=float)


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


def _data_hash(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for key in sorted(arrays):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return f"sha256:{digest.hexdigest()}"


def _versions() -> dict[str, str]:
    return package_versions(("bstate_stats", "pymc", "pytensor", "arviz", "numpy", "pandas", "nutpie"))


def sample(model: pm.Model, spec: HierarchicalSpec, *, progress: bool = True):
    """Draw from the posterior with the chosen NUTS implementation (seeded), then the log-likelihood."""
    if spec.sampler == "numpyro":
        try:
            import numpyro  # noqa: F401
        except ImportError as exc:
            raise SpecificationError("sampler='numpyro' needs jax and numpyro installed (pip install numpyro)") from exc
    if spec.sampler == "nutpie":
        try:
            import nutpie  # noqa: F401
        except ImportError as exc:
            raise SpecificationError("sampler='nutpie' needs nutpie (pip install 'bstate_stats[fast]'), or use sampler='pymc'") from exc
    with model:
        idata = pm.sample(
            draws=spec.draws,
            tune=spec.tune,
            chains=spec.chains,
            cores=min(spec.chains, os.cpu_count() or 1),
            target_accept=spec.target_accept,
            random_seed=spec.random_seed,
            nuts_sampler=spec.sampler,
            progressbar=progress,
            idata_kwargs={"log_likelihood": False},
        )
    return idata


def hierarchical(
    panel: Panel,
    outcome: str = "csat",
    drivers: Sequence[str] = ("habit_index",),
    *,
    random_seed: int,
    sampler: Sampler = HierarchicalSpec.sampler,
    chains: int = HierarchicalSpec.chains,
    draws: int = HierarchicalSpec.draws,
    tune: int = HierarchicalSpec.tune,
    target_accept: float = HierarchicalSpec.target_accept,
    priors: Priors | Mapping[str, float] | None = None,
    likelihood: Likelihood = HierarchicalSpec.likelihood,
    threshold: float = HierarchicalSpec.threshold,
    revenue: str | None = "revenue",
    credible_level: float = HierarchicalSpec.credible_level,
    team_effects: Parameterisation = HierarchicalSpec.team_effects,
    progress: bool = True,
):
    r"""Fit the Bayesian hierarchical model and check its convergence.

    Parameters
    ----------
    panel
        A validated panel (teams nested in regions; without regions the
        region level is dropped).
    outcome, drivers
        Satisfaction column and drivers; the first driver is the habit
        index, whose effect varies by region and team; the others have common effects.
    random_seed
        Seed of the sampler (required: the same seed gives the same draws).
    sampler
        ``"nutpie"`` (default: best effective samples per second here, see
        ``benchmarks/bench_samplers.py``), ``"pymc"`` or ``"numpyro"``.
    chains, draws, tune, target_accept
        NUTS settings. Defaults (4 x 1500 draws, target_accept 0.98) were
        measured on the default case study: at 1000 draws and 0.9 seeds 1-3
        each failed a check (1-6 divergences, R-hat up to 1.012, min ESS
        down to 393); at these settings all three pass (min bulk ESS
        740-948, max R-hat <= 1.0081, 31-42 s with nutpie on 2 cores).
    priors
        :class:`~bstate_stats.models.priors.Priors` or overrides by name,
        stated on the satisfaction scale per +10 index points.
    likelihood
        ``"censored"`` (default) or ``"normal"``. Satisfaction is bounded at 0
        and 10 and programmes push teams towards the top: a Normal likelihood
        treats a 10 as an exact value and flattens the habit slope, while the
        censored Normal reads it as "10 or more" and equals the Normal
        wherever no score sits at a bound (so it costs nothing when bounds are
        not reached). Measured (``benchmarks/compare_likelihoods.py``): on the
        default case study (no score at 10) both give 1.007 per +10 points
        and the same LOO; with 9.3% of scores at 10 the Normal gives 0.941
        (truth 1.0) and replicates 6.4% of scores at 10, the censored model
        1.002 and 9.8%. PSIS-LOO over the interior rows slightly prefers the
        Normal (elpd -89.9 vs -93.7), which is blind to the bound by
        construction, so the posterior predictive check and the recovery of
        the effect decide.
    threshold
        Satisfaction threshold for the revenue model and the estimands (default 8.0).
    revenue
        Revenue column for the joint revenue model, or None.
    credible_level
        Width of the reported credible intervals (default 0.9).
    team_effects
        ``"auto"`` (default), ``"centred"`` or ``"non-centred"`` team
        intercepts and habit slopes; same model, different geometry for the
        sampler. ``"auto"`` picks each from the data (see
        :func:`team_parameterisation`); the choice is in ``result.meta``.

    Returns
    -------
    HierarchicalResults

    Notes
    -----
    Estimands are within-panel associations: the habit effect is how a team's
    satisfaction moves with its own habit index, pooled across teams and
    regions. Causal readings need the same assumptions as the fixed-effects
    model (no time-varying confounding of habit changes).

    Every fit is checked (R-hat <= 1.01, bulk and tail ESS >= 400, no
    divergences, BFMI >= 0.3); a failing fit warns with the parameters at fault
    and ``result.converged`` is False.
    """
    from bstate_stats.diagnostics.convergence import check_convergence

    drivers = (drivers,) if isinstance(drivers, str) else tuple(drivers)
    if not drivers:
        raise SpecificationError("at least one driver (the habit index) is needed")
    spec = HierarchicalSpec(outcome, drivers, random_seed, sampler, chains, draws, tune, target_accept, likelihood, threshold, revenue if revenue in panel.data else None, credible_level, team_effects)
    priors = Priors.from_mapping(priors)
    arrays, meta, ledger = prepare_data(panel, spec)
    _warn_about_shape(arrays, meta)
    model = build_model(arrays, meta, spec, priors)
    start = time.perf_counter()
    idata = sample(model, spec, progress=progress)
    meta["sampling_seconds"] = time.perf_counter() - start
    _store_arrays(idata, arrays)
    idata.attrs.update(
        {
            "bstate_spec": json.dumps(asdict(spec)),
            "bstate_priors": json.dumps(asdict(priors)),
            "bstate_meta": json.dumps(meta, default=str),
            "bstate_ledger": json.dumps(ledger.to_dict()),
            "bstate_data_hash": _data_hash(arrays),
            "bstate_versions": json.dumps(_versions()),
        }
    )
    diagnostics = check_convergence(idata)
    return HierarchicalResults(idata, spec, priors, meta, ledger, diagnostics, model=model)


def _store_arrays(idata, arrays: dict[str, np.ndarray]) -> None:
    """Keep every array the estimands need in ``constant_data``, so a saved posterior is self-contained."""
    import xarray as xr

    extra = {name: xr.DataArray(arrays[source], dims=["row"]) for name, source in (("score", "y"), ("habit_raw", "habit_raw"), ("revenue", "revenue")) if source in arrays}
    idata.constant_data = idata.constant_data.assign(extra)


def _warn_about_shape(arrays: dict[str, np.ndarray], meta: dict) -> None:
    n_rows = len(arrays["y"])
    per_team = np.bincount(arrays["team_idx"])
    teams_per_region = np.bincount(arrays["team_region_idx"])
    if (per_team == 1).any():
        warnings.warn(f"{int((per_team == 1).sum())} team(s) have a single period: their slopes come from the region (partial pooling), not their own data", EstimationWarning, stacklevel=3)
    if len(meta["regions"]) > 1 and (teams_per_region == 1).any():
        lonely = [meta["regions"][k] for k in np.flatnonzero(teams_per_region == 1)]
        warnings.warn(f"region(s) {lonely} have a single team: region and team effects are not separable there (the prior decides)", EstimationWarning, stacklevel=3)
    if n_rows > LARGE_PANEL_ROWS:
        rows, setup, sampling = MEASURED_LARGE_PANEL
        scale = n_rows / rows
        warnings.warn(
            f"{n_rows} rows: expect roughly {setup * scale:.0f} s of set-up before sampling starts and {sampling * scale / 60:.0f} min of sampling with nutpie on 2 cores "
            f"(measured: {rows} rows took {setup:.0f} s, then {sampling / 60:.1f} min; time grows about in proportion to rows)",
            EstimationWarning,
            stacklevel=3,
        )


def prior_predictive_check(
    panel: Panel,
    outcome: str = "csat",
    drivers: Sequence[str] = ("habit_index",),
    *,
    priors: Priors | Mapping[str, float] | None = None,
    samples: int = 500,
    random_seed: int = 0,
) -> pd.DataFrame:
    """Simulate scores from the priors alone and summarise what they imply.

    Returns one row per quantity: share of simulated scores inside 0-10
    before censoring, the 5%/50%/95% quantiles of simulated scores, of the
    population habit effect (points per +10) and of P(score >= threshold).
    Sensible priors put most simulated scores inside the scale and allow,
    without forcing, effects of a point or two per +10 habit points.
    """
    spec = HierarchicalSpec(outcome, tuple(drivers), random_seed, revenue=None)
    arrays, meta, _ = prepare_data(panel, spec)
    model = build_model(arrays, meta, dataclasses_replace(spec, likelihood="normal"), Priors.from_mapping(priors))
    with model:
        prior = pm.sample_prior_predictive(draws=samples, random_seed=random_seed).prior_predictive
        effects = pm.sample_prior_predictive(draws=samples, random_seed=random_seed, var_names=["habit_effect"]).prior["habit_effect"].to_numpy().ravel()
    scores = prior["y"].to_numpy().reshape(samples, -1)
    above = (scores >= spec.threshold).mean(axis=1)
    rows = [
        {"quantity": "share of simulated scores within 0-10", "q05": np.nan, "q50": float(np.mean((scores >= 0) & (scores <= 10))), "q95": np.nan},
        {"quantity": "simulated score", **dict(zip(("q05", "q50", "q95"), np.quantile(scores, [0.05, 0.5, 0.95])))},
        {"quantity": f"habit effect (per +{meta['habit_unit']:g})", **dict(zip(("q05", "q50", "q95"), np.quantile(effects, [0.05, 0.5, 0.95])))},
        {"quantity": f"share of rows >= {spec.threshold:g}", **dict(zip(("q05", "q50", "q95"), np.quantile(above, [0.05, 0.5, 0.95])))},
    ]
    return pd.DataFrame(rows)
