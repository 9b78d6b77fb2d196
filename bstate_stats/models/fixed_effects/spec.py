"""What a fixed-effects call asks for (effects, estimator, clusters, lags, confidence_level, bootstrap), validated once at the door."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from bstate_stats.errors import SpecificationError
from bstate_stats.inference import bootstrap

Effects = Literal["twoway", "team", "period", "none"]
Estimator = Literal["within", "first_difference", "random", "pooled"]
Cluster = Literal["team", "region", "twoway"] | None
SmallSample = Literal["nonnested", "full"]
Family = Literal["linear", "poisson", "log"]
FEW_CLUSTERS = 30


@dataclass(frozen=True)
class FixedEffectsSpec:
    """What a call to :func:`fixed_effects` asked for, validated once at the door."""

    outcome: str
    drivers: tuple[str, ...]
    effects: Effects = "twoway"
    estimator: Estimator = "within"
    cluster: Cluster = "team"
    lags: tuple[tuple[str, int], ...] = ()
    confidence_level: float = 0.95
    small_sample: SmallSample = "nonnested"
    bootstrap_reps: int = 999
    bootstrap_weights: bootstrap.Weights = "webb"
    seed: int = 0
    family: Family = "linear"
    exposure: str | None = None

    def __post_init__(self) -> None:
        for name, allowed in (("effects", Effects), ("estimator", Estimator), ("small_sample", SmallSample), ("bootstrap_weights", bootstrap.Weights), ("family", Family)):
            if getattr(self, name) not in get_args(allowed):
                raise SpecificationError(f"{name}={getattr(self, name)!r}; choose one of {get_args(allowed)}")
        if self.cluster not in ("team", "region", "twoway", None):
            raise SpecificationError(f"cluster={self.cluster!r}; choose 'team', 'region', 'twoway' or None")
        if not 0 < self.confidence_level < 1:
            raise SpecificationError(f"confidence_level={self.confidence_level}; must lie strictly between 0 and 1")
        if not self.drivers:
            raise SpecificationError("at least one driver is needed")
        if isinstance(self.bootstrap_reps, bool) or not isinstance(self.bootstrap_reps, (int, np.integer)) or self.bootstrap_reps < 0:
            raise SpecificationError(f"bootstrap_reps={self.bootstrap_reps!r}; a whole number, 0 (no bootstrap) or more")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise SpecificationError(f"seed={self.seed!r}; a whole number, 0 or more")
        if self.exposure is not None and self.family != "poisson":
            raise SpecificationError(f"exposure={self.exposure!r} is for family='poisson' (events per unit of exposure); family is {self.family!r}")
        if self.family == "poisson" and self.estimator not in ("within", "pooled"):
            raise SpecificationError(f"family='poisson' is estimated by Poisson pseudo-maximum likelihood with estimator 'within' or 'pooled', not {self.estimator!r}")
        allowed_effects = {"random": ("team", "twoway"), "pooled": ("none", "period")}.get(self.estimator)
        if allowed_effects and self.effects not in allowed_effects:
            raise SpecificationError(f"estimator={self.estimator!r} works with effects in {allowed_effects}, not {self.effects!r}")

    @property
    def team_effects(self) -> bool:
        return self.effects in ("twoway", "team") and self.estimator in ("within", "random")

    @property
    def period_effects(self) -> bool:
        return self.effects in ("twoway", "period")

    def se_convention(self, n_clusters: int | None) -> str:
        """The standard errors' convention in words (clusters, small-sample factor, reference distribution).

        Parameters
        ----------
        n_clusters
            Clusters in the fit (the smaller dimension for two-way clustering); None without clustering.

        Returns
        -------
        str
        """
        if self.cluster is None:
            return "conventional (homoskedastic, independent errors); t(N-K) intervals with absorbed effects counted in K"
        k_rule = "every estimated fixed effect counted in K" if self.small_sample == "full" else "fixed effects nested in clusters not counted in K"
        if self.cluster == "twoway":
            return (
                "clustered by team and by period (Cameron-Gelbach-Miller: team + period - team x period, CRV1) with one small-sample factor "
                f"G/(G-1)*(N-1)/(N-K), G the smaller number of clusters (fixest's convention; statsmodels scales each term by its own G), {k_rule}; "
                f"t(G-1) intervals and p-values, G = {n_clusters}"
            )
        return (
            f"clustered by {self.cluster} (CRV1) with small-sample factor G/(G-1)*(N-1)/(N-K), {k_rule}; "
            f"t(G-1) intervals and p-values, G = {n_clusters}"
        )
