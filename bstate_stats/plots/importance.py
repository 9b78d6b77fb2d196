"""Plot of relative importance: shares of the within R² with intervals, and the probability of ranking in the top k."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def plot_importance(summary: pd.DataFrame, *, title: str, top_k: int) -> Figure:
    """Horizontal bars of the LMG shares (largest on top) with percentile intervals, each labelled with P(top k)."""
    table = summary.iloc[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(table) + 1.6))
    y = range(len(table))
    ax.barh(list(y), table["estimate"], color="#9fb8d3")
    below = (table["estimate"] - table["conf_low"]).clip(lower=0)  # an interval need not hold the estimate: draw the part that lies beside it
    above = (table["conf_high"] - table["estimate"]).clip(lower=0)
    ax.errorbar(table["estimate"], list(y), xerr=[below, above], fmt="none", color="#1f4e79", capsize=4)
    for position, (high, prob) in enumerate(zip(table["conf_high"], table["prob_top_k"])):
        ax.text(high, position, f"  P(top {top_k}) = {prob:.0%}", va="center", fontsize=8)
    ax.set_yticks(list(y), table["term"])
    ax.set_xlabel("share of the within-team R² (LMG)")
    ax.set_xlim(0, max(table["conf_high"].max() * 1.45, 0.05))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
