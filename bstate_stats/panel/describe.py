"""A first look at a panel: trajectories, share of teams at or above the threshold, region ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    items
        Per item of the outcome (the outcome itself and every ``{outcome}_*``
        column, e.g. ``csat_right_person``): the organisation's mean in the
        first and last period with values, the teams scored in the last one
        and the share of them at or above the threshold, how many regions average at or above it, and the
        best region.
    items_by_region
        Per region and item: the last-period mean, the share of its teams at
        or above the threshold, and whether the region's mean reaches it.
    employees_improved
        Per period, for the organisation and each region: respondents and the
        share of employees reporting improved relationships (respondent-weighted
        mean of ``share_improved``); empty when the data hold no such column.
    """

    outcome: str
    threshold: float
    trajectories: pd.DataFrame
    share_above: pd.DataFrame
    region_ranking: pd.DataFrame
    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    items_by_region: pd.DataFrame = field(default_factory=pd.DataFrame)
    employees_improved: pd.DataFrame = field(default_factory=pd.DataFrame)

    def plot(self) -> Figure:
        """Trajectories of each family (one panel each) and the share at or above the threshold by region."""
        from bstate_stats.plots.panel import plot_description

        return plot_description(self)

    def plot_employees_improved(self) -> Figure:
        """Share of employees reporting improved relationships per period, one line per region and the organisation."""
        from bstate_stats.plots.panel import plot_employees_improved

        return plot_employees_improved(self.employees_improved)


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
    items = [outcome, *(c for c in panel.columns_with_role("outcome") if c.startswith(f"{outcome}_"))]
    item_table, by_region = _items_at_threshold(data, items, threshold, panel)
    return PanelDescription(outcome, threshold, trajectories, share, ranking, item_table, by_region, _employees_improved(data, panel))


def _items_at_threshold(data: pd.DataFrame, items: list[str], threshold: float, panel: Panel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each item in its first and last period with values: organisation mean, share of teams at or above, regions at or above, best region."""
    rows, region_rows = [], []
    for item in items:
        scored = data.dropna(subset=[item])
        if scored.empty:  # an optional item column with no value at all: nothing to report
            continue
        first, last = scored[scored["t"] == scored["t"].min()], scored[scored["t"] == scored["t"].max()]
        row = {
            "item": item, "first_period": panel.period_label(first["t"].iloc[0]), "last_period": panel.period_label(last["t"].iloc[0]),
            "mean_first": first[item].mean(), "mean_last": last[item].mean(), "n_teams_last": last["team"].nunique(), "share_teams_above": (last[item] >= threshold).mean(),
        }
        if panel.has_regions:
            regions = last.groupby("region")[item].agg(mean_last="mean", share_teams_above=lambda v: (v >= threshold).mean(), n_teams="size")
            row |= {"n_regions_above": int((regions["mean_last"] >= threshold).sum()), "n_regions": len(regions),
                    "best_region": regions["mean_last"].idxmax(), "best_region_mean": regions["mean_last"].max()}
            region_rows.append(regions.assign(item=item, at_or_above=regions["mean_last"] >= threshold).reset_index())
        rows.append(row)
    by_region = pd.concat(region_rows, ignore_index=True)[["region", "item", "n_teams", "mean_last", "share_teams_above", "at_or_above"]] if region_rows else pd.DataFrame()
    return pd.DataFrame(rows), by_region


def _employees_improved(data: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """Respondent-weighted share of employees reporting improved relationships, per period, for the organisation and each region."""
    share, respondents = panel.columns_with_role("improvement"), panel.columns_with_role("respondents")
    if not share or not respondents:
        return pd.DataFrame()
    answered = data.dropna(subset=[share[0], respondents[0]]).assign(improved=lambda d: d[share[0]] * d[respondents[0]])
    answered = answered.rename(columns={respondents[0]: "n_respondents"})
    levels = [answered.assign(level="organisation", region="")] + ([answered.assign(level="region")] if panel.has_regions else [])
    table = pd.concat(levels).groupby(["level", "region", "t"], sort=True).agg(n_teams=("team", "nunique"), n_respondents=("n_respondents", "sum"), improved=("improved", "sum"))
    table["share_improved"] = table.pop("improved") / table["n_respondents"]
    table = table.reset_index()
    table.insert(2, "period", label_series(table.pop("t"), panel.period_format))
    return table  # "organisation" sorts before "region"; periods in grid order


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
