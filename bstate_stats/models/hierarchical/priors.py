"""Priors of the hierarchical model, as data.

Every scale is stated in *outcome units*: for the Normal-type families
(``censored_normal``, ``normal``, ``lognormal``) one unit is the standard
deviation of the outcome (of its log for ``lognormal``); for the others it is
one unit on the link scale (log-odds, log rate). Slopes are per standard
deviation of their driver. So the same defaults suit a 0-10 score, a 1-5 item,
a churn share or absence days, and the fit states them back in the outcome's
own units (:meth:`Priors.table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from bstate_stats.errors import SpecificationError


@dataclass(frozen=True)
class Priors:
    """Prior scales of the hierarchical model (see the module docstring for the units).

    Attributes
    ----------
    intercept_sigma
        Normal prior sd of the intercept around the outcome's mean (on the link scale).
    effect_sigma
        Normal(0, .) prior sd of each driver's effect per sd of the driver.
    team_sd, region_sd
        Half-Normal scales of how much teams and regions differ in level.
    team_slope_sd, region_slope_sd
        Half-Normal scales of how much teams and regions differ in the varying slopes (per sd of the driver).
    region_fixed_sigma
        Normal prior sd of each region's offset when regions are too few to pool (``region_effects="fixed"``).
    period_sd
        Half-Normal scale of period shocks common to all teams.
    noise_sd
        Half-Normal scale of the noise (Normal-type families).
    """

    intercept_sigma: float = 2.0
    effect_sigma: float = 1.0
    team_sd: float = 0.5
    region_sd: float = 0.5
    team_slope_sd: float = 0.25
    region_slope_sd: float = 0.25
    region_fixed_sigma: float = 1.0
    period_sd: float = 0.25
    noise_sd: float = 1.0

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, float] | Priors | None) -> Priors:
        """Defaults with ``overrides`` applied; unknown names or non-positive scales are errors.

        Parameters
        ----------
        overrides
            Scales by name, a :class:`Priors`, or None for the defaults.

        Returns
        -------
        Priors
        """
        if overrides is None:
            return cls()
        if isinstance(overrides, Priors):
            return overrides
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise SpecificationError(f"unknown prior(s) {unknown}; known: {sorted(known)}")
        try:
            priors = replace(cls(), **{k: float(v) for k, v in overrides.items()})
        except (TypeError, ValueError) as exc:
            raise SpecificationError(f"priors must be numbers: {exc}") from None
        bad = [f.name for f in fields(cls) if not getattr(priors, f.name) > 0]
        if bad:
            raise SpecificationError(f"prior scales must be positive: {bad}")
        return priors

    def table(self, unit: float = 1.0, unit_name: str = "outcome units") -> list[dict]:
        """One row per prior: name, value in outcome units, and in the outcome's own scale.

        Parameters
        ----------
        unit
            One outcome unit on the outcome's own scale (e.g. the sd of the score).
        unit_name
            What one outcome unit is, for the table.

        Returns
        -------
        list of dict
            ``prior, value, on_outcome_scale, unit``.
        """
        return [{"prior": f.name, "value": getattr(self, f.name), "on_outcome_scale": getattr(self, f.name) * unit, "unit": unit_name} for f in fields(self)]
