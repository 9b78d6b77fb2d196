"""Do the internal metrics move the customer outcomes? One within-team regression per metric and outcome, in the outcome's words.

Managers track internal metrics (handle time, service level, speed of answer);
customers judge by what they experience. For each customer outcome and each
internal metric, a two-way fixed-effects regression of the outcome on the
metric alone (and any controls) says how far the outcome moves when that
metric moves by one within-team standard deviation, with a team-clustered
interval (the wild cluster bootstrap's with fewer than 30 teams).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from bstate_stats.errors import SpecificationError
from bstate_stats.models.fixed_effects import fixed_effects
from bstate_stats.models.fixed_effects.engines import demean_two_way
from bstate_stats.panel.panel import Panel
from bstate_stats.results.base import Results
from bstate_stats.schema.words import Words, words_for

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

COLUMNS = ["outcome", "metric", "metric_sd", "estimate", "conf_low", "conf_high", "p_value", "moves", "n_rows", "n_excluded", "n_teams", "interval"]


def metrics_and_outcomes(
    panel: Panel,
    outcomes: Sequence[str],
    metrics: Sequence[str],
    *,
    controls: Sequence[str] = (),
    effects: Literal["twoway", "team"] = "twoway",
    confidence_level: float = 0.95,
    bootstrap_reps: int = 999,
    seed: int = 0,
) -> MetricsResults:
    r"""How far each customer outcome moves, within teams, when an internal metric moves by one within-team sd.

    For outcome :math:`y` and metric :math:`m`:
    :math:`y_{it} = \alpha_i + \delta_t + \gamma\, m_{it} + x_{it}'\beta + \varepsilon_{it}`,
    and the reported effect is :math:`\gamma\, s_m`, :math:`s_m` the sd of the metric
    after team (and period) means are removed.

    Parameters
    ----------
    panel
        A validated panel.
    outcomes
        Customer-experienced outcomes (satisfaction, churn).
    metrics
        Internal metrics (handle time, service level, first-contact resolution).
    controls
        Drivers held fixed in every regression (e.g. the habit index).
    effects
        ``"twoway"`` (team and period effects) or ``"team"``.
    confidence_level
        Level of the intervals.
    bootstrap_reps
        Wild cluster bootstrap replicates when there are fewer than 30 teams.
    seed
        Seed of the bootstrap.

    Returns
    -------
    MetricsResults
        One row per outcome and metric; ``moves`` when the interval excludes zero.

    Notes
    -----
    Associations within teams, one metric at a time: a metric that moves with an
    outcome may stand for another it travels with (see
    :func:`~bstate_stats.models.importance.relative_importance` for shares of the
    outcome's variation when all are entered together).
    """
    outcomes, metrics, controls = list(dict.fromkeys(outcomes)), list(dict.fromkeys(metrics)), list(dict.fromkeys(controls))
    overlap = set(outcomes) & set(metrics) | set(controls) & (set(outcomes) | set(metrics))
    if effects not in ("twoway", "team"):
        raise SpecificationError(f"effects must be 'twoway' or 'team', got {effects!r}")
    if not outcomes or not metrics or overlap:
        raise SpecificationError(f"metrics_and_outcomes needs one or more outcomes and metrics, none named twice; outcomes {outcomes}, metrics {metrics}, controls {controls}")
    rows = [_one(panel, outcome, metric, controls, effects, confidence_level, bootstrap_reps, seed) for outcome in outcomes for metric in metrics]
    scales = {c: panel.scales.get(c, "numeric") for c in (*outcomes, *metrics)}
    return MetricsResults(pd.DataFrame(rows, columns=COLUMNS), scales, effects, confidence_level, tuple(controls))


def _one(panel: Panel, outcome: str, metric: str, controls: list[str], effects: Literal["twoway", "team"], confidence_level: float, bootstrap_reps: int, seed: int) -> dict[str, Any]:
    """The regression of ``outcome`` on ``metric`` (and controls), its effect per within-team sd of the metric."""
    with warnings.catch_warnings():
        if bootstrap_reps > 0:  # the few-clusters warning alone, where the bootstrap interval below answers it; without one it reaches the user
            warnings.filterwarnings("ignore", message=r"only \d+ clusters")
        fit = fixed_effects(panel, outcome, [metric, *controls], effects=effects, confidence_level=confidence_level, bootstrap_reps=bootstrap_reps, seed=seed)
    sd = _within_sd(panel, outcome, metric, [metric, *controls], effects)
    row = fit.effect(metric, sd)
    interval, (low, high), p_value = "clustered", (row["conf_low"], row["conf_high"]), row["p_value"]
    if metric in fit.bootstrap:
        boot = fit.bootstrap[metric]
        interval, (low, high), p_value = "wild cluster bootstrap", sorted((boot.conf_low * sd, boot.conf_high * sd)), boot.p_value
    return {
        "outcome": outcome, "metric": metric, "metric_sd": sd, "estimate": row["estimate"], "conf_low": low, "conf_high": high, "p_value": p_value,
        "moves": bool(low > 0 or high < 0), "n_rows": fit.n_rows, "n_excluded": fit.ledger.n_excluded, "n_teams": fit.n_teams, "interval": interval,
    }


def _within_sd(panel: Panel, outcome: str, metric: str, drivers: list[str], effects: str) -> float:
    """The metric's sd once team (and period) means are removed, on the rows the regression uses."""
    data = panel.model_frame(outcome, drivers).data
    values = data[[metric]].to_numpy(dtype=float)
    team = pd.factorize(data.index.get_level_values("team"))[0]
    if effects == "twoway":
        residual = demean_two_way(values, team, pd.factorize(data.index.get_level_values("t"))[0])[:, 0]
    else:
        residual = values[:, 0] - pd.Series(values[:, 0]).groupby(team).transform("mean").to_numpy()
    return float(np.std(residual))


@dataclass(frozen=True)
class MetricsResults(Results):
    """Effects of internal metrics on customer outcomes, per within-team sd of each metric."""

    table: pd.DataFrame
    scales: dict[str, str]
    effects: str
    confidence_level: float
    controls: tuple[str, ...]

    @property
    def title(self) -> str:
        return "Do the internal metrics move the customer outcomes? (within teams)"

    def summary(self) -> pd.DataFrame:
        """``outcome, metric, metric_sd, estimate, conf_low, conf_high, p_value, moves, n_rows, n_excluded, n_teams, interval``: effects per +1 within-team sd of the metric, in the outcome's units; ``n_excluded`` counts the rows each regression left out (missing values, single-period teams)."""
        return self.table

    def _words(self, column: str) -> Words:
        return words_for(column, self.scales[column])

    def sentence(self) -> str:
        """One sentence per outcome: which metrics move it and by how much, which do not."""
        parts = []
        for outcome, block in self.table.groupby("outcome", sort=False):
            words = self._words(str(outcome))
            moving = [
                f"{self._words(r.metric).noun} (+1 sd goes with {words.amount(r.estimate)}, {words.number(r.conf_low)} to {words.number(r.conf_high)})"
                for r in block.itertuples() if r.moves
            ]
            still = [self._words(r.metric).noun for r in block.itertuples() if not r.moves]
            said = f"Within teams, {_listed(moving)} move{'s' if len(moving) == 1 else ''} {words.noun}" if moving else f"Within teams, no internal metric moves {words.noun} clearly"
            if still:
                said += f"; {_listed(still)} {'does' if len(still) == 1 else 'do'} not (the {self.confidence_level:.0%} interval includes zero)"
            parts.append(said + ".")
        return " ".join(parts)

    def notes(self) -> list[str]:
        held = f", holding {', '.join(self.controls)} fixed" if self.controls else ""
        return [
            f"One regression per outcome and metric with {'team and period' if self.effects == 'twoway' else 'team'} effects{held}; effects per +1 within-team sd of the metric; "
            f"{self.confidence_level:.0%} intervals clustered by team (wild cluster bootstrap with fewer than 30 teams). Associations within teams, not causal effects."
        ]

    def headline(self) -> dict[str, Any]:
        return {"metrics_moving": {str(o): [str(m) for m in b.loc[b["moves"], "metric"]] for o, b in self.table.groupby("outcome", sort=False)}}

    def plot(self) -> Figure:
        from bstate_stats.plots.importance import plot_metric_effects

        scaled = self.table.copy()
        factor = scaled["outcome"].map(lambda outcome: self._words(outcome).factor)
        scaled[["estimate", "conf_low", "conf_high"]] = scaled[["estimate", "conf_low", "conf_high"]].mul(factor, axis=0)  # shares in percentage points
        units = {c: self._words(c).unit_name for c in self.scales}
        return plot_metric_effects(scaled, nouns={c: self._words(c).noun for c in self.scales}, units=units, confidence_level=self.confidence_level)


def _listed(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"

