"""Plots of the Bayesian results: effects, posterior predictive checks, P(>= threshold) curve, revenue lift."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

BLUE, RED, GREY = "#1f4e79", "#b03a2e", "#7f7f7f"


def plot_effects(effects: pd.DataFrame, *, population: pd.DataFrame, unit: float, outcome: str = "satisfaction", driver: str = "habit index") -> Figure:
    """Forest plot of a driver's effects by region or team, with the organisation's effect as a band."""
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(effects) + 1.6))
    y = np.arange(len(effects))[::-1]
    ax.errorbar(effects["mean"], y, xerr=[effects["mean"] - effects["hdi_low"], effects["hdi_high"] - effects["mean"]], fmt="o", color=BLUE, capsize=3)
    pop = population.iloc[0]
    ax.axvspan(pop["hdi_low"], pop["hdi_high"], color=GREY, alpha=0.2, label="population (interval)")
    ax.axvline(pop["mean"], color=GREY)
    ax.axvline(0, color="black", lw=0.6, ls="--")
    ax.set_yticks(y, effects["unit"])
    ax.set_xlabel(f"{outcome} (link scale) per +{unit:g} {driver}")
    ax.set_ylim(-0.8, len(effects) - 0.2)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(f"Effect of {driver} by " + str(effects["level"].iloc[0]), fontsize=10)
    fig.tight_layout()
    return fig


def _meets(values: np.ndarray, threshold: float, direction: str) -> np.ndarray:
    return values <= threshold if direction == "at_most" else values >= threshold


def plot_ppc(observed: np.ndarray, replicated: np.ndarray, *, threshold: float, period_idx: np.ndarray, periods: list[str], outcome: str = "outcome", direction: str = "at_least") -> Figure:
    """Observed outcomes against replicated ones: distribution, and the share meeting the target (at or above, or at or below) per period."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    low, high = np.nanquantile(np.concatenate([observed, replicated[:40].ravel()]), [0.001, 0.999])
    bins = np.linspace(low, high, 41)
    for draw in replicated[:40]:
        left.hist(draw, bins=bins, histtype="step", color=BLUE, alpha=0.12, density=True)
    left.hist(observed, bins=bins, histtype="step", color="black", lw=1.8, density=True, label="observed")
    left.axvline(threshold, color=RED, ls="--")
    left.set_xlabel(outcome)
    left.set_title("Observed (black) vs replicated (blue)", fontsize=10)
    shares_obs = [np.mean(_meets(observed[period_idx == k], threshold, direction)) for k in range(len(periods))]
    shares_rep = np.array([[np.mean(_meets(draw[period_idx == k], threshold, direction)) for k in range(len(periods))] for draw in replicated])
    share_low, share_high = np.quantile(shares_rep, [0.05, 0.95], axis=0)
    x = np.arange(len(periods))
    right.fill_between(x, share_low, share_high, color=BLUE, alpha=0.25, label="replicated 90%")
    right.plot(x, shares_obs, "o-", color="black", ms=3, label="observed")
    right.set_xticks(x[:: max(1, len(x) // 6)], [periods[k] for k in x[:: max(1, len(x) // 6)]], fontsize=8)
    sign, side = ("<=", "at or below") if direction == "at_most" else (">=", "at or above")
    right.set_ylabel(f"share {sign} {threshold:g}")
    right.legend(fontsize=8)
    right.set_title(f"Share of teams {side} {threshold:g} per period", fontsize=10)
    fig.tight_layout()
    return fig


def plot_prob_curve(curve: pd.DataFrame, *, required: pd.DataFrame, threshold: float, outcome: str = "satisfaction", direction: str = "at_least", driver: str = "habit index") -> Figure:
    """P(outcome meets the target) against the driver's change, with the change needed for the target probability."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for unit, block in curve.groupby("unit", sort=False):
        ax.plot(block["habit_change"], block["mean"], color=BLUE if unit == "population" else None, label=str(unit))
        ax.fill_between(block["habit_change"], block["hdi_low"], block["hdi_high"], alpha=0.2, color=BLUE if unit == "population" else None)
    for _, row in required.iterrows():
        ax.axhline(row["target_prob"], color=GREY, ls=":", lw=1)
        if row["reachable"]:
            ax.axvline(row["required_change"], color=RED, ls="--", lw=1)
            ax.annotate(f"+{row['required_change']:.1f} points", (row["required_change"], 0.05), color=RED, fontsize=9)
    ax.set_ylim(0, 1)
    sign, side = ("<=", "at or below") if direction == "at_most" else (">=", "at or above")
    ax.set_xlabel(f"{driver} change (points)")
    ax.set_ylabel(f"P({outcome} {sign} {threshold:g})")
    who = {"teams": "average of this organisation's teams", "new_team": "a new team"}.get(str(curve["estimand"].iloc[0]), "") if "estimand" in curve else ""
    ax.set_title(f"Chance of {outcome} {side} {threshold:g}" + (f" ({who})" if who else ""), fontsize=10)
    if curve["unit"].nunique() > 1:
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_revenue_lift(lift: pd.DataFrame, *, habit_change: float) -> Figure:
    """Distribution of the annual revenue lift (organisation)."""
    draws = lift.attrs["draws"][:, 0]
    row = lift.iloc[0]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.hist(draws, bins=50, color=BLUE, alpha=0.75)
    ax.axvline(row["mean"], color="black", label=f"mean ${row['mean']:,.0f}")
    ax.axvspan(row["hdi_low"], row["hdi_high"], color=GREY, alpha=0.2, label="credible interval")
    ax.axvline(0, color=RED, ls="--", lw=1)
    ax.set_xlabel(f"annual revenue lift for +{habit_change:g} habit points (currency)")
    ax.set_title(f"Revenue lift: P(lift > 0) = {row['prob_positive']:.2f}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_ranks(ranks: pd.DataFrame, *, n_draws: int) -> Figure:
    """Rank histograms of simulation-based calibration, one panel per parameter, with the 99% band of a uniform histogram."""
    from scipy import stats

    parameters = list(dict.fromkeys(ranks["parameter"]))
    columns = min(4, len(parameters))
    rows = int(np.ceil(len(parameters) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 2.3 * rows), squeeze=False)
    n_sims = ranks["simulation"].nunique()
    bins = max(4, min(20, n_sims // 5))
    low, high = stats.binom.ppf([0.005, 0.995], n_sims, 1 / bins)
    for ax, parameter in zip(axes.ravel(), parameters):
        ax.axhspan(low, high, color=GREY, alpha=0.25)
        ax.hist(ranks.loc[ranks["parameter"] == parameter, "rank"], bins=bins, range=(0, n_draws + 1), color=BLUE, alpha=0.8)
        ax.set_title(parameter, fontsize=9)
        ax.set_yticks([])
    for ax in axes.ravel()[len(parameters):]:
        ax.axis("off")
    fig.suptitle("Ranks of the truth among posterior draws (grey: 99% band if calibrated)", fontsize=10)
    fig.tight_layout()
    return fig
