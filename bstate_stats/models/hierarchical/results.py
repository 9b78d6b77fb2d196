"""Results of :func:`bstate_stats.hierarchical`: estimands computed from the posterior draws.

Everything here reads the InferenceData (posterior, constant_data, attrs), so a
posterior saved with :meth:`HierarchicalResults.save` reloads into the same object.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import arviz as az
import numpy as np
import pandas as pd
from scipy import optimize, stats

from bstate_stats.diagnostics.convergence import DiagnosticsReport, check_convergence
from bstate_stats.errors import SpecificationError, renamed_keywords
from bstate_stats.io.atomic import write_atomic
from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.models.hierarchical.spec import HierarchicalSpec
from bstate_stats.panel.ledger import ExclusionLedger, LedgerEntry
from bstate_stats.results.base import Results

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

Level = Literal["population", "region", "team"]
SCORE_BOUNDS = (0.0, 10.0)  # satisfaction scores are censored at these bounds
BAYES_COLUMNS = ["term", "mean", "sd", "hdi_low", "hdi_high", "r_hat", "ess_bulk"]
SUMMARY_VARS = ("habit_effect", "region_habit_effect", "other_effects", "intercept", "sigma", "team_intercept_sd", "region_intercept_sd", "period_sd", "revenue_lift")


def _hdi(draws: np.ndarray, level: float) -> tuple[float, float]:
    finite = draws[np.isfinite(draws)]
    if len(finite) < 2:
        return float("nan"), float("nan")
    low, high = az.hdi(finite, hdi_prob=level)
    return float(low), float(high)


class HierarchicalResults(Results):
    """Posterior of the hierarchical model, its diagnostics and the estimands.

    Attributes
    ----------
    idata
        ArviZ InferenceData (posterior, sample_stats, observed_data, constant_data; provenance in attrs).
    diagnostics
        :class:`~bstate_stats.diagnostics.convergence.DiagnosticsReport`, computed at fit time.
    ledger
        Rows excluded before fitting.
    """

    def __init__(self, idata: az.InferenceData, spec, priors, meta: dict, ledger: ExclusionLedger, diagnostics: DiagnosticsReport, model=None) -> None:
        self.idata = idata
        self.spec = spec
        self.priors = priors
        self.meta = meta
        self.ledger = ledger
        self.diagnostics = diagnostics
        self.model = model

    # -- basics ------------------------------------------------------------------
    @property
    def converged(self) -> bool:
        return self.diagnostics.converged

    @property
    def title(self) -> str:
        flag = "" if self.converged else "  [NOT CONVERGED: do not use]"
        return f"Hierarchical model of {self.spec.outcome} ({self.spec.likelihood} likelihood, {self.spec.sampler}){flag}"

    @property
    def credible_level(self) -> float:
        """The probability of every credible interval (``level`` always means a level of the hierarchy)."""
        return self.spec.credible_level

    def draws(self, name: str) -> np.ndarray:
        """Posterior draws of ``name`` with chains and draws stacked into the first axis."""
        values = self.idata.posterior[name]  # type: ignore[attr-defined]
        return values.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()

    def _const(self, name: str) -> np.ndarray:
        return self.idata.constant_data[name].to_numpy()  # type: ignore[attr-defined]

    def summary(self) -> pd.DataFrame:
        """Key parameters in reporting units: ``term, mean, sd, hdi_low, hdi_high, r_hat, ess_bulk``.

        Effects are satisfaction points per +10 index points (per +1 for other drivers).
        """
        names = [v for v in SUMMARY_VARS if v in self.idata.posterior]  # type: ignore[attr-defined]
        table = az.summary(self.idata, var_names=names, hdi_prob=self.credible_level, round_to="none")
        low, high = [c for c in table.columns if c.startswith("hdi_")][:2]
        out = table.rename(columns={low: "hdi_low", high: "hdi_high"}).rename_axis("term").reset_index()  # type: ignore[arg-type]
        out["term"] = out["term"].map(self._label)
        return out[BAYES_COLUMNS]

    def _label(self, term: str) -> str:
        unit = f"per +{self.meta['habit_unit']:g} {self.meta['habit']}"
        if term == "habit_effect":
            return f"habit_effect ({unit})"
        if term.startswith("region_habit_effect["):
            return f"{term} ({unit})"
        return term

    def notes(self) -> list[str]:
        lines = [
            f"Convergence: {self.diagnostics.message()}",
            f"N = {self.ledger.n_kept} rows, {len(self.meta['teams'])} teams, {len(self.meta['regions'])} regions; excluded {self.ledger.n_excluded} of {self.ledger.n_input}",
            f"{self.credible_level:.0%} highest-density intervals; seed {self.spec.random_seed}; sampler {self.spec.sampler}",
        ]
        if "team_effects" in self.meta:
            lines.append(f"Team intercepts {self.meta['team_effects']['intercept']}, team habit slopes {self.meta['team_effects']['habit']} (sampler geometry only; same model)")
        if self.meta.get("revenue_excluded"):
            lines.append(f"Revenue model: {self.meta['revenue_excluded']} row(s) without positive revenue left out of the revenue part only")
        return lines

    # -- effects ---------------------------------------------------------------
    def habit_effects(self, level: Level = "population") -> pd.DataFrame:
        """Habit effect (points per +10 habit points) for the population, each region or each team."""
        name, units = {"population": ("habit_effect", ["population"]), "region": ("region_habit_effect", self.meta["regions"]), "team": ("team_habit_effect", self.meta["teams"])}[level]
        draws = self.draws(name).reshape(-1, len(units))
        return self._describe(draws, units, level)

    def _describe(self, draws: np.ndarray, units: list[str], level: str) -> pd.DataFrame:
        rows = []
        for k, unit in enumerate(units):
            low, high = _hdi(draws[:, k], self.credible_level)
            rows.append({"level": level, "unit": unit, "mean": float(np.mean(draws[:, k])), "sd": float(np.std(draws[:, k])), "hdi_low": low, "hdi_high": high})
        return pd.DataFrame(rows)

    # -- reference states --------------------------------------------------------
    def _last_rows(self) -> np.ndarray:
        """Index of each team's latest row."""
        team, period = self._const("team_idx"), self._const("period_idx")
        order = np.lexsort((period, team))
        last = np.zeros(len(self.meta["teams"]), dtype=int)
        last[team[order]] = order
        return last

    def _reference(self, level: Level) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Per unit: expected score now (draws x units), habit slope per standardised unit, current habit level."""
        last = self._last_rows()
        x_habit, x_other = self._const("x_habit"), self._const("x_other")
        habit_raw = self._const("habit_raw")
        gamma = self.draws("other_effects_std").reshape(-1, x_other.shape[1])
        delta = self.draws("period_effect")
        team_delta = delta[:, self._const("period_idx")[last]]
        team_other = gamma @ x_other[last].T
        if level == "team":
            a, b = self.draws("team_intercept"), self.draws("team_habit_effect_std")
            return self.meta["teams"], a + b * x_habit[last] + team_other + team_delta, b, habit_raw[last]
        latest = delta[:, [-1]]
        if level == "region":
            region_of = self._const("team_region_idx")
            a, b = self.draws("region_intercept"), self.draws("region_habit_effect_std")
            mu, current = [], []
            for r in range(len(self.meta["regions"])):
                members = region_of == r
                x = x_habit[last][members].mean()
                other = (gamma @ x_other[last][members].mean(axis=0)) if x_other.shape[1] else 0.0
                mu.append(a[:, r] + b[:, r] * x + other + latest[:, 0])
                current.append(habit_raw[last][members].mean())
            return self.meta["regions"], np.column_stack(mu), b, np.array(current)
        a, b = self.draws("intercept")[:, None], self.draws("habit_effect_std")[:, None]
        other = (gamma @ x_other[last].mean(axis=0))[:, None] if x_other.shape[1] else 0.0
        return ["population"], a + b * x_habit[last].mean() + other + latest, b, np.array([habit_raw[last].mean()])

    def _prob(self, mu: np.ndarray, b: np.ndarray, change: float, threshold: float) -> np.ndarray:
        """P(score >= threshold) for a score censored at its bounds: 0 above the top, 1 at or below the bottom."""
        sigma = self.draws("sigma")[:, None]
        low, high = SCORE_BOUNDS
        shape = np.broadcast_shapes(mu.shape, b.shape, sigma.shape)
        if threshold > high:
            return np.zeros(shape)
        if threshold <= low:
            return np.ones(shape)
        return stats.norm.sf(threshold, loc=mu + b * change / self.meta["habit_sd"], scale=sigma)

    # -- estimands ---------------------------------------------------------------
    def prob_above(self, threshold: float | None = None, habit_change: float = 0.0, level: Level = "population") -> pd.DataFrame:
        """Posterior of P(score >= threshold) in a period after the habit index rises by ``habit_change`` points.

        The reference state is each team's latest observed period (for a
        region or the population: the typical team there, random effects at
        zero, at the average latest habit and driver levels). The probability
        includes period-to-period noise (posterior predictive for a period).
        """
        threshold = self.spec.threshold if threshold is None else threshold
        units, mu, b, current = self._reference(level)
        probs = self._prob(mu, b, habit_change, threshold)
        table = self._describe(probs, units, level).drop(columns="sd")
        table.insert(2, "habit_change", habit_change)
        table["current_habit"] = current
        table.attrs["draws"] = probs
        return table

    def prob_curve(self, changes: np.ndarray | None = None, *, threshold: float | None = None, level: Level = "population") -> pd.DataFrame:
        """P(score >= threshold) against habit change (mean and interval per change and unit)."""
        changes = np.linspace(0, 40, 41) if changes is None else np.asarray(changes, dtype=float)
        tables = [self.prob_above(threshold, float(c), level) for c in changes]
        for table in tables:
            table.attrs = {}  # per-change draws are not carried into the curve
        return pd.concat(tables, ignore_index=True)

    def required_habit_change(self, threshold: float | None = None, prob: float = 0.8, level: Level = "population") -> pd.DataFrame:
        """Habit improvement needed for P(score >= threshold) to reach ``prob``.

        ``required_change`` solves mean posterior P(change) = prob, so that
        ``prob_above(habit_change=required_change)`` has mean ``prob``. The
        interval is that of the per-draw solutions. When the target cannot be
        reached before the top of the habit scale (100), ``reachable`` is
        False and ``required_change`` is missing; ``share_reachable`` is the
        posterior probability that it can be.
        """
        threshold = self.spec.threshold if threshold is None else threshold
        if not 0 < prob < 1:
            raise SpecificationError(f"prob={prob}; a target probability strictly between 0 and 1")
        units, mu, b, current = self._reference(level)
        per_draw = self._per_draw_change(mu, b, threshold, prob)
        rows = []
        for k, unit in enumerate(units):
            room = (self.meta["habit_scale_max"] - current[k]) if self.meta["habit_scale_max"] is not None else np.inf
            mean_gap = lambda c: float(np.mean(self._prob(mu[:, [k]], b[:, [k]], c, threshold))) - prob  # noqa: E731
            note = ""
            if mean_gap(0.0) >= 0:
                change, note = 0.0, "already at or above the target probability"
            elif np.isfinite(room) and mean_gap(room) < 0:
                change, note = float("nan"), f"not reachable within the habit scale (at most +{room:.1f} points left)"
            else:
                upper = room if np.isfinite(room) else 1000.0
                change = float(optimize.brentq(mean_gap, 0.0, upper, xtol=1e-6)) if mean_gap(upper) >= 0 else float("nan")
                if not np.isfinite(change):
                    note = "not reachable"
            draws = np.maximum(per_draw[:, k], 0.0)
            reachable_draws = draws <= room
            low, high = _hdi(draws[reachable_draws], self.credible_level) if np.isfinite(change) and reachable_draws.any() else (float("nan"), float("nan"))
            rows.append({"level": level, "unit": unit, "required_change": change, "hdi_low": low, "hdi_high": high, "share_reachable": float(np.mean(reachable_draws)), "reachable": bool(np.isfinite(change)), "current_habit": float(current[k]), "target_prob": prob, "threshold": threshold, "note": note})
        return pd.DataFrame(rows)

    def _per_draw_change(self, mu: np.ndarray, b: np.ndarray, threshold: float, prob: float) -> np.ndarray:
        """Per draw, the habit change at which that draw's P(score >= threshold) reaches ``prob`` (inf: never)."""
        low, high = SCORE_BOUNDS
        if threshold > high:
            return np.full(np.broadcast_shapes(mu.shape, b.shape), np.inf)
        if threshold <= low:
            return np.zeros(np.broadcast_shapes(mu.shape, b.shape))
        sigma = self.draws("sigma")[:, None]
        solved = (threshold + stats.norm.ppf(prob) * sigma - mu) / np.where(b > 0, b, 1.0) * self.meta["habit_sd"]
        already = stats.norm.sf(threshold, loc=mu, scale=sigma) >= prob
        return np.where(already, 0.0, np.where(b > 0, solved, np.inf))

    @renamed_keywords(level="by")
    def revenue_lift(self, habit_change: float = 10.0, *, by: Literal["organisation", "region", "team"] = "organisation", periods_per_year: int | None = None) -> pd.DataFrame:
        """Annual revenue lift when every team's habit index rises by ``habit_change`` points.

        For each row of the latest year and each posterior draw: the change in
        P(score >= threshold) times the row's revenue without the threshold
        premium, times ``exp(lambda) - 1``; summed ``by`` team, region or over
        the whole organisation and scaled to a year. Columns: ``mean, median, hdi_low,
        hdi_high, prob_positive``; draws in ``.attrs["draws"]``.
        """
        if "revenue_log_lift" not in self.idata.posterior:  # type: ignore[attr-defined]
            raise SpecificationError("this fit has no revenue model (fit with revenue='revenue')")
        ppy = periods_per_year or self.meta.get("periods_per_year")
        if ppy is None:
            raise SpecificationError("periods are integers: pass periods_per_year")
        period_idx, team_idx = self._const("period_idx"), self._const("team_idx")
        revenue = self._const("revenue")
        window_periods = np.unique(period_idx)[-ppy:]
        rows = np.flatnonzero(np.isin(period_idx, window_periods) & np.isfinite(revenue))
        a, b = self.draws("team_intercept"), self.draws("team_habit_effect_std")
        gamma = self.draws("other_effects_std").reshape(len(a), -1)
        delta = self.draws("period_effect")
        x_habit, x_other = self._const("x_habit")[rows], self._const("x_other")[rows]
        teams = team_idx[rows]
        mu = a[:, teams] + b[:, teams] * x_habit + gamma @ x_other.T + delta[:, period_idx[rows]]
        sigma = self.draws("sigma")[:, None]
        threshold = self.spec.threshold
        gain = stats.norm.sf(threshold, loc=mu + b[:, teams] * habit_change / self.meta["habit_sd"], scale=sigma) - stats.norm.sf(threshold, loc=mu, scale=sigma)
        lam = self.draws("revenue_log_lift")[:, None]
        above = (self._const("score")[rows] >= threshold)
        base = revenue[rows] / np.exp(lam * above)
        per_row = gain * base * np.expm1(lam) * ppy / len(window_periods)
        groups = {"organisation": (np.zeros(len(rows), dtype=int), ["organisation"]), "team": (teams, self.meta["teams"]), "region": (self._const("team_region_idx")[teams], self.meta["regions"])}[by]
        codes, units = groups
        totals = np.column_stack([per_row[:, codes == k].sum(axis=1) for k in range(len(units))])
        table = self._describe(totals, units, by).drop(columns="sd")
        table.insert(3, "median", np.median(totals, axis=0))
        table["prob_positive"] = np.mean(totals > 0, axis=0)
        table.insert(2, "habit_change", habit_change)
        table.attrs["draws"] = totals
        table.attrs["window"] = (self.meta["periods"][window_periods[0]], self.meta["periods"][window_periods[-1]])
        return table

    def posterior_predictive(self, n_draws: int = 200, seed: int = 0) -> np.ndarray:
        """Replicated scores (draws x rows) from the likelihood, censored at 0 and 10 when the model is."""
        rng = np.random.default_rng(seed)
        a, b = self.draws("team_intercept"), self.draws("team_habit_effect_std")
        take = rng.choice(len(a), size=min(n_draws, len(a)), replace=False)
        team, period = self._const("team_idx"), self._const("period_idx")
        gamma = self.draws("other_effects_std").reshape(len(a), -1)[take]
        mu = a[take][:, team] + b[take][:, team] * self._const("x_habit") + gamma @ self._const("x_other").T + self.draws("period_effect")[take][:, period]
        replicated = mu + self.draws("sigma")[take, None] * rng.standard_normal(mu.shape)
        return np.clip(replicated, 0, 10) if self.spec.likelihood == "censored" else replicated

    # -- plots -------------------------------------------------------------------
    def plot_effects(self, level: Level = "region") -> Figure:
        from bstate_stats.plots.bayes import plot_effects

        return plot_effects(self.habit_effects(level), population=self.habit_effects("population"), unit=self.meta["habit_unit"])

    def plot_ppc(self) -> Figure:
        from bstate_stats.plots.bayes import plot_ppc

        return plot_ppc(self._const("score"), self.posterior_predictive(), threshold=self.spec.threshold, period_idx=self._const("period_idx"), periods=self.meta["periods"])

    def plot_prob_curve(self, level: Level = "population", prob: float = 0.8) -> Figure:
        from bstate_stats.plots.bayes import plot_prob_curve

        return plot_prob_curve(self.prob_curve(level=level), required=self.required_habit_change(prob=prob, level=level), threshold=self.spec.threshold)

    def plot_revenue_lift(self, habit_change: float = 10.0) -> Figure:
        from bstate_stats.plots.bayes import plot_revenue_lift

        return plot_revenue_lift(self.revenue_lift(habit_change), habit_change=habit_change)

    # -- persistence ---------------------------------------------------------------
    def plot(self) -> Figure:
        """Habit effects by region with the population interval."""
        return self.plot_effects("region")

    def sentence(self) -> str:
        row = self.habit_effects("population").iloc[0]
        status = "converged" if self.converged else "NOT converged: do not use these numbers"
        return (
            f"Population habit effect {row['mean']:+.3f} per +{self.meta['habit_unit']:g} {self.spec.drivers[0]} "
            f"({self.credible_level:.0%} interval {row['hdi_low']:+.3f} to {row['hdi_high']:+.3f}; {self.diagnostics.message()}; {status})."
        )

    def headline(self) -> dict[str, Any]:
        row = self.habit_effects("population").iloc[0]
        return {"habit_effect": float(row["mean"]), "habit_effect_low": float(row["hdi_low"]), "habit_effect_high": float(row["hdi_high"]), "converged": self.converged}

    def save(self, path: str | Path) -> Path:
        """Write the InferenceData (with config, seed, versions and data hash in its attrs) as NetCDF, atomically."""
        return write_atomic(path, lambda p: self.idata.to_netcdf(str(p)))

    @classmethod
    def load(cls, path: str | Path) -> HierarchicalResults:
        """Read a saved posterior; convergence is checked again from the stored draws."""
        try:
            idata = az.from_netcdf(str(path))
        except (OSError, ValueError) as exc:
            raise SpecificationError(f"{path}: cannot read a posterior from it ({exc})") from exc
        attrs = idata.attrs
        missing = [k for k in ("bstate_spec", "bstate_meta", "bstate_data_hash") if k not in attrs]
        if missing:
            raise SpecificationError(f"{path}: not a bstate_stats posterior (attrs {missing} missing)")
        spec_raw = json.loads(attrs["bstate_spec"])
        spec_raw["drivers"] = tuple(spec_raw["drivers"])
        spec = HierarchicalSpec(**spec_raw)
        priors = Priors(**{f.name: json.loads(attrs["bstate_priors"])[f.name] for f in fields(Priors)})
        ledger_raw = json.loads(attrs["bstate_ledger"])
        ledger = ExclusionLedger(ledger_raw["n_input"], [LedgerEntry(e["reason"], tuple(tuple(r) for r in e["rows"])) for e in ledger_raw["entries"]])
        meta = json.loads(attrs["bstate_meta"])
        return cls(idata, spec, priors, meta, ledger, check_convergence(idata, warn=False))
