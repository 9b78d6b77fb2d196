"""Importance x performance: how much each metric matters within teams against how far it stands from its target.

The matrix managers ask for: a metric that matters and stands far from its
target is where effort pays first. Importance is the metric's Shapley (LMG)
share of the within-team R² (:func:`relative_importance`); performance is the
gap between the organisation's current level (the mean of every team's latest
period) and the target, in within-team standard deviations of the metric. Both
carry intervals from the same team-bootstrap replicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from bstate_stats.errors import SpecificationError
from bstate_stats.models.fixed_effects.engines import demean_two_way
from bstate_stats.models.importance.results import RelativeImportanceResults
from bstate_stats.panel.panel import Panel
from bstate_stats.results.base import Results
from bstate_stats.schema.words import words_for

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

Direction = Literal["at_least", "at_most"]


def importance_matrix(importance: RelativeImportanceResults, panel: Panel, targets: Mapping[str, float | tuple[float, Direction]]) -> ImportanceMatrix:
    """Importance of each targeted metric against its gap to target, with team-bootstrap intervals.

    Parameters
    ----------
    importance
        A :func:`relative_importance` fit on ``panel``.
    panel
        The same panel.
    targets
        ``{metric: target}`` (at least the target, e.g. service level 0.8) or
        ``{metric: (target, "at_most")}`` (handle time at most 300 seconds).

    Returns
    -------
    ImportanceMatrix
        Per metric: LMG share and interval, current level, target, gap in
        within-team sd (positive: short of the target) and its interval.
    """
    goals = {name: (float(t[0]), t[1]) if isinstance(t, tuple) else (float(t), "at_least") for name, t in targets.items()}
    unknown = [name for name in goals if name not in importance.drivers]
    bad = [f"{name}: {d!r}" for name, (_, d) in goals.items() if d not in ("at_least", "at_most")]
    if not goals or unknown or bad:
        raise SpecificationError(f"targets must name drivers of the importance fit ({', '.join(importance.drivers)}) with direction 'at_least' or 'at_most'; unknown {unknown}, bad {bad}")
    data = panel.model_frame(importance.outcome, list(importance.drivers)).data
    team = pd.factorize(data.index.get_level_values("team"))[0]  # the importance fit's team codes: its replicates resample these
    period = pd.factorize(data.index.get_level_values("t"))[0]
    order = np.lexsort((data.index.get_level_values("t"), team))
    last = np.zeros(team.max() + 1, dtype=int)
    last[team[order]] = order  # each team's latest row
    latest = data[list(goals)].to_numpy(dtype=float)[last]
    counts = importance.bootstrap_counts()
    current, current_draws = latest.mean(axis=0), counts @ latest / counts.sum(axis=1, keepdims=True)
    sd = _within_sd(data[list(goals)].to_numpy(dtype=float), team, period, importance.effects)
    position = [importance.drivers.index(name) for name in goals]
    rows = []
    for k, (name, (target, direction)) in enumerate(goals.items()):
        sign = 1.0 if direction == "at_least" else -1.0
        gap, gap_draws = sign * (target - current[k]) / sd[k], sign * (target - current_draws[:, k]) / sd[k]
        rows.append({"term": name, "current": current[k], "target": target, "direction": direction, "gap_sd": gap, "gap_draws": gap_draws, "lmg_draws": importance.lmg_draws[:, position[k]]})
    summary = importance.summary().set_index("term")
    noun = words_for(importance.outcome, panel.scales.get(importance.outcome, "numeric")).noun
    return ImportanceMatrix(rows, summary, importance.confidence_level, noun)


def _within_sd(values: np.ndarray, team: np.ndarray, period: np.ndarray, effects: str) -> np.ndarray:
    """Each column's sd after team (and period) means are removed: the scale a gap is measured in."""
    if effects == "twoway":
        return demean_two_way(values, team, period).std(axis=0)
    means = np.stack([np.bincount(team, values[:, k]) / np.bincount(team) for k in range(values.shape[1])], axis=1)
    return (values - means[team]).std(axis=0)


@dataclass(frozen=True)
class ImportanceMatrix(Results):
    """Importance x performance of the targeted metrics."""

    rows: list[dict[str, Any]]
    importance: pd.DataFrame  # the relative-importance summary, indexed by term
    confidence_level: float
    outcome: str  # as sentences name it (the schema's label)

    @property
    def title(self) -> str:
        return f"Importance for {self.outcome} against distance from target"

    def summary(self) -> pd.DataFrame:
        """``term, share_of_r2, estimate, conf_low, conf_high`` (LMG) ``, current, target, direction, gap_sd, gap_low, gap_high, priority``.

        ``priority``: "act first" (its share is at least the median driver's and it is short of its target), "keep"
        (matters, target met), "watch" (short of target, matters less), "fine".
        """
        alpha = 1 - self.confidence_level
        table = pd.DataFrame(
            [
                {
                    "term": r["term"], **{c: self.importance.loc[r["term"], c] for c in ("share_of_r2", "estimate", "conf_low", "conf_high")},
                    "current": r["current"], "target": r["target"], "direction": r["direction"], "gap_sd": r["gap_sd"],
                    "gap_low": float(np.quantile(r["gap_draws"], alpha / 2)), "gap_high": float(np.quantile(r["gap_draws"], 1 - alpha / 2)),
                }
                for r in self.rows
            ]
        )
        matters = table["share_of_r2"] >= self.importance["share_of_r2"].median()
        short = table["gap_sd"] > 0
        table["priority"] = np.select([matters & short, matters, short], ["act first", "keep", "watch"], "fine")
        return table

    def sentence(self) -> str:
        table = self.summary()
        first = table[table["priority"] == "act first"].sort_values("share_of_r2", ascending=False)
        if first.empty:
            return f"No targeted metric both matters more than the median driver for {self.outcome} and stands short of its target."
        r = first.iloc[0]
        return (
            f"Act first on {r['term']}: it accounts for {r['share_of_r2']:.0%} of the explained within-team variation of {self.outcome} and stands "
            f"{r['gap_sd']:.1f} within-team sd short of its target ({self.confidence_level:.0%} interval {r['gap_low']:.1f} to {r['gap_high']:.1f})."
        )

    def notes(self) -> list[str]:
        return [
            "Current level: the mean of every team's latest period. Gap: target minus current level (current minus target for an 'at most' target), "
            "in within-team sd of the metric; positive means short of the target. Intervals from the importance fit's team-bootstrap replicates."
        ]

    def plot(self) -> Figure:
        from bstate_stats.plots.importance import plot_importance_matrix

        return plot_importance_matrix(self.summary(), outcome=self.outcome, confidence_level=self.confidence_level, matters_from=float(self.importance["share_of_r2"].median()))
