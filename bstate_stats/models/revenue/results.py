"""Results of the revenue family: the revenue lift of a period at or above the threshold, and the annual lift of a habit change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bstate_stats.models.fixed_effects.results import FixedEffectsResults
from bstate_stats.results.base import Results

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class RevenueResults(Results):
    """Fixed-effects regression of log revenue on being at or above the threshold.

    ``lift`` is the relative revenue change of a team-period at or above the
    threshold, ``exp(b) - 1``, with the interval transformed the same way.
    """

    fit: FixedEffectsResults
    indicator: str
    threshold: float

    title = "Revenue lift of satisfaction at or above the threshold"

    @property
    def lift(self) -> pd.Series:
        """``estimate, conf_low, conf_high`` of the relative lift (0.5 = +50%)."""
        interval = self.fit.conf_int().loc[self.indicator]
        return pd.Series({"estimate": np.expm1(self.fit.params[self.indicator]), "conf_low": np.expm1(interval["conf_low"]), "conf_high": np.expm1(interval["conf_high"])})

    def summary(self) -> pd.DataFrame:
        table = self.fit.summary()
        lift = self.lift
        extra = pd.DataFrame([{"term": f"lift of {self.indicator} (exp(b) - 1)", "estimate": lift["estimate"], "conf_low": lift["conf_low"], "conf_high": lift["conf_high"], "note": "relative change in revenue"}])
        return pd.concat([table, extra], ignore_index=True)

    def notes(self) -> list[str]:
        return self.fit.notes()

    def plot(self) -> Figure:
        """The relative lift with its interval."""
        from bstate_stats.plots.coefficients import plot_coefficients

        lift = self.lift
        table = pd.DataFrame([{"term": f"{self.indicator} (relative lift)", "estimate": lift["estimate"], "conf_low": lift["conf_low"], "conf_high": lift["conf_high"]}])
        return plot_coefficients(table, title=self.title)

    def sentence(self) -> str:
        lift = self.lift
        confidence_level = self.fit.spec.confidence_level
        return (
            f"A period at or above {self.threshold:g} brings {lift['estimate']:+.1%} revenue for the same team "
            f"({confidence_level:.0%} interval {lift['conf_low']:+.1%} to {lift['conf_high']:+.1%}; {self.fit.n_rows} rows, {self.fit.n_teams} teams)."
        )

    def headline(self) -> dict[str, Any]:
        return {"revenue_lift": float(self.lift["estimate"])}


@dataclass(frozen=True)
class HabitRevenueChain(Results):
    """Annual revenue lift that follows a habit change through satisfaction at or above the threshold.

    ``draws`` are team-cluster bootstrap replicates of the annual lift.
    """

    habit_change: float
    threshold: float
    estimate: float
    draws: np.ndarray
    confidence_level: float
    components: dict[str, float]
    window: tuple
    periods_per_year: int
    n_teams: int
    notes_: list[str] = field(default_factory=list)

    title = "Annual revenue lift from a habit change"

    @property
    def interval(self) -> tuple[float, float]:
        tail = (1 - self.confidence_level) / 2
        return float(np.quantile(self.draws, tail)), float(np.quantile(self.draws, 1 - tail))

    @property
    def prob_positive(self) -> float:
        """Share of bootstrap replicates with a positive lift."""
        return float(np.mean(self.draws > 0))

    def summary(self) -> pd.DataFrame:
        low, high = self.interval
        rows = [{"quantity": "annual revenue lift", "estimate": self.estimate, "median": float(np.median(self.draws)), "conf_low": low, "conf_high": high, "prob_positive": self.prob_positive}]
        rows += [{"quantity": k, "estimate": v} for k, v in self.components.items()]
        return pd.DataFrame(rows)

    def notes(self) -> list[str]:
        return [
            f"Habit index +{self.habit_change:g} points for every team; reference window {self.window[0]} .. {self.window[1]} ({self.periods_per_year} periods per year)",
            f"{self.confidence_level:.0%} team-cluster bootstrap interval from {len(self.draws)} replicates over {self.n_teams} teams",
            *self.notes_,
        ]

    def plot(self) -> Figure:
        """The bootstrap replicates of the annual lift, with the estimate and the interval."""
        from bstate_stats.plots.draws import plot_draws

        return plot_draws(self.draws, estimate=self.estimate, interval=self.interval, title=self.title, xlabel=f"annual revenue lift of +{self.habit_change:g} habit points")

    def sentence(self) -> str:
        low, high = self.interval
        return (
            f"+{self.habit_change:g} habit points for every team are worth {self.estimate:,.0f} a year ({self.confidence_level:.0%} interval {low:,.0f} to {high:,.0f}; "
            f"P(lift > 0) = {self.prob_positive:.2f}, {len(self.draws)} team-bootstrap replicates)."
        )

    def headline(self) -> dict[str, Any]:
        low, high = self.interval
        return {"annual_lift": self.estimate, "annual_lift_low": low, "annual_lift_high": high, "prob_positive": self.prob_positive}
