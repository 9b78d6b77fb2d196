"""Histograms of replicates (bootstrap or posterior draws) with the estimate and its interval."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def plot_draws(draws: np.ndarray, *, estimate: float, interval: tuple[float, float], title: str, xlabel: str) -> Figure:
    """A histogram of ``draws`` with the estimate (line), the interval (band) and zero (dashed)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.hist(np.asarray(draws, dtype=float), bins=40, color="#5b7896")
    ax.axvspan(*interval, color="grey", alpha=0.25, label="interval")
    ax.axvline(estimate, color="black", lw=1.5, label=f"estimate {estimate:,.0f}")
    ax.axvline(0, color="#b03a2e", ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
