"""A first look at a panel: trajectories, share of teams at or above the threshold, region ranking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from bstate_stats.schema.periods import label_series

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from bstate_stats.panel.panel import Panel


@dataclass(frozen=True)
class PanelDescription:
    """Descriptive tables of a panel.

    Attributes
    ----------
    trajectories
        Per period: number of teams and the mean of the outcome, habit index,
        relationship index and revenue (those present).
    share_above
        Per region and period: teams observed, teams at or above the
        threshold, and their share.
    region_ranking
        Per region: outcome in the first and last period, the change, share at
        or above the threshold in the last period; best last-period outcome first.
    """

    outcome: str
    threshold: float
    trajectories: pd.DataFrame
    share_above: pd.DataFrame
    region_ranking: pd.DataFrame

    def plot(self) -> Figure:
        """Trajectories of each family (one panel each) and the share at or above the threshold by region."""
        from bstate_stats.plots.panel import plot_description

        return plot_description(self)


def describe_panel(panel: Panel, *, outcome: str, threshold: float) -> PanelDescription:
    data = panel.data.reset_index()
    families = [c for c in (outcome, "habit_index", "relationship_index", "revenue") if c in data]
    by_period = data.groupby("t", sort=True)
    trajectories = by_period[families].mean()
    trajectories.insert(0, "n_teams", by_period["team"].nunique())
    trajectories.insert(0, "period", [panel.period_label(t) for t in trajectories.index])
    trajectories = trajectories.reset_index(drop=True)

    group = ["region", "t"] if panel.has_regions else ["t"]
    scored = data.dropna(subset=[outcome])
    scored = scored.assign(above=scored[outcome] >= threshold)
    share = scored.groupby(group, sort=True).agg(n_teams=("team", "nunique"), n_above=("above", "sum"))
    share["share_above"] = share["n_above"] / share["n_teams"]
    share = share.reset_index()
    share.insert(len(group) - 1, "period", label_series(share.pop("t"), panel.period_format))

    ranking = _region_ranking(scored, outcome, panel) if panel.has_regions else pd.DataFrame()
    return PanelDescription(outcome, threshold, trajectories, share, ranking)


def _region_ranking(scored: pd.DataFrame, outcome: str, panel: Panel) -> pd.DataFrame:
    first_t, last_t = scored["t"].min(), scored["t"].max()
    first = scored[scored["t"] == first_t].groupby("region")[outcome].mean()
    last = scored[scored["t"] == last_t].groupby("region")
    ranking = pd.DataFrame(
        {
            f"{outcome}_first": first,
            f"{outcome}_last": last[outcome].mean(),
            "share_above_last": last["above"].mean(),
            "n_teams": scored.groupby("region")["team"].nunique(),
        }
    )
    ranking["change"] = ranking[f"{outcome}_last"] - ranking[f"{outcome}_first"]
    ranking = ranking.sort_values(f"{outcome}_last", ascending=False)
    ranking.insert(0, "rank", range(1, len(ranking) + 1))
    ranking.attrs["first_period"] = panel.period_label(first_t)
    ranking.attrs["last_period"] = panel.period_label(last_t)
    return ranking.reset_index()
