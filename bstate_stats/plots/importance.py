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


def plot_metric_effects(table: pd.DataFrame, *, nouns: dict[str, str], units: dict[str, str], confidence_level: float) -> Figure:
    """One panel per outcome: each metric's effect per +1 within-team sd with its interval, the zero line, metrics that move it in colour."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.2 * len(outcomes) + 1.5, 0.45 * table["metric"].nunique() + 1.8), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes):
        block = table[table["outcome"] == outcome].iloc[::-1]
        y = list(range(len(block)))
        colours = ["#1f4e79" if moves else "#9a9a9a" for moves in block["moves"]]
        ax.axvline(0, color="#555555", lw=0.8)
        for position, row, colour in zip(y, block.itertuples(), colours):
            ax.plot([row.conf_low, row.conf_high], [position, position], color=colour, lw=2)
            ax.plot(row.estimate, position, "o", color=colour)
        ax.set_yticks(y, [nouns.get(m, m) for m in block["metric"]])
        unit = f" ({units[outcome]})" if units.get(outcome) else ""
        ax.set_xlabel(f"change in {nouns.get(outcome, outcome)}{unit}\nper +1 within-team sd of the metric")
        ax.set_title(nouns.get(outcome, outcome), fontsize=10)
    fig.suptitle(f"Internal metrics and customer outcomes within teams ({confidence_level:.0%} intervals; grey: includes zero)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_importance_matrix(table: pd.DataFrame, *, outcome: str, confidence_level: float, matters_from: float) -> Figure:
    """Importance (share of the within R², x) against the gap to target (within-team sd, y), both with intervals; the quadrant to act on first shaded."""
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    ax.axhline(0, color="#555555", lw=0.8)
    ax.axvspan(matters_from, 1, ymin=0.5, color="#f3d9d5", alpha=0.35, lw=0)  # shares from the median driver's up, short of target: act first
    colours = {"act first": "#b03a2e", "keep": "#2e7d32", "watch": "#b7950b", "fine": "#7f7f7f"}
    total = table["estimate"] / table["share_of_r2"]  # the within R²: shares of it, intervals scaled alike
    for row, r2 in zip(table.itertuples(), total):
        colour = colours[row.priority]
        ax.plot([row.conf_low / r2, row.conf_high / r2], [row.gap_sd, row.gap_sd], color=colour, lw=1.5)
        ax.plot([row.share_of_r2, row.share_of_r2], [row.gap_low, row.gap_high], color=colour, lw=1.5)
        ax.plot(row.share_of_r2, row.gap_sd, "o", color=colour)
        ax.annotate(f" {row.term} ({row.priority})", (row.share_of_r2, row.gap_sd), fontsize=8, color=colour)
    top = max(abs(table[["gap_low", "gap_high"]]).to_numpy().max(), 0.5) * 1.15
    ax.set_ylim(-top, top)
    ax.set_xlim(0, min(1.0, max((table["conf_high"] / total).max() * 1.3, 0.1)))
    ax.set_xlabel(f"share of the explained within-team variation of {outcome}")
    ax.set_ylabel("gap to target (within-team sd; above 0: short)")
    ax.set_title(f"Importance x performance ({confidence_level:.0%} intervals)", fontsize=10)
    fig.tight_layout()
    return fig
