"""Revenue from the Bayesian engine: a revenue model of its own, and the habit -> P(satisfaction >= threshold) -> revenue chain over posterior draws.

The satisfaction model and the revenue model share no parameter, so each is
fitted and checked alone; the chain pairs their draws (independent posteriors:
any pairing of draws is a draw of the pair).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from bstate_stats.errors import SpecificationError
from bstate_stats.models.hierarchical import HierarchicalResults, hierarchical
from bstate_stats.models.hierarchical.estimands import hdi
from bstate_stats.models.revenue.estimate import revenue_panel
from bstate_stats.panel.panel import Panel
from bstate_stats.results.base import Results

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def bayesian_revenue(panel: Panel, *, satisfaction: str = "csat", threshold: float = 8.0, revenue: str = "revenue", random_seed: int, **options: Any) -> HierarchicalResults:
    r"""Bayesian model of log revenue with the satisfaction threshold as its driver.

    .. math:: \log R_{it} = \alpha + \lambda \, 1[s_{it} \ge c] + a_i + \delta_t + e_{it}

    team intercepts around regions, period effects, Normal noise on the log
    scale (a log-normal revenue). Rows without positive revenue are left out
    and counted in the fit's ledger.

    Parameters
    ----------
    panel
        A validated panel with revenue and the satisfaction score.
    satisfaction, threshold, revenue
        Columns and the threshold.
    random_seed
        Seed of the sampler.
    **options
        Passed to :func:`~bstate_stats.models.hierarchical.hierarchical` (sampler, chains, draws, ...).

    Returns
    -------
    HierarchicalResults
        Its first effect is :math:`\lambda`, the log revenue lift of a period at or above the threshold.
    """
    with_columns, indicator = revenue_panel(panel, revenue, satisfaction, threshold)
    return hierarchical(with_columns, f"log_{revenue}", [indicator], random_seed=random_seed, family="normal", varying=(), target=0.0, **options)


@dataclass
class BayesianRevenueLift(Results):
    """Annual revenue lift of a habit change, by team, region or for the organisation, from paired posterior draws."""

    table: pd.DataFrame
    draws: np.ndarray
    habit_change: float
    window: tuple[str, str]
    credible_level: float
    rows_without_revenue: int = 0

    @property
    def title(self) -> str:
        return f"Annual revenue lift of +{self.habit_change:g} habit points (Bayesian, {self.window[0]} to {self.window[1]})"

    def summary(self) -> pd.DataFrame:
        """``by, unit, habit_change, mean, median, hdi_low, hdi_high, prob_positive``."""
        return self.table

    def sentence(self) -> str:
        row = self.table.iloc[0]
        return (
            f"+{self.habit_change:g} habit points for every team are worth {row['mean']:,.0f} a year to {row['unit']} "
            f"({self.credible_level:.0%} interval {row['hdi_low']:,.0f} to {row['hdi_high']:,.0f}; P(lift > 0) = {row['prob_positive']:.2f})."
        )

    def notes(self) -> list[str]:
        if not self.rows_without_revenue:
            return []
        return [f"{self.rows_without_revenue} team-period(s) of the latest year have no positive revenue and add nothing to the lift (left out, counted here)"]

    def headline(self) -> dict[str, Any]:
        row = self.table.iloc[0]
        return {"revenue_lift_mean": float(row["mean"]), "revenue_lift_low": float(row["hdi_low"]), "revenue_lift_high": float(row["hdi_high"]), "revenue_lift_prob_positive": float(row["prob_positive"])}

    def plot(self) -> Figure:
        from bstate_stats.plots.bayes import plot_revenue_lift

        table = self.table.copy()
        table.attrs["draws"] = self.draws
        return plot_revenue_lift(table, habit_change=self.habit_change)


def bayesian_revenue_lift(
    satisfaction_fit: HierarchicalResults,
    revenue_fit: HierarchicalResults,
    habit_change: float = 10.0,
    *,
    by: Literal["organisation", "region", "team"] = "organisation",
    periods_per_year: int | None = None,
    random_seed: int = 0,
) -> BayesianRevenueLift:
    """Annual revenue lift when every team's first driver rises by ``habit_change`` points.

    For each row of the latest year and each pair of draws: the change in
    P(satisfaction >= threshold) (the satisfaction model's target) times the
    row's revenue without the threshold premium, times ``exp(lambda) - 1``;
    summed by team, region or over the organisation and scaled to a year.

    Parameters
    ----------
    satisfaction_fit
        Fit of the satisfaction score (its target is the threshold).
    revenue_fit
        Fit of :func:`bayesian_revenue` with the same threshold.
    habit_change
        Points added to the first driver of the satisfaction fit.
    by
        ``"organisation"``, ``"region"`` or ``"team"``.
    periods_per_year
        Needed when periods are plain integers.
    random_seed
        Seed of the pairing of draws when the two fits have different numbers of draws.

    Returns
    -------
    BayesianRevenueLift
    """
    ppy = periods_per_year or satisfaction_fit.meta.get("periods_per_year")
    if ppy is None:
        raise SpecificationError("periods are integers: pass periods_per_year")
    rows, log_revenue, above, left_out = _window_rows(satisfaction_fit, revenue_fit, int(ppy))
    setting = satisfaction_fit.setting
    target = satisfaction_fit.spec.target
    gain = setting.row_probs(rows, 0, habit_change, target, "at_least") - setting.row_probs(rows, 0, 0.0, target, "at_least")
    lam = _paired(revenue_fit.draws("effects")[:, 0], setting.draws.n, random_seed)[:, None]
    base = np.exp(log_revenue) / np.exp(lam * above)
    window_periods = np.unique(satisfaction_fit.arrays["period_idx"][rows])
    per_row = gain * base * np.expm1(lam) * ppy / len(window_periods)
    codes, units = _groups(satisfaction_fit, rows, by)
    totals = np.column_stack([per_row[:, codes == k].sum(axis=1) for k in range(len(units))])
    table = pd.DataFrame(
        [
            {"by": by, "unit": unit, "habit_change": habit_change, "mean": float(totals[:, k].mean()), "median": float(np.median(totals[:, k])),
             **dict(zip(("hdi_low", "hdi_high"), hdi(totals[:, k], satisfaction_fit.credible_level))), "prob_positive": float(np.mean(totals[:, k] > 0))}
            for k, unit in enumerate(units)
        ]
    )
    periods = satisfaction_fit.meta["periods"]
    return BayesianRevenueLift(table, totals, habit_change, (periods[window_periods[0]], periods[window_periods[-1]]), satisfaction_fit.credible_level, left_out)


def _window_rows(satisfaction_fit: HierarchicalResults, revenue_fit: HierarchicalResults, ppy: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Satisfaction rows of the latest ``ppy`` periods that have revenue, their log revenue and threshold indicator, and how many rows lacked revenue."""
    s_arrays, r_arrays = satisfaction_fit.arrays, revenue_fit.arrays
    s_keys = pd.MultiIndex.from_arrays([np.asarray(satisfaction_fit.meta["teams"])[s_arrays["team_idx"]], np.asarray(satisfaction_fit.meta["periods"])[s_arrays["period_idx"]]])
    r_keys = pd.MultiIndex.from_arrays([np.asarray(revenue_fit.meta["teams"])[r_arrays["team_idx"]], np.asarray(revenue_fit.meta["periods"])[r_arrays["period_idx"]]])
    log_revenue = pd.Series(r_arrays["y"], index=r_keys).reindex(s_keys).to_numpy()
    window = np.unique(s_arrays["period_idx"])[-ppy:]
    in_window = np.isin(s_arrays["period_idx"], window)
    rows = np.flatnonzero(in_window & np.isfinite(log_revenue))
    if not len(rows):
        raise SpecificationError("no row of the latest year has revenue: the lift cannot be valued")
    above = (s_arrays["y"][rows] >= satisfaction_fit.spec.target).astype(float)
    return rows, log_revenue[rows], above, int(in_window.sum() - len(rows))


def _paired(values: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``values`` matched to ``n`` draws: as they are when the counts agree, resampled otherwise."""
    if len(values) == n:
        return values
    return np.random.default_rng(seed).choice(values, size=n, replace=True)


def _groups(fit: HierarchicalResults, rows: np.ndarray, by: str) -> tuple[np.ndarray, list[str]]:
    teams = fit.arrays["team_idx"][rows]
    if by == "team":
        return teams, fit.meta["teams"]
    if by == "region":
        return np.asarray(fit.meta["team_region_positions"])[teams], fit.meta["regions"]
    if by == "organisation":
        return np.zeros(len(rows), dtype=int), ["organisation"]
    raise SpecificationError(f"by={by!r}; choose 'organisation', 'region' or 'team'")
