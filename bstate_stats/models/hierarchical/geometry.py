"""Centred or non-centred team effects: the same model, the geometry the sampler finds easier, chosen from a least-squares pilot."""

from __future__ import annotations

import numpy as np
import pandas as pd

CLEARLY = 2.0  # an effect is centred only when the units' standard errors are below the spread / CLEARLY
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


def team_parameterisation(arrays: dict[str, np.ndarray], working: np.ndarray, meta: dict, requested: str = "auto") -> dict[str, str]:
    """Centred or non-centred team intercepts and varying slopes, and the same for the region offsets when regions are pooled.

    The non-centred form suits units whose own data say little (the prior
    spread dominates); the centred form suits units whose data pin their
    values down, where the non-centred form couples every offset to the spread
    and NUTS crawls along that ridge. ``"auto"`` decides each effect from a
    least-squares pilot on the outcome's working scale (:func:`team_pilot`):
    an effect is centred when the median standard error of the units' own
    estimates is below half the low end of the spread between units, as
    :func:`plausible_low` gives it (for teams; region offsets are judged on the
    spread itself, as before) (the pilot's spread is noisy: for 24 teams with 12 binary outcomes each it read 0.67 where the
    truth was 0.3, and the centred form then failed its checks). Teams: their own periods;
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
    pilot = team_pilot(arrays, working, meta["varying_idx"])
    if pilot is None:
        return dict.fromkeys(all_names, "non-centred")
    choice = {}
    for name, (estimate, se) in zip(names, pilot):
        team_se, team_spread = _spread(estimate, se, arrays["team_region_idx"])
        choice[name] = "centred" if np.median(team_se) < plausible_low(team_spread, len(team_se)) / CLEARLY else "non-centred"
        if pooled:
            region_se, region_spread = _region_spread(estimate, arrays["team_region_idx"])
            identified = np.median(region_se) < region_spread / CLEARLY
            choice[f"region {name}"] = "centred" if identified else ("non-centred" if name == "intercept" else "omitted")
    return choice


def within_fit(arrays: dict[str, np.ndarray], working: np.ndarray) -> tuple[np.ndarray, float, np.ndarray] | None:
    """Within-team least squares of the working outcome on the drivers and period dummies (None without residual degrees of freedom).

    Parameters
    ----------
    arrays
        Model arrays.
    working
        The outcome on the link scale.

    Returns
    -------
    tuple or None
        Coefficients (drivers, then periods after the first), residual sd, and
        what the common parts leave of the outcome.
    """
    team, x = arrays["team_idx"], arrays["x"]
    periods = np.eye(int(arrays["period_idx"].max()) + 1)[arrays["period_idx"]][:, 1:]
    design = np.column_stack([x, periods])

    def team_mean(values: np.ndarray) -> np.ndarray:
        return pd.DataFrame(values).groupby(team).transform("mean").to_numpy()

    within_design, within_y = design - team_mean(design), working - team_mean(working[:, None]).ravel()
    coef = np.linalg.lstsq(within_design, within_y, rcond=None)[0]
    residual = within_y - within_design @ coef
    dof = len(residual) - len(np.unique(team)) - len(coef)
    if dof <= 0:
        return None
    return coef, float(np.sqrt(residual @ residual / dof)), working - design @ coef


def team_pilot(arrays: dict[str, np.ndarray], working: np.ndarray, varying_idx: list[int]) -> list[tuple[pd.Series, pd.Series]] | None:
    """Per-team estimates and standard errors of the intercept and each varying slope (None when too few teams).

    A within-team regression (:func:`within_fit`) gives the residual noise.
    Intercepts: each team's mean of what the common parts leave, standard
    error sigma / sqrt(rows). Slopes: each team's own least-squares slope on
    what is left.

    Parameters
    ----------
    arrays
        Model arrays.
    working
        The outcome on the link scale.
    varying_idx
        Columns of ``arrays["x"]`` whose slopes vary.

    Returns
    -------
    list of (pandas.Series, pandas.Series) or None
        Estimates and standard errors by team, intercept first.
    """
    fit = within_fit(arrays, working)
    if fit is None:
        return None
    coef, sigma, left = fit
    team, x = arrays["team_idx"], arrays["x"]
    rows = pd.Series(team).value_counts().sort_index()
    estimates = [(pd.Series(left).groupby(team).mean(), sigma / np.sqrt(rows))]
    for j in varying_idx:
        frame = pd.DataFrame({"team": team, "x": x[:, j], "left": left + coef[j] * x[:, j]})
        slopes = frame.groupby("team").apply(lambda g: g["x"].cov(g["left"]) / g["x"].var() if len(g) >= 3 and g["x"].var() > 0 else np.nan, include_groups=False)
        estimates.append((slopes, sigma / np.sqrt(frame.groupby("team")["x"].var() * (rows - 1))))
    return estimates if _enough(estimates, arrays) else None


def period_parameterisation(arrays: dict[str, np.ndarray], working: np.ndarray, requested: str = "auto") -> str:
    """Centred or non-centred period effects, by the same rule as team effects.

    A period's effect is estimated from every team's row in that period
    (standard error sigma / sqrt(rows in the period)); many teams pin it down
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

    Returns
    -------
    str
    """
    if requested != "auto":
        return requested
    fit = within_fit(arrays, working)
    if fit is None:
        return "non-centred"
    coef, sigma, _ = fit
    effects = np.concatenate([[0.0], coef[arrays["x"].shape[1]:]])
    se = sigma / np.sqrt(np.bincount(arrays["period_idx"]))
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
