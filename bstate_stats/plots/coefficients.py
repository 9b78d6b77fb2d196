"""Coefficient plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def plot_coefficients(summary: pd.DataFrame, *, title: str = "", change: float = 1.0, xlabel: str | None = None, limits: tuple[float, float] | None = None) -> Figure:
    """Point estimates with intervals, one row per identified term (scaled by ``change``), on ``limits`` when given."""
    table = summary.dropna(subset=["estimate"]).iloc[::-1]
    table = table[table["term"] != "Intercept"]
    fig, ax = plt.subplots(figsize=(6.5, 0.6 * len(table) + 1.5))
    y = range(len(table))
    estimate = table["estimate"] * change
    ends = pd.concat([table["conf_low"] * change, table["conf_high"] * change], axis=1)  # a negative change swaps the ends
    below, above = (estimate - ends.min(axis=1)).clip(lower=0).fillna(0), (ends.max(axis=1) - estimate).clip(lower=0).fillna(0)  # no interval, or one beside the estimate
    ax.errorbar(estimate, list(y), xerr=[below, above], fmt="o", color="#1f4e79", capsize=4)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(list(y), table["term"])
    ax.set_xlabel(xlabel or "estimate" + (f" per {change:+g} units" if change != 1 else ""))
    if limits is not None:
        ax.set_xlim(*limits)
        ax.set_xticks([limits[0] + (limits[1] - limits[0]) * k / 4 for k in range(5)])
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
