"""Results of the correlations family: one row per pair and lag, a forest plot and a sentence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.results.base import Results

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class PairData:
    """The complete rows of one pair at one lag: x (lagged by ``lag`` steps), y, each row's team and period codes, and the ledger of rows left out."""

    x_name: str
    y_name: str
    lag: int
    x: np.ndarray
    y: np.ndarray
    team: np.ndarray
    period: np.ndarray
    ledger: ExclusionLedger

    @property
    def term(self) -> str:
        """``x ~ y``, with the lag when there is one (``habit_index[t-1] ~ csat``)."""
        return f"{self.x_name}{f'[t-{self.lag}]' if self.lag else ''} ~ {self.y_name}"


@dataclass(frozen=True)
class CorrelationResults(Results):
    """Within-team correlations with team-cluster bootstrap intervals.

    Attributes
    ----------
    pairs
        The data of each pair and lag.
    estimates
        The correlation of each pair.
    replicates
        Bootstrap replicates (reps x pairs); NaN where a replicate had no within-team variation.
    confidence_level, period_effects, seed
        As asked.
    """

    pairs: tuple[PairData, ...]
    estimates: np.ndarray
    replicates: np.ndarray
    confidence_level: float
    period_effects: bool
    seed: int

    @property
    def title(self) -> str:
        return "Within-team correlations" + (" (period means removed)" if self.period_effects else "")

    def summary(self) -> pd.DataFrame:
        """One row per pair and lag.

        Returns
        -------
        DataFrame
            ``term, x, y, lag, estimate, std_error, conf_low, conf_high, p_value, n_rows, n_excluded, n_teams``
            (``n_excluded``: panel rows left out, missing x, y or the lagged value; each pair's ``ledger`` says why).
            ``std_error`` is the bootstrap standard deviation of r. The interval and the p-value are
            taken on Fisher's z = atanh(r) scale: z plus or minus the t quantile with G - 1 degrees of
            freedom times the bootstrap standard deviation of z inflated by sqrt(G / (G - 1)), G the
            teams used, mapped back with tanh.
        """
        alpha = 1 - self.confidence_level
        n_teams = np.array([int(np.sum(np.bincount(p.team) >= 2)) for p in self.pairs])
        z_hat = np.arctanh(np.clip(self.estimates, -1 + 1e-12, 1 - 1e-12))
        z_se = np.nanstd(np.arctanh(np.clip(self.replicates, -1 + 1e-12, 1 - 1e-12)), axis=0, ddof=1) * np.sqrt(n_teams / np.maximum(n_teams - 1, 1))
        df = np.maximum(n_teams - 1, 1)
        half = stats.t.ppf(1 - alpha / 2, df) * z_se
        with np.errstate(invalid="ignore", divide="ignore"):
            p_value = 2 * stats.t.sf(np.abs(z_hat) / z_se, df)
        return pd.DataFrame(
            {
                "term": [p.term for p in self.pairs], "x": [p.x_name for p in self.pairs], "y": [p.y_name for p in self.pairs], "lag": [p.lag for p in self.pairs],
                "estimate": self.estimates, "std_error": np.nanstd(self.replicates, axis=0, ddof=1), "conf_low": np.tanh(z_hat - half), "conf_high": np.tanh(z_hat + half),
                "p_value": p_value, "n_rows": [len(p.x) for p in self.pairs], "n_excluded": [p.ledger.n_excluded for p in self.pairs], "n_teams": n_teams,
            }
        )

    def notes(self) -> list[str]:
        removed = "team and period means" if self.period_effects else "team means"
        lines = [
            f"Correlations of deviations from {removed} (repeated-measures correlation); x[t-k] is x k periods before y.",
            f"{self.confidence_level:.0%} intervals and p-values on Fisher's z scale, with the standard error from {len(self.replicates)} team-cluster bootstrap replicates "
            f"(seed {self.seed}) and a t reference with teams - 1 degrees of freedom; 95% intervals covered the truth in 92-95% of simulated studies with 6 to 24 teams.",
        ]
        undefined = np.isnan(self.replicates).sum(axis=0)
        lines += [f"{p.term}: {k} of {len(self.replicates)} replicates had no within-team variation and are left out of its interval." for p, k in zip(self.pairs, undefined) if k]
        return lines

    def sentence(self) -> str:
        """The same-period correlations of the first column with the others, and the strongest lagged one."""
        table = self.summary()
        first = self.pairs[0].x_name
        same = table[(table["lag"] == 0) & ((table["x"] == first) | (table["y"] == first))]
        parts = [f"{first} and {_other(row, first)}, r = {row.estimate:+.2f} ({self.confidence_level:.0%} interval {row.conf_low:+.2f} to {row.conf_high:+.2f})" for row in same.itertuples()]
        text = "Within teams over time: " + "; ".join(parts) + "."
        lagged = table[table["lag"] > 0].dropna(subset=["estimate"])
        if len(lagged):
            row = lagged.loc[lagged["estimate"].abs().idxmax()]
            earlier = "one period" if row["lag"] == 1 else f"{row['lag']:g} periods"
            text += f" The strongest lagged correlation: {row['x']} {earlier} earlier with {row['y']}, r = {row['estimate']:+.2f} ({row['conf_low']:+.2f} to {row['conf_high']:+.2f})."
        return text

    def headline(self) -> dict[str, Any]:
        return {f"r_{p.term}": float(e) for p, e in zip(self.pairs, self.estimates)}

    def plot(self) -> Figure:
        """Each correlation with its interval, same-period pairs first."""
        from bstate_stats.plots.coefficients import plot_coefficients

        return plot_coefficients(self.summary(), title=self.title, xlabel="within-team correlation", limits=(-1, 1))


def _other(row, first: str) -> str:
    return row.y if row.x == first else row.x
