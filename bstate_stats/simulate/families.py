"""Panels of any outcome family with known truth: teams in regions over periods, one habit index, the outcome drawn from the family.

Written directly with NumPy's generators, independently of the model code,
so that recovery tests compare the engine with truth, not with itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from bstate_stats.errors import SpecificationError
from bstate_stats.panel.panel import Panel

# intercept (link scale, at the average habit index), effect per +10 habit points (link scale), auxiliary parameter
DEFAULTS: dict[str, tuple[float, float, float | None]] = {
    "censored_normal": (7.0, 0.8, 0.8),
    "normal": (7.0, 0.8, 0.8),
    "bernoulli": (-0.3, 0.5, None),
    "binomial": (-2.5, -0.3, None),
    "poisson": (np.log(0.05), -0.2, None),
    "negative_binomial": (np.log(0.05), -0.2, 5.0),
    "lognormal": (np.log(50_000.0), 0.1, 0.2),
    "gamma": (np.log(100.0), -0.1, 10.0),
    "beta": (-1.0, 0.3, 30.0),
}
EXTRA_COLUMNS = {"binomial": "customers", "poisson": "employee_days", "negative_binomial": "employee_days"}


@dataclass(frozen=True)
class FamilyStudy:
    """A simulated panel and the truth behind it.

    Attributes
    ----------
    frame
        One row per team and period: ``team, region, period, habit_index, outcome`` (and the trials or exposure column).
    family
        The outcome family.
    truth
        ``intercept``, ``effect`` (per +10 habit points, link scale: the centre of the teams' slopes),
        ``teams_effect`` (the average slope of the simulated teams), ``team_sd``, ``aux``.
    """

    frame: pd.DataFrame
    family: str
    truth: dict[str, float] = field(default_factory=dict)

    @property
    def extra_column(self) -> str | None:
        return EXTRA_COLUMNS.get(self.family)

    def panel(self) -> Panel:
        """The simulated data as a validated panel.

        Returns
        -------
        Panel
        """
        outcomes = ["outcome"] + ([self.extra_column] if self.extra_column else [])
        scales = {"habit_index": "percent_0_100", "outcome": "score_0_10" if self.family == "censored_normal" else "numeric"}
        return Panel.from_frame(self.frame, team="team", period="period", region="region", outcomes=outcomes, drivers=["habit_index"], scales=scales)


def family_study(
    family: str,
    *,
    seed: int = 0,
    n_regions: int = 4,
    teams_per_region: int = 6,
    n_periods: int = 12,
    intercept: float | None = None,
    effect: float | None = None,
    team_sd: float = 0.3,
    team_slope_sd: float = 0.05,
    region_sd: float = 0.2,
    period_sd: float = 0.1,
    aux: float | None = None,
) -> FamilyStudy:
    """Simulate a panel whose outcome follows ``family``.

    Parameters
    ----------
    family
        ``censored_normal`` (0-10 scores), ``normal``, ``bernoulli``, ``binomial`` (lost customers of those served),
        ``poisson``/``negative_binomial`` (absence days of employee-days), ``lognormal``, ``gamma``, ``beta``.
    seed
        Seed of the generator.
    n_regions, teams_per_region, n_periods
        Panel shape.
    intercept, effect, aux
        Link-scale intercept at the average habit index, effect per +10 habit points, and the family's
        auxiliary parameter (noise sd, dispersion, shape or precision); defaults per family.
    team_sd, team_slope_sd, region_sd, period_sd
        Spreads on the link scale (slopes per +10 points).

    Returns
    -------
    FamilyStudy
    """
    if family not in DEFAULTS:
        raise SpecificationError(f"family={family!r}; choose one of {sorted(DEFAULTS)}")
    rng = np.random.default_rng(seed)
    default_intercept, default_effect, default_aux = DEFAULTS[family]
    intercept = default_intercept if intercept is None else intercept
    effect = default_effect if effect is None else effect
    aux = default_aux if aux is None else aux
    n_teams = n_regions * teams_per_region
    region = np.repeat(np.arange(n_regions), teams_per_region)
    habit, eta, slope_deviation = _latent(rng, region, n_periods, intercept, effect, (team_sd, team_slope_sd, region_sd, period_sd))
    outcome, extra = _draw(rng, family, eta, aux)
    frame = pd.DataFrame(
        {
            "team": np.repeat([f"T{k:03d}" for k in range(n_teams)], n_periods),
            "region": np.repeat([f"R{r}" for r in region], n_periods),
            "period": np.tile(np.arange(1, n_periods + 1), n_teams),
            "habit_index": habit.ravel(),
            "outcome": outcome.ravel(),
        }
    )
    if extra is not None:
        frame[EXTRA_COLUMNS[family]] = extra.ravel()
    truth = {"intercept": intercept, "effect": effect, "teams_effect": effect + float(slope_deviation.mean()), "team_sd": team_sd, "aux": np.nan if aux is None else aux}
    return FamilyStudy(frame, family, truth)


def _latent(rng: np.random.Generator, region: np.ndarray, n_periods: int, intercept: float, effect: float, spreads: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Habit index (teams x periods), the linear predictor, and each team's slope deviation."""
    team_sd, team_slope_sd, region_sd, period_sd = spreads
    n_teams, n_regions = len(region), int(region.max()) + 1
    region_offset = rng.normal(0, region_sd, n_regions)
    region_offset -= region_offset.mean()
    team_a = region_offset[region] + rng.normal(0, team_sd, n_teams)
    slope_deviation = rng.normal(0, team_slope_sd, n_teams)
    period_effect = rng.normal(0, period_sd, n_periods)
    period_effect -= period_effect.mean()
    habit = np.clip(rng.normal(45, 8, (n_teams, 1)) + np.linspace(0, 20, n_periods)[None, :] * rng.uniform(0.3, 1.2, (n_teams, 1)) + rng.normal(0, 4, (n_teams, n_periods)), 0, 100)
    centred = (habit - habit.mean()) / 10.0
    eta = intercept + (effect + slope_deviation[:, None]) * centred + team_a[:, None] + period_effect[None, :]
    return habit, eta, slope_deviation


def _draw(rng: np.random.Generator, family: str, eta: np.ndarray, aux_or_none: float | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Outcomes (and trials or exposure) given the linear predictor."""
    aux = 1.0 if aux_or_none is None else float(aux_or_none)
    if family in ("censored_normal", "normal"):
        y = eta + rng.normal(0, aux, eta.shape)
        return (np.clip(y, 0, 10) if family == "censored_normal" else y), None
    if family == "bernoulli":
        return rng.binomial(1, special.expit(eta)).astype(float), None
    if family == "binomial":
        trials = np.asarray(rng.integers(200, 400, eta.shape))
        return rng.binomial(trials, special.expit(eta)).astype(float), trials.astype(float)
    if family in ("poisson", "negative_binomial"):
        exposure = rng.integers(200, 600, eta.shape).astype(float)
        mean = np.exp(eta) * exposure
        rate = rng.gamma(aux, mean / aux) if family == "negative_binomial" else mean
        return rng.poisson(rate).astype(float), exposure
    if family == "lognormal":
        return np.exp(eta + rng.normal(0, aux, eta.shape)), None
    if family == "gamma":
        return np.asarray(rng.gamma(aux, np.exp(eta) / aux)), None
    mean = special.expit(eta)
    return np.asarray(rng.beta(mean * aux, (1 - mean) * aux)), None
