"""What a hierarchical fit asks for: outcome, family, drivers and their structure, sampler settings, the target (stored with the posterior)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from bstate_stats.errors import SpecificationError
from bstate_stats.models.hierarchical.families import Direction, FamilyName, family

Sampler = Literal["nutpie", "pymc", "numpyro"]
Parameterisation = Literal["auto", "centred", "non-centred"]
RegionEffects = Literal["auto", "partial_pooling", "fixed", "none"]

# Fewest regions for which the spread between regions is estimated (partial pooling); below it the
# regions get fixed intercepts and no spread of slopes. Measured: benchmarks/bench_convergence.py (see design.region_structure).
MIN_REGIONS_FOR_POOLING = 8


@dataclass(frozen=True)
class HierarchicalSpec:
    """What a call to :func:`hierarchical` asked for (stored in the posterior's attrs)."""

    outcome: str
    drivers: tuple[str, ...]
    random_seed: int
    family: FamilyName = "censored_normal"
    varying: tuple[str, ...] | None = None
    period_effects: bool = True
    trials: str | None = None
    exposure: str | None = None
    region_effects: RegionEffects = "auto"
    sampler: Sampler = "nutpie"
    chains: int = 4
    draws: int = 2000
    tune: int = 1000
    target_accept: float = 0.9
    target: float = 8.0
    direction: Direction = "at_least"
    credible_level: float = 0.9
    team_effects: Parameterisation = "auto"

    def __post_init__(self) -> None:
        fam = family(self.family)
        for name, allowed in (("sampler", Sampler), ("team_effects", Parameterisation), ("region_effects", RegionEffects), ("direction", Direction)):
            if getattr(self, name) not in get_args(allowed):
                raise SpecificationError(f"{name}={getattr(self, name)!r}; choose one of {get_args(allowed)}")
        if fam.needs == "trials" and not self.trials:
            raise SpecificationError(f"family={self.family!r} needs trials= (the count column the events are out of, e.g. customers served)")
        if self.trials and fam.needs != "trials":
            raise SpecificationError(f"trials= is for family='binomial', not {self.family!r}")
        if self.exposure and fam.needs != "exposure":
            raise SpecificationError(f"exposure= is for family='poisson' or 'negative_binomial', not {self.family!r}")
        unknown = sorted(set(self.varying or ()) - set(self.drivers))
        if unknown:
            raise SpecificationError(f"varying={list(self.varying or ())}: {unknown} not among the drivers {list(self.drivers)}")
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
            raise SpecificationError(f"target_accept={self.target_accept}; must lie strictly between 0 and 1 (0.8-0.95 in practice)")
        if not 0 < self.credible_level < 1:
            raise SpecificationError("credible_level must lie strictly between 0 and 1")

    @property
    def varying_drivers(self) -> tuple[str, ...]:
        """Drivers whose slopes vary by team and region (default: the first driver)."""
        return self.drivers[:1] if self.varying is None else tuple(self.varying)
