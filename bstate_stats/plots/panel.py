"""Plots of a panel description: the three families over time, share at or above the threshold by region."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def plot_description(description) -> Figure:
    trajectories, share = description.trajectories, description.share_above
    columns = [c for c in trajectories.columns if c not in ("period", "n_teams")]
    fig, axes = plt.subplots(1, len(columns) + 1, figsize=(3.2 * (len(columns) + 1), 3.2))
    labels = trajectories["period"].astype(str)
    ticks = list(range(0, len(labels), max(1, len(labels) // 4)))
    for ax, column in zip(axes, columns):
        ax.plot(range(len(labels)), trajectories[column], color="#1f4e79")
        if column == description.outcome:
            ax.axhline(description.threshold, color="#b03a2e", ls="--", lw=1)
        ax.set_title(column, fontsize=10)
        ax.set_xticks(ticks, labels.iloc[ticks], fontsize=7, rotation=30)
    ax = axes[-1]
    group = "region" if "region" in share else None
    for name, block in (share.groupby(group) if group else [("all", share)]):
        ax.plot(range(len(block)), block["share_above"], label=str(name))
    period_labels = block["period"].astype(str).reset_index(drop=True)
    ax.set_xticks(ticks, period_labels.iloc[ticks], fontsize=7, rotation=30)
    ax.set_title(f"share >= {description.threshold:g}", fontsize=10)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_employees_improved(table) -> Figure:
    """Share of employees reporting improved relationships per period: the organisation in black, each region in colour."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for (level, region), block in table.groupby(["level", "region"], sort=False):
        organisation = level == "organisation"
        ax.plot(block["period"].astype(str), block["share_improved"], color="black" if organisation else None, lw=2.2 if organisation else 1.2, label="organisation" if organisation else str(region))
    labels = table.loc[table["level"] == "organisation", "period"].astype(str).tolist()
    ticks = list(range(0, len(labels), max(1, len(labels) // 6)))
    ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=8, rotation=30)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("employees reporting\nimproved relationships")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
