"""Results of the threshold family: the linear probability model and the conditional logit side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from bstate_stats.models.fixed_effects.results import FixedEffectsResults
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.results.base import Results

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class ConditionalLogitFit:
    """Conditional (fixed-effects) logit estimates and the counts behind them."""

    params: pd.Series
    cov: pd.DataFrame
    n_rows: int
    n_teams: int
    ledger: ExclusionLedger
    ame: float
    ame_std_error: float
    rows: pd.Index
    converged: bool

    def why_not_converged(self, outcome: str, threshold: float) -> str:
        """One sentence on why the conditional likelihood has no usable maximum, and what to read instead.

        Parameters
        ----------
        outcome, threshold
            The outcome and the threshold it is compared with.

        Returns
        -------
        str
        """
        periods = sum(str(name).startswith("period_") for name in self.params.index)
        drivers = len(self.params) - periods
        design = f"{drivers} driver(s)" + (f" and {periods} period effects" if periods else "")
        return (
            f"The conditional logit did not converge: only {self.n_teams} teams have {outcome} on both sides of {threshold:g} ({self.n_rows} rows) "
            f"to estimate {design}, so within those teams the drivers sort the rows almost perfectly (quasi-separation) and the slope has no finite "
            f"maximum; read the linear probability model, which uses every team."
        )

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov)), index=self.params.index)


@dataclass(frozen=True)
class ThresholdResults(Results):
    """Average change in P(outcome >= threshold) for a change in a driver, from two models.

    ``lpm`` is a linear probability model with fixed effects (change =
    coefficient x change); ``logit`` is the conditional logit, whose average
    marginal effect uses team intercepts solved given the estimated slopes.
    """

    outcome: str
    driver: str
    threshold: float
    change: float
    confidence_level: float
    lpm: FixedEffectsResults
    logit: ConditionalLogitFit | None
    notes_: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Change in P({self.outcome} >= {self.threshold:g}) for +{self.change:g} {self.driver}"

    def summary(self) -> pd.DataFrame:
        """``model, term, estimate, std_error, conf_low, conf_high, p_value, n_rows, n_teams``."""
        z = stats.norm.ppf(0.5 + self.confidence_level / 2)
        effect = self.lpm.effect(self.driver, self.change, self.confidence_level)
        rows = [{"model": "linear probability (fixed effects)", "term": self.driver, **effect.drop(["term", "change"]).to_dict(), "n_rows": self.lpm.n_rows, "n_teams": self.lpm.n_teams}]
        if self.logit is not None and not self.logit.converged:
            rows.append(
                {"model": "conditional logit (average marginal effect)", "term": self.driver, "n_rows": self.logit.n_rows, "n_teams": self.logit.n_teams,
                 "note": f"did not converge, no estimate reported: {self.logit.n_teams} informative teams; see the notes"}
            )
        elif self.logit is not None:
            est, se = self.logit.ame, self.logit.ame_std_error
            rows.append({"model": "conditional logit (average marginal effect)", "term": self.driver, "estimate": est, "std_error": se, "conf_low": est - z * se, "conf_high": est + z * se, "p_value": float(2 * stats.norm.sf(abs(est / se))) if se > 0 else np.nan, "n_rows": self.logit.n_rows, "n_teams": self.logit.n_teams})
        table = pd.DataFrame(rows)
        table["note"] = table.get("note", pd.Series("", index=table.index)).fillna("")
        return table

    def notes(self) -> list[str]:
        return list(self.notes_)

    def plot(self) -> Figure:
        """Both models' change in probability with intervals."""
        from bstate_stats.plots.coefficients import plot_coefficients

        table = self.summary().assign(term=lambda t: t["model"])
        return plot_coefficients(table, title=self.title)

    def sentence(self) -> str:
        """The linear probability model's change in P(at or above the threshold), in percentage points."""
        row = self.summary().iloc[0]
        return (
            f"+{self.change:g} {self.driver} changes P({self.outcome} >= {self.threshold:g}) by {row['estimate'] * 100:+.1f} percentage points "
            f"({self.confidence_level:.0%} interval {row['conf_low'] * 100:+.1f} to {row['conf_high'] * 100:+.1f}; linear probability model with team effects)."
        )

    def headline(self) -> dict[str, Any]:
        table = self.summary()
        values = {"lpm_change": float(table.iloc[0]["estimate"])}
        if len(table) > 1 and pd.notna(table.iloc[1].get("estimate")):
            values["logit_average_marginal_effect"] = float(table.iloc[1]["estimate"])
        return values
