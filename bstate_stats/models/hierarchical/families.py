"""Outcome families of the hierarchical model: likelihood (PyMC), and the same distribution in NumPy for every estimand.

A family maps the linear predictor ``eta`` (link scale) and its auxiliary
parameter (noise sd, dispersion, shape or precision) to the outcome's
distribution. The PyMC side builds the likelihood; the NumPy side gives the
probability of meeting a target and simulated outcomes from the same
distribution, so no estimand re-codes the model.

Targets are stated on the outcome's own scale: points for scores, a share for
``bernoulli``/``binomial``/``beta`` (customers lost / customers served), a rate
per unit of exposure for ``poisson``/``negative_binomial`` (absence days per
employee-day), currency for ``lognormal``/``gamma``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pymc as pm
from scipy import special, stats

from bstate_stats.errors import SpecificationError

FamilyName = Literal["censored_normal", "normal", "bernoulli", "binomial", "poisson", "negative_binomial", "lognormal", "gamma", "beta"]
Direction = Literal["at_least", "at_most"]


@dataclass(frozen=True)
class Family:
    """One outcome family.

    Attributes
    ----------
    name
        The ``family=`` value.
    link
        ``"identity"``, ``"logit"`` or ``"log"``.
    aux
        Name of the auxiliary parameter in the posterior (None: the family has none).
    needs
        ``"trials"`` (binomial), ``"exposure"`` (optional for poisson and
        negative binomial) or None.
    rule
        What the outcome's values must satisfy, said in words.
    """

    name: str
    link: str
    aux: str | None
    needs: str | None
    rule: str

    # -- checks and working scale ------------------------------------------------------
    def broken_rows(self, y: np.ndarray, extra: np.ndarray | None) -> np.ndarray:
        """Positions of rows whose outcome the family cannot take."""
        finite = np.isfinite(y)
        if self.name in ("censored_normal", "normal"):
            ok = finite
        elif self.name == "bernoulli":
            ok = np.isin(y, (0.0, 1.0))
        elif self.name in ("binomial", "poisson", "negative_binomial"):
            ok = finite & (y >= 0) & (np.floor(y) == y)
            if self.name == "binomial" and extra is not None:
                ok &= y <= extra
        elif self.name in ("lognormal", "gamma"):
            ok = finite & (y > 0)
        else:  # beta
            ok = finite & (y > 0) & (y < 1)
        return np.flatnonzero(~ok)

    def working(self, y: np.ndarray, extra: np.ndarray | None) -> np.ndarray:
        """The outcome on the link scale, roughly (for prior centres and the team-geometry pilot)."""
        if self.name in ("censored_normal", "normal"):
            return y
        if self.name in ("lognormal", "gamma"):
            return np.log(y)
        if self.name == "bernoulli":
            share = np.clip(np.mean(y), 0.01, 0.99)
            return special.logit(share) + (y - share) / (share * (1 - share))
        if self.name == "binomial":
            return special.logit((y + 0.5) / (np.asarray(extra, dtype=float) + 1.0))
        if self.name == "beta":
            return special.logit(y)
        exposure = np.ones_like(y) if extra is None else extra
        return np.log((y + 0.5) / exposure)

    def working_weight(self, y: np.ndarray, extra: np.ndarray | None) -> np.ndarray | None:
        """Each row's information about its working value, up to a common factor (None: rows weigh alike).

        A count's log (or a share's logit) is precise when it rests on many events:
        its variance is about 1 / (expected count) for ``poisson`` and
        ``negative_binomial`` and 1 / (n p (1 - p)) for ``binomial``. The
        geometry pilot weighs rows by it, as the likelihood does; unweighted, rows
        with a handful of events made teams that hundreds of events a row pin down
        look noisy.

        Parameters
        ----------
        y
            The outcome.
        extra
            Trials (binomial) or exposure.

        Returns
        -------
        numpy.ndarray or None
        """
        if self.name == "binomial":
            trials = np.asarray(extra, dtype=float)
            return (y + 0.5) * (trials - y + 0.5) / (trials + 1.0)
        if self.name in ("poisson", "negative_binomial"):
            return y + 0.5
        return None

    def outcome_unit(self, working: np.ndarray) -> float:
        """One unit of the outcome for stating priors: the working response's sd for Normal-type families, 1 on a logit or log scale."""
        if self.name in ("censored_normal", "normal", "lognormal"):
            sd = float(np.std(working))
            return sd if np.isfinite(sd) and sd > 0 else 1.0
        return 1.0

    # -- PyMC ------------------------------------------------------------------------
    def aux_prior(self, unit: float):
        """The auxiliary parameter's prior (inside a model context); None when the family has none."""
        if self.aux == "sigma":
            return pm.HalfNormal("sigma", unit)
        if self.aux in ("alpha", "shape", "phi"):
            # Gamma(2, 0.1): mean 20, weight down to about 1; over-dispersion, shape and precision are learnt from the data
            return pm.Gamma(self.aux, alpha=2.0, beta=0.1)
        return None

    def likelihood(self, eta, aux, y, extra: np.ndarray | None, bounds: tuple[float, float] | None, model: pm.Model, *, split: bool = True) -> None:
        """Add the observed outcome to ``model`` (dims ``row``; the censored family splits rows inside and at the bounds when ``split``)."""
        if self.name == "censored_normal" and split:
            _censored_normal(eta, aux, np.asarray(y), bounds or (-np.inf, np.inf), model)
        elif self.name == "censored_normal":
            low, high = bounds or (-np.inf, np.inf)
            pm.Censored("y", pm.Normal.dist(eta, aux), lower=low, upper=high, observed=y, dims="row")
        elif self.name == "normal":
            pm.Normal("y", eta, aux, observed=y, dims="row")
        elif self.name == "bernoulli":
            pm.Bernoulli("y", logit_p=eta, observed=y, dims="row")
        elif self.name == "binomial":
            pm.Binomial("y", n=extra, logit_p=eta, observed=y, dims="row")
        elif self.name == "poisson":
            pm.Poisson("y", pm.math.exp(eta + _log_exposure(extra)), observed=y, dims="row")
        elif self.name == "negative_binomial":
            pm.NegativeBinomial("y", mu=pm.math.exp(eta + _log_exposure(extra)), alpha=aux, observed=y, dims="row")
        elif self.name == "lognormal":
            pm.LogNormal("y", mu=eta, sigma=aux, observed=y, dims="row")
        elif self.name == "gamma":
            mean = pm.math.exp(eta)
            pm.Gamma("y", alpha=aux, beta=aux / mean, observed=y, dims="row")
        else:
            mean = pm.math.invlogit(eta)
            pm.Beta("y", alpha=mean * aux, beta=(1 - mean) * aux, observed=y, dims="row")

    # -- NumPy: the same distribution for estimands -------------------------------------------
    def distribution(self, eta: np.ndarray, aux: np.ndarray | None, extra: np.ndarray | float | None):
        """A frozen SciPy distribution of the outcome (as counted: events, not shares) for every element of ``eta``."""
        if self.name in ("censored_normal", "normal"):
            return stats.norm(eta, aux)
        if self.name == "bernoulli":
            return stats.bernoulli(special.expit(eta))
        if self.name == "binomial":
            return stats.binom(np.asarray(extra).astype(int), special.expit(eta))
        mean_count = np.exp(eta + (0.0 if extra is None else np.log(extra)))
        if self.name == "poisson":
            return stats.poisson(mean_count)
        if self.name == "negative_binomial":
            return stats.nbinom(aux, aux / (aux + mean_count))
        if self.name == "lognormal":
            return stats.lognorm(s=aux, scale=np.exp(eta))
        if self.name == "gamma":
            return stats.gamma(a=aux, scale=np.exp(eta) / aux)
        mean = special.expit(eta)
        return stats.beta(mean * aux, (1 - mean) * aux)

    def prob_target(
        self, eta: np.ndarray, aux: np.ndarray | None, target: float, direction: Direction, extra: np.ndarray | float | None, bounds: tuple[float, float] | None
    ) -> np.ndarray:
        """P(outcome >= target) or P(outcome <= target) in one period, the target on the outcome's own scale.

        Shares (binomial) and rates (poisson, negative binomial with exposure)
        are compared as events out of the row's trials or exposure.
        """
        if self.name in ("censored_normal", "normal"):
            return self._normal_prob(eta, aux, target, direction, bounds if self.name == "censored_normal" else None)
        dist = self.distribution(eta, aux, extra)
        if self.name in ("binomial", "poisson", "negative_binomial"):
            scale = 1.0 if extra is None else np.asarray(extra, dtype=float)
            count = target * scale
            if direction == "at_least":
                return dist.sf(np.ceil(count - 1e-9) - 1)
            return dist.cdf(np.floor(count + 1e-9))
        if self.name == "bernoulli":
            above = 1.0 - dist.cdf(np.ceil(target - 1e-9) - 1) if target > 0 else np.ones(np.shape(eta))
            return above if direction == "at_least" else dist.cdf(np.floor(target + 1e-9))
        return dist.sf(target) if direction == "at_least" else dist.cdf(target)

    @staticmethod
    def _normal_prob(eta: np.ndarray, aux: np.ndarray | None, target: float, direction: Direction, bounds: tuple[float, float] | None) -> np.ndarray:
        """P(y >= target) or P(y <= target) for y ~ Normal(eta, aux), censored at ``bounds`` when given (``special.ndtr``: a third of ``stats.norm``'s time)."""
        assert aux is not None, "Normal families carry a noise sd"
        above = special.ndtr((eta - target) / aux) if direction == "at_least" else special.ndtr((target - eta) / aux)
        if bounds is None:
            return above
        low, high = bounds
        if direction == "at_least":
            return np.zeros_like(above) if target > high else (np.ones_like(above) if target <= low else above)
        return np.ones_like(above) if target >= high else (np.zeros_like(above) if target < low else above)

    def simulate(self, rng: np.random.Generator, eta: np.ndarray, aux: np.ndarray | None, extra: np.ndarray | None, bounds: tuple[float, float] | None) -> np.ndarray:
        """Outcomes drawn from the family (censored at the bounds for the censored Normal)."""
        draws = self.distribution(eta, aux, extra).rvs(random_state=rng)
        if self.name == "censored_normal" and bounds is not None:
            draws = np.clip(draws, *bounds)
        return np.asarray(draws, dtype=float)

    def expected(self, eta: np.ndarray, aux: np.ndarray | None, extra: np.ndarray | float | None) -> np.ndarray:
        """Expected outcome on its own scale (shares and rates per unit of trials or exposure)."""
        if self.name in ("normal", "censored_normal"):
            return eta
        if self.name in ("bernoulli", "binomial", "beta"):
            return special.expit(eta)
        if self.name == "lognormal":
            return np.exp(eta + (0.0 if aux is None else aux) ** 2 / 2)
        return np.exp(eta)


def _censored_normal(mu, sigma, y: np.ndarray, bounds: tuple[float, float], model: pm.Model) -> None:
    """Normal censored at the bounds, split by row: the same likelihood as ``pm.Censored`` on every row.

    Rows strictly inside the scale contribute the Normal density (``y``, dims
    ``row_inside``); rows at a bound the probability of lying at or beyond it
    (``y_at_bound``). ``pm.Censored`` evaluates both CDF terms on every row,
    which makes the gradient about three times as costly when, as usual, few
    rows sit at a bound.
    """
    low, high = bounds
    inside = np.flatnonzero((y > low) & (y < high))
    at_bound = np.flatnonzero((y <= low) | (y >= high))
    model.add_coord("row_inside", inside)
    pm.Normal("y", mu[inside], sigma, observed=y[inside], dims="row_inside")
    if len(at_bound):
        model.add_coord("row_at_bound", at_bound)
        pm.Censored("y_at_bound", pm.Normal.dist(mu[at_bound], sigma), lower=low, upper=high, observed=y[at_bound], dims="row_at_bound")


def _log_exposure(extra: np.ndarray | None):
    return 0.0 if extra is None else np.log(extra)


FAMILIES: dict[str, Family] = {
    "censored_normal": Family("censored_normal", "identity", "sigma", None, "finite scores (values at the scale's bounds are read as 'at or beyond')"),
    "normal": Family("normal", "identity", "sigma", None, "finite numbers"),
    "bernoulli": Family("bernoulli", "logit", None, None, "0 or 1"),
    "binomial": Family("binomial", "logit", None, "trials", "whole numbers from 0 to the trials column"),
    "poisson": Family("poisson", "log", None, "exposure", "whole numbers 0 or more"),
    "negative_binomial": Family("negative_binomial", "log", "alpha", "exposure", "whole numbers 0 or more"),
    "lognormal": Family("lognormal", "identity", "sigma", None, "positive numbers"),
    "gamma": Family("gamma", "log", "shape", None, "positive numbers"),
    "beta": Family("beta", "logit", "phi", None, "shares strictly between 0 and 1"),
}


def family(name: str) -> Family:
    """The family called ``name``.

    Parameters
    ----------
    name
        One of :data:`FAMILIES`.

    Returns
    -------
    Family
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise SpecificationError(f"family={name!r}; choose one of {sorted(FAMILIES)}") from None
