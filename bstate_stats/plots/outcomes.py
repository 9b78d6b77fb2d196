"""The multi-outcome figure: every outcome's change after a driver change, relative to its current level."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def plot_outcome_effects(table: pd.DataFrame, *, title: str, confidence_level: float) -> Figure:
    """One row per outcome: the change relative to its level (%) with its interval; green where it moves the better way clearly, grey where the interval includes zero.

    Parameters
    ----------
    table
        Columns ``noun, relative, relative_low, relative_high, better, level`` (one row per outcome).
    title
        Figure title.
    confidence_level
        Level of the intervals (for the caption).

    Returns
    -------
    Figure
    """
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(table) + 1.6))
    rows = table.iloc[::-1].reset_index(drop=True)
    ax.axvline(0, color="#555555", lw=0.8)
    for position, row in rows.iterrows():
        clear = row["relative_low"] > 0 or row["relative_high"] < 0
        colour = "#2e7d32" if row["better"] else ("#b03a2e" if clear else "#9a9a9a")
        ax.plot([row["relative_low"], row["relative_high"]], [position, position], color=colour, lw=2.2)
        ax.plot(row["relative"], position, "o", color=colour)
    ax.set_yticks(range(len(rows)), rows["noun"])
    ax.set_xlabel("change relative to the current level (%)")
    ax.set_title(f"{title}\n({confidence_level:.0%} intervals; green: better, red: worse, grey: unclear)", fontsize=10)
    fig.tight_layout()
    return fig
