"""Results of :func:`bstate_stats.hierarchical`: parameters, effects and target probabilities from the posterior draws.

Everything here reads the InferenceData (posterior, constant_data, attrs), so a
posterior saved with :meth:`HierarchicalResults.save` reloads into the same object.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import arviz as az
import numpy as np
import pandas as pd

from bstate_stats.diagnostics.convergence import DiagnosticsReport, check_convergence
from bstate_stats.errors import SpecificationError
from bstate_stats.io.atomic import write_atomic
from bstate_stats.models.hierarchical.build import checked_parameters
from bstate_stats.models.hierarchical.estimands import ESTIMAND_LABELS, NEW_TEAM_ORIGIN, Estimand, Level, Setting, hdi
from bstate_stats.models.hierarchical.families import Direction, family
from bstate_stats.models.hierarchical.predict import Draws, linear_predictor
from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.models.hierarchical.spec import HierarchicalSpec
from bstate_stats.models.hierarchical.stored import read_attrs
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.results.base import Results
from bstate_stats.schema.words import words_for

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

BAYES_COLUMNS = ["term", "mean", "sd", "hdi_low", "hdi_high", "r_hat", "ess_bulk"]
SUMMARY_VARS = ("effects", "intercept", "team_sd", "team_slope_sd", "region_sd", "region_slope_sd", "region_intercept_offset", "period_sd", "sigma", "alpha", "shape", "phi")
CONSTANT_ARRAYS = ("y", "x", "x_raw", "team_idx", "period_idx", "team_region_idx", "extra")


class HierarchicalResults(Results):
    """Posterior of the hierarchical model, its diagnostics and the estimands.

    Attributes
    ----------
    idata
        ArviZ InferenceData (posterior, sample_stats, constant_data; provenance in attrs).
    diagnostics
        :class:`~bstate_stats.diagnostics.convergence.DiagnosticsReport`, computed at fit time.
    ledger
        Rows excluded before fitting.
    """

    def __init__(self, idata: az.InferenceData, spec: HierarchicalSpec, priors: Priors, meta: dict, ledger: ExclusionLedger, diagnostics: DiagnosticsReport, model=None) -> None:
        self.idata = idata
        self.spec = spec
        self.priors = priors
        self.meta = meta
        self.ledger = ledger
        self.diagnostics = diagnostics
        self.model = model
        self.family = family(spec.family)
        self._setting: Setting | None = None

    # -- basics ------------------------------------------------------------------
    @property
    def converged(self) -> bool:
        return self.diagnostics.converged

    @property
    def title(self) -> str:
        flag = "" if self.converged else "  [NOT CONVERGED: do not use]"
        return f"Hierarchical model of {self.spec.outcome} ({self.spec.family}, {self.spec.sampler}){flag}"

    @property
    def credible_level(self) -> float:
        """The probability of every credible interval (``level`` always means a level of the hierarchy)."""
        return self.spec.credible_level

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The model's data, as stored with the posterior."""
        data = self.idata.constant_data  # type: ignore[attr-defined]
        return {name: data[f"bstate_{name}"].to_numpy() for name in CONSTANT_ARRAYS if f"bstate_{name}" in data}

    @property
    def setting(self) -> Setting:
        if self._setting is None:
            self._setting = Setting(Draws.from_posterior(self.idata.posterior, self.meta, self.family.aux), self.meta, self.arrays, self.family)  # type: ignore[attr-defined]
        return self._setting

    def draws(self, name: str) -> np.ndarray:
        """Posterior draws of ``name`` with chains and draws stacked into the first axis."""
        values = self.idata.posterior[name]  # type: ignore[attr-defined]
        return values.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()

    def summary(self) -> pd.DataFrame:
        """Parameters in reporting units: ``term, mean, sd, hdi_low, hdi_high, r_hat, ess_bulk``.

        Effects (``effects[driver]``) are on the link scale (points for scores,
        log-odds for shares, log rate for counts) per +10 index points (per +1
        for other drivers); spreads and the intercept in outcome units on the link scale.
        """
        names = [v for v in SUMMARY_VARS if v in self.idata.posterior]  # type: ignore[attr-defined]
        table = az.summary(self.idata, var_names=names, hdi_prob=self.credible_level, round_to="none")
        low, high = [c for c in table.columns if c.startswith("hdi_")][:2]
        out = table.rename(columns={low: "hdi_low", high: "hdi_high"}).rename_axis("term").reset_index()  # type: ignore[arg-type]
        return out[BAYES_COLUMNS]

    def notes(self) -> list[str]:
        regions = {"partial_pooling": "regions partially pooled (their spread estimated)", "fixed": "regions with their own intercepts (too few to estimate a spread)", "none": "one region"}
        lines = [
            f"Convergence: {self.diagnostics.message()}",
            f"N = {self.ledger.n_kept} rows, {len(self.meta['teams'])} teams, {len(self.meta['regions'])} regions ({regions[self.meta['region_effects']]}); excluded {self.ledger.n_excluded} of {self.ledger.n_input}",
            f"Slopes varying by team: {', '.join(self.meta['varying']) or 'none'}; period effects {'on' if self.spec.period_effects else 'off'}",
            f"{self.credible_level:.0%} highest-density intervals; seed {self.spec.random_seed}; sampler {self.spec.sampler}, target_accept {self.spec.target_accept:g}" + (f" (drawn again: {self.meta['first_attempt']['divergences']} divergent transition(s) at {self.meta['first_attempt']['target_accept']:g})" if "first_attempt" in self.meta else ""),
            "Team effects " + ", ".join(f"{k} {v}" for k, v in self.meta["team_effects"].items()) + " (sampler geometry only; same model)",
        ]
        return lines

    def estimand_note(self) -> str:
        """What the two estimands mean for this fit: who "teams" are, and where a "new team" comes from (it depends on the region structure)."""
        where = NEW_TEAM_ORIGIN[self.meta["region_effects"]]
        return (
            "Estimands: 'teams' is the average over this organisation's teams, each from its latest period, if every team's driver rises; "
            f"'new_team' is a new team {where}, at the average latest drivers: what a rollout to new sites can expect."
        )

    # -- effects ---------------------------------------------------------------
    def _driver(self, driver: str | None) -> int:
        if driver is None:
            return 0
        if driver not in self.meta["drivers"]:
            raise SpecificationError(f"driver {driver!r} is not in this fit (drivers: {self.meta['drivers']})")
        return self.meta["drivers"].index(driver)

    def effects(self, level: Level = "population", *, driver: str | None = None, estimand: Estimand = "teams") -> pd.DataFrame:
        """Effect of +1 unit of a driver (+10 points for 0-100 indices) on the link scale, per unit of ``level``.

        Parameters
        ----------
        level
            ``"population"``, ``"region"`` or ``"team"``.
        driver
            Driver name (default: the first).
        estimand
            ``"teams"``: the average slope of this organisation's teams (of the
            region); ``"new_team"``: the expected slope of a new team there.

        Returns
        -------
        pandas.DataFrame
            ``level, unit, estimand, mean, sd, hdi_low, hdi_high``.
        """
        draws, names = self.setting.effect_draws(level, estimand, self._driver(driver))
        return self._describe(draws, names, level, estimand if level != "team" else "team")

    def habit_effects(self, level: Level = "population") -> pd.DataFrame:
        """Effect of the first driver (the habit index), per +10 points, averaged over this organisation's teams.

        Parameters
        ----------
        level
            ``"population"``, ``"region"`` or ``"team"``.

        Returns
        -------
        pandas.DataFrame
        """
        return self.effects(level)

    def _describe(self, draws: np.ndarray, units: list[str], level: str, estimand: str) -> pd.DataFrame:
        rows = []
        for k, unit in enumerate(units):
            low, high = hdi(draws[:, k], self.credible_level)
            rows.append({"level": level, "unit": unit, "estimand": estimand, "mean": float(np.mean(draws[:, k])), "sd": float(np.std(draws[:, k])), "hdi_low": low, "hdi_high": high})
        return pd.DataFrame(rows)

    # -- target probabilities ----------------------------------------------------
    def _target(self, target: float | None, direction: Direction | None) -> tuple[float, Direction]:
        return (self.spec.target if target is None else float(target)), (direction or self.spec.direction)

    def prob_target(
        self, target: float | None = None, *, change: float = 0.0, level: Level = "population", estimand: Estimand = "teams", driver: str | None = None, direction: Direction | None = None
    ) -> pd.DataFrame:
        """Posterior of P(outcome meets the target) in a period after a driver rises by ``change`` points.

        Parameters
        ----------
        target
            Target on the outcome's scale (default: the fit's, e.g. 8.0 points, or 0.05 for a 5% churn share).
        change
            Points added to the driver (capped at the top of its scale).
        level, estimand
            Where, and for whom (see :mod:`~bstate_stats.models.hierarchical.estimands`).
        driver
            Driver that changes (default: the first).
        direction
            ``"at_least"`` (satisfaction >= 8.0) or ``"at_most"`` (churn <= 5%); default the fit's.

        Returns
        -------
        pandas.DataFrame
            ``level, unit, estimand, change, mean, hdi_low, hdi_high, current``; draws in ``.attrs["draws"]``.
        """
        target, direction = self._target(target, direction)
        j = self._driver(driver)
        units = self.setting.units(level)
        probs = np.column_stack([self.setting.prob(u, estimand if level != "team" else "teams", j, float(change), target, direction) for u in units])
        table = self._describe(probs, [u.name for u in units], level, estimand if level != "team" else "team").drop(columns="sd")
        table.insert(3, "change", change)
        table["current"] = [float(self.arrays["x_raw"][u.rows, j].mean()) for u in units]
        table["target"], table["direction"] = target, direction
        table.attrs["draws"] = probs
        return table

    def prob_above(self, threshold: float | None = None, habit_change: float = 0.0, level: Level = "population") -> pd.DataFrame:
        """P(outcome >= threshold) after the first driver rises by ``habit_change`` (see :meth:`prob_target`).

        Parameters
        ----------
        threshold, habit_change, level
            As ``target``, ``change`` and ``level`` of :meth:`prob_target`.

        Returns
        -------
        pandas.DataFrame
        """
        table = self.prob_target(threshold, change=habit_change, level=level, direction="at_least")
        return table.rename(columns={"change": "habit_change", "current": "current_habit"})

    def prob_curve(self, changes: np.ndarray | None = None, *, target: float | None = None, level: Level = "population", estimand: Estimand = "teams") -> pd.DataFrame:
        """P(outcome meets the target) against the change of the first driver (mean and interval per change and unit).

        Parameters
        ----------
        changes
            Changes to evaluate (default 0 to 40 points).
        target, level, estimand
            As for :meth:`prob_target`.

        Returns
        -------
        pandas.DataFrame
        """
        changes = np.linspace(0, 40, 41) if changes is None else np.asarray(changes, dtype=float)
        tables = [self.prob_target(target, change=float(c), level=level, estimand=estimand) for c in changes]
        for table in tables:
            table.attrs = {}
        return pd.concat(tables, ignore_index=True).rename(columns={"change": "habit_change"})

    def required_change(
        self, prob: float = 0.8, *, target: float | None = None, level: Level = "population", estimand: Estimand = "teams", driver: str | None = None, direction: Direction | None = None
    ) -> pd.DataFrame:
        """Driver improvement needed for P(outcome meets the target) to reach ``prob``.

        ``required_change`` solves mean posterior P(change) = prob, so that
        :meth:`prob_target` at that change has mean ``prob``; the interval is
        that of the per-draw solutions. When the target cannot be reached
        before the top of the driver's scale, ``reachable`` is False and
        ``required_change`` is missing; ``share_reachable`` is the posterior
        probability that it can be.

        Parameters
        ----------
        prob
            Target probability, strictly between 0 and 1.
        target, level, estimand, driver, direction
            As for :meth:`prob_target`.

        Returns
        -------
        pandas.DataFrame
            One row per unit.
        """
        if not 0 < prob < 1:
            raise SpecificationError(f"prob={prob}; a target probability strictly between 0 and 1")
        target, direction = self._target(target, direction)
        j, rows = self._driver(driver), []
        for unit in self.setting.units(level):
            chosen = estimand if level != "team" else "teams"
            change, per_draw, room = self.setting.required_change(unit, chosen, j, target, direction, prob)
            reachable = per_draw <= room
            low, high = hdi(per_draw[reachable], self.credible_level) if np.isfinite(change) and reachable.any() else (float("nan"), float("nan"))
            note = "already at or above the target probability" if change == 0 else ("" if np.isfinite(change) else f"not reachable within the scale (at most +{room:.1f} points left)")
            rows.append(
                {
                    "level": level, "unit": unit.name, "estimand": chosen, "required_change": change, "hdi_low": low, "hdi_high": high, "share_reachable": float(np.mean(reachable)),
                    "reachable": bool(np.isfinite(change)), "current": float(self.arrays["x_raw"][unit.rows, j].mean()), "target_prob": prob, "target": target, "direction": direction, "note": note,
                }
            )
        return pd.DataFrame(rows)

    def required_habit_change(self, threshold: float | None = None, prob: float = 0.8, level: Level = "population") -> pd.DataFrame:
        """Habit improvement needed for P(outcome >= threshold) to reach ``prob`` (see :meth:`required_change`).

        Parameters
        ----------
        threshold, prob, level
            As ``target``, ``prob`` and ``level`` of :meth:`required_change`.

        Returns
        -------
        pandas.DataFrame
        """
        return self.required_change(prob, target=threshold, level=level, direction="at_least").rename(columns={"current": "current_habit", "target": "threshold"})

    # -- predictive checks -------------------------------------------------------
    def posterior_predictive(self, n_draws: int = 200, seed: int = 0) -> np.ndarray:
        """Replicated outcomes (draws x rows) from the family, for the posterior predictive check.

        Parameters
        ----------
        n_draws
            Posterior draws used.
        seed
            Seed of the replication.

        Returns
        -------
        numpy.ndarray
        """
        rng, setting = np.random.default_rng(seed), self.setting
        take = rng.choice(setting.draws.n, size=min(n_draws, setting.draws.n), replace=False)
        draws = Draws(*(None if v is None else v[take] for v in vars(setting.draws).values()))  # type: ignore[arg-type]
        arrays, aux = self.arrays, (draws.aux[:, None] if draws.aux is not None else None)
        eta = linear_predictor(draws, self.meta, arrays["x"], arrays["team_idx"], arrays["period_idx"])
        return self.family.simulate(rng, eta, aux, arrays.get("extra"), self.meta["bounds"])

    # -- plots and the contract ----------------------------------------------------
    def plot_effects(self, level: Level = "region") -> Figure:
        from bstate_stats.plots.bayes import plot_effects

        return plot_effects(self.effects(level), population=self.effects("population"), unit=self.meta["driver_unit"][0], outcome=_noun(self.spec.outcome), driver=_noun(self.meta["drivers"][0]))

    def plot_ppc(self) -> Figure:
        from bstate_stats.plots.bayes import plot_ppc

        arrays, spec = self.arrays, self.spec
        return plot_ppc(arrays["y"], self.posterior_predictive(), threshold=spec.target, period_idx=arrays["period_idx"], periods=self.meta["periods"], outcome=_noun(spec.outcome), direction=spec.direction)

    def plot_prob_curve(self, level: Level = "population", prob: float = 0.8, *, curve: pd.DataFrame | None = None, required: pd.DataFrame | None = None) -> Figure:
        """P(outcome meets the target) against the first driver's change, with the change needed for ``prob`` (pass ``curve`` and ``required`` when already computed)."""
        from bstate_stats.plots.bayes import plot_prob_curve

        curve = self.prob_curve(level=level) if curve is None else curve
        required = self.required_change(prob, level=level) if required is None else required
        return plot_prob_curve(curve, required=required, threshold=self.spec.target, outcome=_noun(self.spec.outcome), direction=self.spec.direction, driver=_noun(self.meta["drivers"][0]))

    def plot(self) -> Figure:
        """Effects of the first driver by region with the organisation's interval."""
        return self.plot_effects("region")

    def sentence(self) -> str:
        row = self.effects("population").iloc[0]
        status = "converged" if self.converged else "NOT converged: do not use these numbers"
        return (
            f"Effect of +{self.meta['driver_unit'][0]:g} {_noun(self.meta['drivers'][0])} on {_noun(self.spec.outcome)}: {row['mean']:+.3f} ({ESTIMAND_LABELS['teams']}; "
            f"{self.credible_level:.0%} interval {row['hdi_low']:+.3f} to {row['hdi_high']:+.3f}; {self.diagnostics.message()}; {status})."
        )

    def headline(self) -> dict[str, Any]:
        row = self.effects("population").iloc[0]
        return {"effect": float(row["mean"]), "effect_low": float(row["hdi_low"]), "effect_high": float(row["hdi_high"]), "converged": self.converged}

    # -- persistence ---------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the InferenceData (with config, seed, versions and data hash in its attrs) as NetCDF, atomically.

        Parameters
        ----------
        path
            Target file.

        Returns
        -------
        pathlib.Path
        """
        return write_atomic(path, lambda p: self.idata.to_netcdf(str(p)))

    @classmethod
    def load(cls, path: str | Path) -> HierarchicalResults:
        """Read a saved posterior; convergence is checked again from the stored draws.

        Parameters
        ----------
        path
            A file written by :meth:`save`.

        Returns
        -------
        HierarchicalResults
        """
        try:
            idata = az.from_netcdf(str(path))
        except (OSError, ValueError) as exc:
            raise SpecificationError(f"{path}: cannot read a posterior from it ({exc})") from exc
        spec, priors, meta, ledger = read_attrs(idata, str(path))
        return cls(idata, spec, priors, meta, ledger, check_convergence(idata, checked_parameters(list(idata.posterior.data_vars)), warn=False))


def _noun(column: str) -> str:  # how figures and sentences name a column: its schema label ("satisfaction"), else its name in words
    return words_for(column, "numeric").noun
