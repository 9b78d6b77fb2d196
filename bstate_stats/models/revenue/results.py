"""Results of the revenue family: the revenue lift of a period at or above the threshold, and the annual lift of a habit change."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bstate_stats.models.fixed_effects.results import FixedEffectsResults
from bstate_stats.results.base import RendersSummary


@dataclass(frozen=True)
class RevenueResults(RendersSummary):
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


@dataclass(frozen=True)
class HabitRevenueChain(RendersSummary):
    """Annual revenue lift that follows a habit change through satisfaction at or above the threshold.

    ``draws`` are team-cluster bootstrap replicates of the annual lift.
    """

    habit_change: float
    threshold: float
    estimate: float
    draws: np.ndarray
    level: float
    components: dict[str, float]
    window: tuple
    periods_per_year: int
    n_teams: int
    notes_: list[str] = field(default_factory=list)

    title = "Annual revenue lift from a habit change"

    @property
    def interval(self) -> tuple[float, float]:
        tail = (1 - self.level) / 2
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
            f"{self.level:.0%} team-cluster bootstrap interval from {len(self.draws)} replicates over {self.n_teams} teams",
            *self.notes_,
        ]
