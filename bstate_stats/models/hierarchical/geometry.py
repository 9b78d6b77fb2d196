"""Centred or non-centred team effects: the same model, the geometry the sampler finds easier, chosen from a least-squares pilot."""

from __future__ import annotations

import numpy as np
import pandas as pd

CLEARLY = 2.0  # intercepts, region and period effects are centred only when the units' standard errors are below the spread / CLEARLY
TAIL_SDS = 4.0  # ... the spread taken at the low end of what the pilot's estimate allows: TAIL_SDS of its standard errors below it


def plausible_low(spread: float, n_units: int) -> float:
    """The low end of the spread the sampler will visit: ``spread`` less TAIL_SDS standard errors of a spread estimated from ``n_units``.

    The sd of an estimated spread is about spread / sqrt(2 (n - 1)). With 20-24
    teams the posterior of the spread reaches far below the pilot's estimate, into
    the funnel where centred effects diverge: centred team intercepts gave one or two
    divergent transitions in 8000 draws on 2 of 20 unbalanced 4 x 5 x 12 panels
    (pilot ratio 2.9 and 3.0) and on 1 of 6 binomial 4 x 6 x 12 panels (ratio 4.5);
    non-centred ones converged on all three and on 12 of 12 benchmark panels. With
    496 teams (ratio 5.0) the low end is 87% of the estimate and centred stays the choice.

    Parameters
    ----------
    spread
        The pilot's estimate of the spread between units.
    n_units
        Units it was estimated from.

    Returns
    -------
    float
    """
    return spread * max(0.0, 1.0 - TAIL_SDS / np.sqrt(2.0 * max(n_units - 1, 1)))


def team_parameterisation(arrays: dict[str, np.ndarray], working: np.ndarray, meta: dict, requested: str = "auto", *, weight: np.ndarray | None = None) -> dict[str, str]:
    """Centred or non-centred team intercepts and varying slopes, and the same for the region offsets when regions are pooled.

    The non-centred form suits units whose own data say little (the prior spread dominates); the centred form suits
    units whose data pin their values down, where the non-centred form couples every offset to the spread and NUTS
    crawls along that ridge. ``"auto"`` decides each effect from a least-squares pilot on the outcome's working scale
    (:func:`team_pilot`): team intercepts are centred when the median standard error of the teams' own estimates is
    below half the low end of the spread between teams, as :func:`plausible_low` gives it, team slopes when it is
    below the low end itself (centred slopes converged on 45
    of 52 Poisson panels with standard error / spread 0.15-0.8; non-centred ones failed on 9 of 33 below 0.35);
    region offsets are judged on the spread itself (the pilot's spread is noisy: for 24 teams with 12 binary outcomes
    each it read 0.67 where the truth was 0.3, and the centred form then failed its checks). Teams: their own periods;
    regions: the mean of their teams. A spread of slopes between regions that
    the pilot cannot tell from zero is ``"omitted"``: team slopes then vary
    around the organisation's directly (they absorb what regions differ by),
    because a spread the data cannot identify is a funnel no parameterisation
    samples well. Measured (``benchmarks/bench_engine.py``, 500 teams x 24
    periods in 8 regions): centred team intercepts took nutpie from a minimum
    ESS of 39 to 355; with the region slope spread kept (non-centred or
    centred) the fit failed its checks (minimum ESS 196, or R-hat 1.02).

    Parameters
    ----------
    arrays
        Model arrays (``x``, ``team_idx``, ``period_idx``, ``team_region_idx``).
    working
        The outcome on the link scale.
    meta
        Model metadata (``varying``, ``varying_idx``).
    requested
        ``"auto"``, ``"centred"`` or ``"non-centred"``.
    weight
        Each row's information about its working value (:meth:`Family.working_weight`); None: rows weigh alike.

    Returns
    -------
    dict
        ``{"intercept": ..., <varying driver>: ..., "region intercept": ..., "region <driver>": ...}``,
        each ``"centred"`` or ``"non-centred"`` (region entries only with partial pooling;
        a region slope may be ``"omitted"``).
    """
    names = ["intercept", *meta["varying"]]
    pooled = meta.get("region_effects") == "partial_pooling"
    all_names = names + ([f"region {n}" for n in names] if pooled else [])
    if requested != "auto":
        return dict.fromkeys(all_names, requested)
    pilot = team_pilot(arrays, working, meta["varying_idx"], weight)
    if pilot is None:
        return dict.fromkeys(all_names, "non-centred")
    choice = {}
    for name, (estimate, se) in zip(names, pilot):
        team_se, team_spread = _spread(estimate, se, arrays["team_region_idx"])
        margin = CLEARLY if name == "intercept" else 1.0
        choice[name] = "centred" if np.median(team_se) < plausible_low(team_spread, len(team_se)) / margin else "non-centred"
        if pooled:
            region_se, region_spread = _region_spread(estimate, arrays["team_region_idx"])
            identified = np.median(region_se) < region_spread / CLEARLY
            choice[f"region {name}"] = "centred" if identified else ("non-centred" if name == "intercept" else "omitted")
    return choice


def within_fit(arrays: dict[str, np.ndarray], working: np.ndarray, weight: np.ndarray | None = None) -> tuple[np.ndarray, float, np.ndarray] | None:
    """Within-team (weighted) least squares of the working outcome on the drivers and period dummies (None without residual degrees of freedom).

    Parameters
    ----------
    arrays
        Model arrays.
    working
        The outcome on the link scale.
    weight
        Rows' relative information (None: equal).

    Returns
    -------
    tuple or None
        Coefficients (drivers, then periods after the first), residual sd of a
        row of unit weight, and what the common parts leave of the outcome.
    """
    team, x = arrays["team_idx"], arrays["x"]
    w = np.ones(len(working)) if weight is None else np.asarray(weight, dtype=float)
    periods = np.eye(int(arrays["period_idx"].max()) + 1)[arrays["period_idx"]][:, 1:]
    design = np.column_stack([x, periods])
    within_design, within_y = design - _team_means(design, team, w), working - _team_means(working[:, None], team, w)[:, 0]
    root = np.sqrt(w)
    coef = np.linalg.lstsq(within_design * root[:, None], within_y * root, rcond=None)[0]
    residual = within_y - within_design @ coef
    dof = len(residual) - len(np.unique(team)) - len(coef)
    if dof <= 0:
        return None
    return coef, float(np.sqrt(w @ residual**2 / dof)), working - design @ coef


def _by_team(values: np.ndarray, team: np.ndarray, weight: np.ndarray, n_teams: int) -> np.ndarray:
    """Each team's weighted mean of every column of ``values`` (teams x columns; 0 for a team without rows)."""
    total = np.bincount(team, weight, n_teams)
    means = np.zeros((n_teams, values.shape[1]))
    for k in range(values.shape[1]):
        means[:, k] = np.bincount(team, weight * values[:, k], n_teams)
    return means / np.maximum(total, 1e-300)[:, None]


def _team_means(values: np.ndarray, team: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Each row's team's weighted mean of every column of ``values`` (rows x columns)."""
    return _by_team(values, team, weight, int(team.max()) + 1)[team]


def team_pilot(arrays: dict[str, np.ndarray], working: np.ndarray, varying_idx: list[int], weight: np.ndarray | None = None) -> list[tuple[pd.Series, pd.Series]] | None:
    """Per-team estimates and standard errors of the intercept and each varying slope (None when too few teams).

    One weighted least-squares fit of the working outcome on team intercepts,
    team slopes on the varying drivers, the other drivers and period effects
    (:class:`TeamFit` projects the team part out). The residual noise is read
    after the teams' own slopes, and rows weigh by their information
    (``weight``), as in the likelihood. Both matter on count outcomes: on
    Poisson panels with hundreds of events a row and a spread of slopes of
    0.2-0.6 on the log scale, a pilot that was unweighted and fitted one common
    slope (its noise then holding the teams' differences in slope) chose
    non-centred slopes, which failed their checks. Intercepts: each team's
    level at drivers of 0, read along its slopes as partial pooling will
    shrink them (:func:`_shrunk_slopes`), standard error
    sqrt(sigma^2 / the team's total weight + what the slopes add).

    Parameters
    ----------
    arrays
        Model arrays.
    working
        The outcome on the link scale.
    varying_idx
        Columns of ``arrays["x"]`` whose slopes vary.
    weight
        Rows' relative information (None: equal).

    Returns
    -------
    list of (pandas.Series, pandas.Series) or None
        Estimates and standard errors by team, intercept first.
    """
    team, x = arrays["team_idx"], arrays["x"]
    w = np.ones(len(working)) if weight is None else np.asarray(weight, dtype=float)
    common = [j for j in range(x.shape[1]) if j not in varying_idx]
    design = np.column_stack([x[:, common], np.eye(int(arrays["period_idx"].max()) + 1)[arrays["period_idx"]][:, 1:]])
    teams = TeamFit(x[:, varying_idx], team, w)
    design_left, y_left = teams.residuals(design), teams.residuals(working[:, None])[:, 0]
    root = np.sqrt(w)
    coef = np.linalg.lstsq(design_left * root[:, None], y_left * root, rcond=None)[0]
    residual = y_left - design_left @ coef
    dof = len(working) - teams.n_parameters - design.shape[1]
    if dof <= 0:
        return None
    sigma = float(np.sqrt(w @ residual**2 / dof))
    left = working - design @ coef
    slopes = teams.slopes(left[:, None])[:, :, 0]
    seen = np.flatnonzero(teams.total > 0)
    slope_estimates = [(pd.Series(slopes[seen, k], index=seen), pd.Series(sigma * np.sqrt(teams.inverse[seen, k, k]), index=seen)) for k in range(len(varying_idx))]
    level, level_variance = teams.levels(left, *_shrunk_slopes(slope_estimates, arrays["team_region_idx"], len(teams.total)))
    estimates = [(pd.Series(level[seen], index=seen), pd.Series(np.sqrt(sigma**2 / teams.total[seen] + level_variance[seen]), index=seen)), *slope_estimates]
    return estimates if _enough(estimates, arrays) else None


def _shrunk_slopes(slope_estimates: list[tuple[pd.Series, pd.Series]], team_region: np.ndarray, n_teams: int) -> tuple[np.ndarray, np.ndarray]:
    """Teams' slopes pulled towards their average as far as the spread between teams allows, and their variances.

    The empirical-Bayes rule: a slope estimated with standard error ``se``
    among slopes that spread by ``tau`` keeps ``tau^2 / (tau^2 + se^2)`` of its
    distance from the average, with that share of ``se^2`` as variance. A team
    without its own slope takes the average, with no variance. This is how far the model's partial
    pooling will let a team's slope move, and so how far its intercept (its level at drivers of 0) is
    uncertain for want of its own slope.
    """
    slopes, variances = np.zeros((n_teams, len(slope_estimates))), np.zeros((n_teams, len(slope_estimates)))
    for k, (estimate, se) in enumerate(slope_estimates):
        usable = estimate.notna() & np.isfinite(se)
        if not usable.any():
            continue
        _, tau = _spread(estimate, se, team_region)
        variance = np.maximum(se[usable] ** 2, 1e-300)  # a noiseless fit (se 0) keeps its own slopes, not NaN
        keep = tau**2 / (tau**2 + variance)
        average = float(np.average(estimate[usable], weights=1.0 / variance))
        slopes[:, k] = average
        slopes[estimate.index[usable], k] = average + keep * (estimate[usable] - average)
        variances[estimate.index[usable], k] = keep * variance
    return slopes, variances


class TeamFit:
    """Each team's own weighted least-squares intercept and slopes on the varying drivers, for any number of responses at once.

    A team's slopes are fitted when it has at least V + 2 rows and its drivers
    vary (its cross-product matrix is invertible); otherwise the team has its
    intercept only.

    Parameters
    ----------
    x
        The varying drivers (rows x V).
    team
        Dense team codes.
    weight
        Rows' relative information.
    """

    def __init__(self, x: np.ndarray, team: np.ndarray, weight: np.ndarray) -> None:
        self.team, self.weight = team, weight
        n_teams, n_varying = int(team.max()) + 1, x.shape[1]
        self.total = np.bincount(team, weight, n_teams)
        self.x_mean = _by_team(x, team, weight, n_teams)
        self.x_within = x - self.x_mean[team]
        self.cross = np.zeros((n_teams, n_varying, n_varying))
        for a in range(n_varying):
            for b in range(n_varying):
                self.cross[:, a, b] = np.bincount(team, weight * self.x_within[:, a] * self.x_within[:, b], n_teams)
        scale = np.einsum("tkk->tk", self.cross).max(axis=1, initial=0.0)
        invertible = np.abs(np.linalg.det(self.cross)) > 1e-10 * np.maximum(scale, 1e-300) ** n_varying
        self.usable = (np.bincount(team, minlength=n_teams) >= n_varying + 2) & invertible if n_varying else np.zeros(n_teams, dtype=bool)
        self.inverse = np.full_like(self.cross, np.nan)
        self.inverse[self.usable] = np.linalg.inv(self.cross[self.usable])
        self.n_parameters = int(np.count_nonzero(self.total)) + n_varying * int(self.usable.sum())

    def slopes(self, values: np.ndarray) -> np.ndarray:
        """Each team's slopes for every column of ``values`` (teams x V x columns; NaN where a team has none)."""
        within = values - _team_means(values, self.team, self.weight)
        n_teams = len(self.total)
        moment = np.zeros((n_teams, self.x_within.shape[1], values.shape[1]))
        for a in range(self.x_within.shape[1]):
            for j in range(values.shape[1]):
                moment[:, a, j] = np.bincount(self.team, self.weight * self.x_within[:, a] * within[:, j], n_teams)
        return np.einsum("tab,tbj->taj", self.inverse, moment)

    def levels(self, values: np.ndarray, slopes: np.ndarray, slope_variances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each team's level at drivers of 0 (the model's team intercept) along the given slopes, and the variance the slopes add to it.

        The team's weighted mean of ``values`` and its own slope estimates are
        uncorrelated (the drivers are centred on the team's weighted means), so
        the slopes' variances add ``sum m_k^2 var(b_k)``, ``m`` the team's mean drivers.
        """
        mean = np.bincount(self.team, self.weight * values, len(self.total)) / np.maximum(self.total, 1e-300)
        return mean - np.einsum("ta,ta->t", self.x_mean, slopes), np.einsum("ta,ta->t", self.x_mean**2, slope_variances)

    def residuals(self, values: np.ndarray) -> np.ndarray:
        """What each column of ``values`` keeps once every team's own intercept and slopes are fitted to it."""
        within = values - _team_means(values, self.team, self.weight)
        coefficients = np.nan_to_num(self.slopes(values))
        return within - np.einsum("ra,raj->rj", self.x_within, coefficients[self.team])


def period_parameterisation(arrays: dict[str, np.ndarray], working: np.ndarray, requested: str = "auto", *, weight: np.ndarray | None = None) -> str:
    """Centred or non-centred period effects, by the same rule as team effects.

    A period's effect is estimated from every team's row in that period
    (standard error sigma / sqrt(the period's total weight)); many teams pin it down
    and the centred form samples better, while tiny shocks measured by few
    teams suit the non-centred form.

    Parameters
    ----------
    arrays
        Model arrays.
    working
        The outcome on the link scale.
    requested
        ``"auto"``, ``"centred"`` or ``"non-centred"``.
    weight
        Rows' relative information (None: equal).

    Returns
    -------
    str
    """
    if requested != "auto":
        return requested
    fit = within_fit(arrays, working, weight)
    if fit is None:
        return "non-centred"
    coef, sigma, _ = fit
    effects = np.concatenate([[0.0], coef[arrays["x"].shape[1]:]])
    se = sigma / np.sqrt(np.bincount(arrays["period_idx"], np.ones(len(working)) if weight is None else weight))
    spread = np.sqrt(max(float(np.var(effects, ddof=1)) - float(np.mean(se**2)), 0.0)) if len(effects) > 2 else 0.0
    return "centred" if np.median(se) < spread / CLEARLY else "non-centred"


def _enough(estimates: list, arrays: dict[str, np.ndarray]) -> bool:
    region = pd.Series(arrays["team_region_idx"])
    for estimate, se in estimates:
        usable = estimate.notna() & np.isfinite(se)
        if usable.sum() - region[usable.index[usable]].nunique() < 2:
            return False
    return True


def _spread(estimate: pd.Series, se: pd.Series, team_region: np.ndarray) -> tuple[np.ndarray, float]:
    """Teams' standard errors and the spread of teams around their region's mean (method of moments)."""
    usable = estimate.notna() & np.isfinite(se)
    region = pd.Series(team_region[estimate.index.to_numpy()], index=estimate.index)[usable]
    values = estimate[usable]
    deviation = values - values.groupby(region).transform("mean")
    between = float((deviation**2).sum() / (usable.sum() - region.nunique()))
    return se[usable].to_numpy(), float(np.sqrt(max(between - float((se[usable] ** 2).mean()), 0.0)))


def _region_spread(estimate: pd.Series, team_region: np.ndarray) -> tuple[np.ndarray, float]:
    """Standard errors of the regions' means of their teams' estimates, and the spread of those means (method of moments)."""
    usable = estimate.dropna()
    region = pd.Series(team_region[usable.index.to_numpy()], index=usable.index)
    grouped = usable.groupby(region)
    means, counts = grouped.mean(), grouped.size()
    se = np.sqrt(grouped.var(ddof=1).fillna(np.inf) / counts)
    if len(means) < 3 or not np.isfinite(se).all():
        return np.array([np.inf]), 0.0
    between = float(means.var(ddof=1)) - float((se**2).mean())
    return se.to_numpy(), float(np.sqrt(max(between, 0.0)))
