"""Simulation-based calibration (SBC) of the hierarchical model on the user's own panel.

Parameters are drawn from the priors, outcomes simulated from them on the
panel's own structure (teams, regions, periods, drivers, trials or
exposure), and the model refitted to each simulated outcome. If the engine
is right, the rank of each true value among its posterior draws is uniform
(Talts et al. 2018). The model is compiled once and refitted with new data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats
from tqdm.auto import tqdm

from bstate_stats.diagnostics.convergence import check_convergence
from bstate_stats.errors import SpecificationError
from bstate_stats.models.hierarchical.build import build_model, checked_parameters
from bstate_stats.models.hierarchical.design import prepare_data
from bstate_stats.models.hierarchical.families import Direction, FamilyName
from bstate_stats.models.hierarchical.families import family as family_of
from bstate_stats.models.hierarchical.fit import with_retry
from bstate_stats.models.hierarchical.geometry import period_parameterisation, team_parameterisation
from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.models.hierarchical.spec import HierarchicalSpec, RegionEffects
from bstate_stats.panel.panel import Panel
from bstate_stats.results.base import Results

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

CHECKED = ("intercept", "effects_std", "team_sd", "team_slope_sd", "region_sd", "period_sd", "sigma", "alpha", "shape", "phi")
RANK_DRAWS = 99  # thinned posterior draws per fit: ranks run 0-99
P_VALUE_MIN = 0.01


@dataclass
class CalibrationResults(Results):
    """Ranks of the true parameters among posterior draws over simulated datasets, and the verdict.

    Attributes
    ----------
    ranks
        One row per simulation and parameter: ``simulation, parameter, truth, rank, converged, drawn_again``
        (``drawn_again``: the first attempt had divergent transitions and the refit was drawn again at
        target_accept 0.95, as a user's fit would be); a refit that could not start (no finite starting
        point) is one row with rank -1 and its ``error``.
    n_draws
        Thinned posterior draws per fit (ranks run from 0 to ``n_draws``).
    """

    ranks: pd.DataFrame
    n_draws: int
    family: str

    @property
    def ranked(self) -> pd.DataFrame:
        """The ranks of the refits that ran (those that could not start are counted as unconverged, with no rank)."""
        return self.ranks[self.ranks["rank"] >= 0]

    @property
    def title(self) -> str:
        return f"Simulation-based calibration ({self.family}, {self.ranks['simulation'].nunique()} simulated datasets)"

    def summary(self, credible_level: float = 0.9) -> pd.DataFrame:
        """Per parameter: the rank-uniformity test and the coverage of central intervals.

        Parameters
        ----------
        credible_level
            Probability of the central (equal-tailed) interval whose coverage is read from the ranks. The results'
            tables show highest-density intervals; for skewed parameters (spreads) the two differ.

        Returns
        -------
        pandas.DataFrame
            ``parameter, simulations, chi2, p_value, mean_rank_share, coverage, ok``: ``ok`` when the ranks are
            uniform (chi-square p >= 0.01); ``coverage`` the share of simulations whose true value lies in the central
            ``credible_level`` interval of its posterior draws (a calibrated engine: ``credible_level`` up to binomial noise).
        """
        if not 0 < credible_level < 1:
            raise SpecificationError(f"credible_level={credible_level!r}; give a probability between 0 and 1, e.g. 0.9")
        rows = []
        bins = max(4, min(20, self.ranks["simulation"].nunique() // 5))
        tail = (1 - credible_level) / 2 * self.n_draws
        for parameter, block in self.ranked.groupby("parameter", sort=False):
            counts = np.histogram(block["rank"], bins=bins, range=(0, self.n_draws + 1))[0]
            chi2, p_value = stats.chisquare(counts)
            inside = block["rank"].between(tail, self.n_draws - tail)
            rows.append(
                {"parameter": parameter, "simulations": len(block), "chi2": float(chi2), "p_value": float(p_value), "mean_rank_share": float(block["rank"].mean() / self.n_draws),
                 "coverage": float(inside.mean()), "ok": bool(p_value >= P_VALUE_MIN)}
            )
        return pd.DataFrame(rows)

    @property
    def calibrated(self) -> bool:
        return bool(self.summary()["ok"].all())

    def sentence(self) -> str:
        table = self.summary()
        failed = table.loc[~table["ok"], "parameter"].tolist()
        share = self.ranks.drop_duplicates("simulation")["converged"].mean()
        verdict = "calibrated: the ranks of every parameter are uniform" if not failed else f"NOT calibrated: ranks of {', '.join(failed)} are not uniform"
        failed_start = int((self.ranks["rank"] < 0).sum())
        could_not = f"; {failed_start} could not start (no finite starting point)" if failed_start else ""
        again = int(self.ranks.drop_duplicates("simulation")["drawn_again"].sum()) if "drawn_again" in self.ranks else 0
        drawn_again = f"; {again} drawn again at target_accept 0.95 after divergent transitions" if again else ""
        return f"{self.title}: {verdict} (chi-square p >= {P_VALUE_MIN}); {share:.0%} of the fits passed their convergence checks{drawn_again}{could_not}."

    def headline(self) -> dict[str, Any]:
        return {"calibrated": self.calibrated, "simulations": int(self.ranks["simulation"].nunique())}

    def plot(self) -> Figure:
        """Rank histograms per parameter with the 99% band of a uniform histogram."""
        from bstate_stats.plots.bayes import plot_ranks

        return plot_ranks(self.ranked, n_draws=self.n_draws)


def calibrate(
    panel: Panel,
    outcome: str = "csat",
    drivers: Sequence[str] = ("habit_index",),
    *,
    family: FamilyName = "censored_normal",
    varying: Sequence[str] | None = None,
    period_effects: bool = True,
    trials: str | None = None,
    exposure: str | None = None,
    region_effects: RegionEffects = "auto",
    priors: Priors | Mapping[str, float] | None = None,
    simulations: int = 100,
    chains: int = HierarchicalSpec.chains,
    draws: int = HierarchicalSpec.draws,
    tune: int = HierarchicalSpec.tune,
    target_accept: float = HierarchicalSpec.target_accept,
    random_seed: int = 0,
    target: float = HierarchicalSpec.target,
    direction: Direction = "at_least",
    progress: bool = True,
) -> CalibrationResults:
    """Check the model on the panel's own structure by simulation-based calibration.

    Parameters
    ----------
    panel, outcome, drivers, family, varying, period_effects, trials, exposure, region_effects, priors
        The model to check, as for :func:`~bstate_stats.models.hierarchical.hierarchical`.
    simulations
        Simulated datasets (100 or more for a verdict worth reading).
    chains, draws, tune, target_accept
        NUTS settings of each refit (nutpie); by default the engine's own (4 x 2000 after 1000), so
        each refit is checked as a user's fit is. Lighter settings fail those checks for want of
        draws, not for a fault of the model: on a binomial 4 x 6 x 12 panel, 2 chains x 500 draws
        passed 0 of 4 refits (minimum ESS 150-250), 4 x 1000 passed 5 of 6, 4 x 2000 all 6 (about 6 s a refit).
    random_seed
        Seed of everything: one :class:`numpy.random.SeedSequence` gives the prior draws and each fit's seed.
    target, direction
        Recorded with the specification (not used by the check).
    progress
        Show a progress bar over the fits.

    Returns
    -------
    CalibrationResults
    """
    spec = HierarchicalSpec(
        outcome, tuple(drivers), random_seed, family=family, varying=None if varying is None else tuple(varying), period_effects=period_effects, trials=trials,
        exposure=exposure, region_effects=region_effects, chains=chains, draws=draws, tune=tune, target_accept=target_accept, target=target, direction=direction,
    )
    arrays, meta, _ = prepare_data(panel, spec)
    prior_priors = Priors.from_mapping(priors)
    model = build_model(arrays, meta, spec, prior_priors, observed_as_data=True)
    prior_seed, *fit_seeds = (int(s.generate_state(1)[0]) for s in np.random.SeedSequence(random_seed).spawn(simulations + 1))
    prior = pm.sample_prior_predictive(draws=simulations, model=model, random_seed=prior_seed)
    variants = _Variants(arrays, meta, spec, prior_priors)
    return CalibrationResults(pd.DataFrame(_refit_all(variants, prior, spec, fit_seeds, progress)), RANK_DRAWS, family)


class _Variants:
    """The compiled model for each geometry the simulated datasets call for, compiled once each.

    A user's fit chooses centred or non-centred effects from its data (``team_effects="auto"``); the
    datasets drawn from the priors differ far more than real panels do (a team spread near zero in one,
    large in the next), so each refit takes the geometry its own simulated outcome calls for, as a user's
    fit of that outcome would: the check is of the engine as it is run.
    """

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict, spec: HierarchicalSpec, priors: Priors) -> None:
        self.arrays, self.meta, self.spec, self.priors = arrays, meta, spec, priors
        self.compiled: dict[str, Any] = {}

    def for_outcome(self, y: np.ndarray) -> Any:
        """The compiled model whose geometry suits the simulated outcome ``y``, with ``y`` as its data."""
        import nutpie

        if self.spec.family == "beta":  # a share drawn from the prior can round to exactly 0 or 1 in floating point: the nearest share inside
            y = np.clip(y, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))
        fam = family_of(self.spec.family)
        working, weight = fam.working(y, self.arrays.get("extra")), fam.working_weight(y, self.arrays.get("extra"))
        geometry: dict[str, Any] = {"team_effects": team_parameterisation(self.arrays, working, self.meta, self.spec.team_effects, weight=weight)}
        if self.meta["period_effects"] != "none":
            geometry["period_effects"] = period_parameterisation(self.arrays, working, self.spec.team_effects, weight=weight)
        key = json.dumps(geometry, sort_keys=True)
        if key not in self.compiled:
            self.compiled[key] = nutpie.compile_pymc_model(build_model(self.arrays, self.meta | geometry, self.spec, self.priors, observed_as_data=True))
        return self.compiled[key].with_data(y_observed=y)


def _refit_all(variants: _Variants, prior, spec: HierarchicalSpec, seeds: list[int], progress: bool) -> list[dict]:
    """Refit to every simulated outcome (each geometry compiled once), and rank the truth among each posterior's draws."""
    import nutpie

    simulated = prior.prior_predictive["y"].to_numpy().reshape(len(seeds), -1)
    rows = []
    for k in tqdm(range(len(seeds)), desc="calibration fits", disable=not progress):
        model = variants.for_outcome(simulated[k])
        try:
            idata, first_attempt = with_retry(lambda target_accept: nutpie.sample(model, draws=spec.draws, tune=spec.tune, chains=spec.chains, seed=seeds[k], progress_bar=False, target_accept=target_accept), spec.target_accept)
        except RuntimeError as exc:  # no finite starting point (an extreme draw from the priors): counted as a failed fit, its ranks unknown
            rows.append({"simulation": k, "parameter": "", "truth": np.nan, "rank": -1, "converged": False, "drawn_again": False, "error": str(exc).splitlines()[0]})
            continue
        converged = check_convergence(idata, checked_parameters(list(idata.posterior.data_vars)), warn=False).converged
        rows += [row | {"drawn_again": first_attempt is not None} for row in _ranks(prior.prior, idata.posterior, k, converged)]
    return rows


def _ranks(prior, posterior, k: int, converged: bool) -> list[dict]:
    """Rank of each checked scalar's true value among thinned posterior draws."""
    rows = []
    for name in CHECKED:
        if name not in posterior:
            continue
        truth = prior[name].isel(chain=0, draw=k).to_numpy().ravel()
        draws = posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy().reshape(-1, truth.size)
        thinned = draws[np.linspace(0, len(draws) - 1, RANK_DRAWS).astype(int)]
        labels = [name] if truth.size == 1 else [f"{name}[{i}]" for i in range(truth.size)]
        rows += [{"simulation": k, "parameter": label, "truth": float(truth[i]), "rank": int((thinned[:, i] < truth[i]).sum()), "converged": converged} for i, label in enumerate(labels)]
    return rows
