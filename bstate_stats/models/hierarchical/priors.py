"""Priors of the hierarchical model, as data.

Every prior is stated on the satisfaction scale (0-10 points) and, for
slopes, per ``unit`` of the driver: +10 points for drivers on a 0-100 index
(habit_index, relationship_index), +1 otherwise. The model standardises
drivers internally and converts these priors accordingly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from bstate_stats.errors import SpecificationError


@dataclass(frozen=True)
class Priors:
    """Prior scales of the hierarchical satisfaction and revenue model.

    Attributes
    ----------
    intercept_mu, intercept_sigma
        Normal prior of a typical team's satisfaction at the panel's average
        drivers (points, 0-10 scale).
    habit_effect_mu, habit_effect_sigma
        Normal prior of the population habit effect, points per unit (+10 habit points).
    region_intercept_sd, team_intercept_sd
        Half-Normal scales of how much regions and teams differ in level (points).
    region_habit_sd, team_habit_sd
        Half-Normal scales of how much regions and teams differ in habit effect (points per unit).
    other_effect_sigma
        Normal(0, .) prior of other drivers' effects (points per unit).
    period_sd
        Half-Normal scale of period shocks common to all teams (points).
    noise_sd
        Half-Normal scale of team-period noise (points).
    revenue_lift_sigma
        Normal(0, .) prior of the log revenue lift of a period at or above the threshold.
    revenue_team_sd, revenue_noise_sd
        Half-Normal scales of team differences and noise in log revenue.
    """

    intercept_mu: float = 6.0
    intercept_sigma: float = 2.0
    habit_effect_mu: float = 0.0
    habit_effect_sigma: float = 1.0
    region_intercept_sd: float = 0.5
    team_intercept_sd: float = 0.5
    region_habit_sd: float = 0.3
    team_habit_sd: float = 0.3
    other_effect_sigma: float = 1.0
    period_sd: float = 0.3
    noise_sd: float = 1.0
    revenue_lift_sigma: float = 1.0
    revenue_team_sd: float = 1.0
    revenue_noise_sd: float = 0.5

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, float] | Priors | None) -> Priors:
        """Defaults with ``overrides`` applied; unknown names or non-positive scales are errors."""
        if overrides is None:
            return cls()
        if isinstance(overrides, Priors):
            return overrides
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise SpecificationError(f"unknown prior(s) {unknown}; known: {sorted(known)}")
        priors = replace(cls(), **{k: float(v) for k, v in overrides.items()})
        bad = [f.name for f in fields(cls) if not f.name.endswith("_mu") and getattr(priors, f.name) <= 0]
        if bad:
            raise SpecificationError(f"prior scales must be positive: {bad}")
        return priors

    def table(self) -> list[dict]:
        """One row per prior: name, value (for the docs and the report)."""
        return [{"prior": f.name, "value": getattr(self, f.name)} for f in fields(self)]
