"""What a hierarchical fit asks for: outcome, drivers, sampler settings, likelihood, threshold (stored with the posterior)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from bstate_stats.errors import SpecificationError

Sampler = Literal["nutpie", "pymc", "numpyro"]
Likelihood = Literal["censored", "normal"]
Parameterisation = Literal["auto", "centred", "non-centred"]
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
