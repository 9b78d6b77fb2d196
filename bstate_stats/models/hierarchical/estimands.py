"""Estimands from the posterior draws, for every family, through the one predictor.

Two estimands are offered for a region or the organisation, each labelled:

- ``"teams"``: the average over this organisation's teams (of that region),
  each at its own latest period: what happens here if every team moves.
- ``"new_team"``: a new team (in that region, or in a new region for the
  organisation) at the average latest drivers: what a rollout to new sites
  can expect, its team (and region) effects drawn from their spreads.

For a team the estimand is that team at its latest period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import arviz as az
import numpy as np
from scipy import optimize

from bstate_stats.models.hierarchical.families import Direction, Family
from bstate_stats.models.hierarchical.predict import Draws, linear_predictor, new_team_predictor, standardise

Level = Literal["population", "region", "team"]
Estimand = Literal["teams", "new_team"]
ESTIMAND_LABELS = {"teams": "average of this organisation's teams", "new_team": "a new team (predictive)"}
NEW_TEAM_ORIGIN = {
    "partial_pooling": "in a new region (its team and region effects drawn from their estimated spreads)",
    "fixed": "in one of this organisation's regions, in proportion to their teams (too few regions to estimate how a new region would differ; its team effects drawn from their spreads)",
    "none": "(its team effects drawn from their spreads)",
}
BISECTION_TOLERANCE = 1e-3  # per-draw solutions to a thousandth of the driver's unit (0.01 points of a 0-100 index): far below the spread of the draws


def hdi(draws: np.ndarray, probability: float) -> tuple[float, float]:
    """Highest-density interval of the finite draws (NaN when fewer than two).

    Parameters
    ----------
    draws
        One-dimensional draws.
    probability
        Probability of the interval.

    Returns
    -------
    tuple of float
    """
    finite = draws[np.isfinite(draws)]
    if len(finite) < 2:
        return float("nan"), float("nan")
    low, high = az.hdi(finite, hdi_prob=probability)
    return float(low), float(high)


@dataclass(frozen=True)
class Unit:
    """One team, region or the organisation: the rows it stands for now."""

    name: str
    rows: np.ndarray  # latest row of each team in the unit
    region: int | None


@dataclass(frozen=True)
class Setting:
    """What the estimands need from a fit: draws, metadata, model arrays, the family."""

    draws: Draws
    meta: dict
    arrays: dict[str, np.ndarray]
    family: Family

    def units(self, level: Level) -> list[Unit]:
        """The units of ``level``, each with its teams' latest rows."""
        team, period = self.arrays["team_idx"], self.arrays["period_idx"]
        order = np.lexsort((period, team))
        last = np.zeros(len(self.meta["teams"]), dtype=int)
        last[team[order]] = order
        if level == "team":
            return [Unit(name, np.array([last[k]]), None) for k, name in enumerate(self.meta["teams"])]
        if level == "region":
            region_of = np.asarray(self.meta["team_region_positions"])
            return [Unit(name, last[region_of == r], r) for r, name in enumerate(self.meta["regions"])]
        return [Unit("population", last, None)]

    def effect_draws(self, level: Level, estimand: Estimand, driver: int) -> tuple[np.ndarray, list[str]]:
        """Per draw, the effect of +1 unit of ``driver`` (+10 points for 0-100 indices) on the link scale, for each unit of ``level``."""
        d, meta = self.draws, self.meta
        scale = meta["driver_unit"][driver] / meta["driver_sd"][driver]
        name = meta["drivers"][driver]
        k = meta["varying"].index(name) if name in meta["varying"] else None
        team_slopes = d.effects_std[:, [driver]] + (d.team_slope[:, :, k] if k is not None else 0.0)
        region_of = np.asarray(meta["team_region_positions"])
        if level == "team":
            return team_slopes * scale, meta["teams"]
        if level == "region":
            if estimand == "teams":
                values = np.column_stack([team_slopes[:, region_of == r].mean(axis=1) for r in range(len(meta["regions"]))])
            else:
                values = d.effects_std[:, [driver]] + (d.region_slope[:, :, k] if k is not None else 0.0)
            return values * scale, meta["regions"]
        values = team_slopes.mean(axis=1, keepdims=True) if estimand == "teams" else d.effects_std[:, [driver]]
        return values * scale, ["population"]

    def prob(self, unit: Unit, estimand: Estimand, driver: int, change: float | np.ndarray, target: float, direction: Direction) -> np.ndarray:
        """Per draw, P(outcome meets the target) for ``unit`` after ``driver`` rises by ``change`` (a number, or one per draw)."""
        extra = self.arrays.get("extra")
        aux = self.draws.aux[:, None] if self.draws.aux is not None else None
        if estimand == "teams":
            return self.row_probs(unit.rows, driver, change, target, direction).mean(axis=1)
        x_std = standardise(self.arrays["x_raw"][unit.rows].mean(axis=0, keepdims=True), self.meta, {driver: change})[..., 0, :]
        eta = new_team_predictor(self.draws, self.meta, x_std, int(self.arrays["period_idx"].max()), unit.region)
        mean_extra = None if extra is None else float(np.mean(extra[unit.rows]))
        return self.family.prob_target(eta, aux, target, direction, mean_extra, self.meta["bounds"]).mean(axis=1)

    def row_probs(self, rows: np.ndarray, driver: int, change: float | np.ndarray, target: float, direction: Direction) -> np.ndarray:
        """Per draw and row, P(outcome meets the target) in that row's team and period after ``driver`` rises by ``change``."""
        extra = self.arrays.get("extra")
        x_std = standardise(self.arrays["x_raw"][rows], self.meta, {driver: change})
        eta = linear_predictor(self.draws, self.meta, x_std, self.arrays["team_idx"][rows], self.arrays["period_idx"][rows])
        aux = self.draws.aux[:, None] if self.draws.aux is not None else None
        return self.family.prob_target(eta, aux, target, direction, None if extra is None else extra[rows], self.meta["bounds"])

    def expected_ratio(self, rows: np.ndarray, driver: int, change: float) -> np.ndarray:
        """Per draw, the outcome's expected total over ``rows`` after ``driver`` rises by ``change``, over the total before.

        Rates and shares are weighted by their exposure (trials), so the ratio is that of expected events;
        other outcomes are summed as they are (a cost per contact: the ratio of expected costs).

        Parameters
        ----------
        rows
            Model rows (e.g. the last year's).
        driver
            Driver index.
        change
            Points added to the driver (capped at the top of its scale).

        Returns
        -------
        numpy.ndarray
            One ratio per draw.
        """
        extra = self.arrays.get("extra")
        weights = np.ones(len(rows)) if extra is None else np.asarray(extra, dtype=float)[rows]
        aux = self.draws.aux[:, None] if self.draws.aux is not None else None
        totals = []
        for shift in (change, 0.0):
            x_std = standardise(self.arrays["x_raw"][rows], self.meta, {driver: shift})
            eta = linear_predictor(self.draws, self.meta, x_std, self.arrays["team_idx"][rows], self.arrays["period_idx"][rows])
            totals.append(self.family.expected(eta, aux, None) @ weights)
        return totals[0] / totals[1]

    def room(self, unit: Unit, driver: int) -> float:
        """How far ``driver`` can rise before every team of ``unit`` is at the top of its scale (inf: unbounded)."""
        top = self.meta["driver_max"][driver]
        if top is None:
            return np.inf
        return float(top - self.arrays["x_raw"][unit.rows, driver].min())

    def required_change(self, unit: Unit, estimand: Estimand, driver: int, target: float, direction: Direction, prob: float) -> tuple[float, np.ndarray, float]:
        """Change meeting ``prob`` on average over draws, the per-draw changes (inf: never), and the room left on the scale."""
        room = self.room(unit, driver)
        upper = room if np.isfinite(room) else 20.0 * self.meta["driver_sd"][driver]

        def gap(change: float) -> float:
            return float(np.mean(self.prob(unit, estimand, driver, change, target, direction))) - prob

        if gap(0.0) >= 0:
            mean_change = 0.0
        elif gap(upper) < 0:
            mean_change = float("nan")
        else:
            mean_change = float(optimize.brentq(gap, 0.0, upper, xtol=1e-6))  # exact: prob_target at this change has mean prob
        return mean_change, self._per_draw(unit, estimand, driver, target, direction, prob, upper), room

    def _per_draw(self, unit: Unit, estimand: Estimand, driver: int, target: float, direction: Direction, prob: float, upper: float) -> np.ndarray:
        """Per draw, the change at which that draw's probability reaches ``prob`` (bisection to :data:`BISECTION_TOLERANCE`; inf where it never does)."""
        low, high = np.zeros(self.draws.n), np.full(self.draws.n, upper)
        at_low = self.prob(unit, estimand, driver, low, target, direction) >= prob
        at_high = self.prob(unit, estimand, driver, high, target, direction) >= prob
        tolerance = BISECTION_TOLERANCE * self.meta["driver_unit"][driver]
        for _ in range(max(1, int(np.ceil(np.log2(upper / tolerance))))):
            middle = (low + high) / 2
            reached = self.prob(unit, estimand, driver, middle, target, direction) >= prob
            high, low = np.where(reached, middle, high), np.where(reached, low, middle)
        return np.where(at_low, 0.0, np.where(at_high, (low + high) / 2, np.inf))
