"""The revenue lift of holding satisfaction at or above the threshold: log revenue on the threshold indicator with team and period effects."""

from __future__ import annotations

import numpy as np

from bstate_stats.errors import ColumnError, SpecificationError, renamed_keywords
from bstate_stats.models.fixed_effects.estimate import fixed_effects
from bstate_stats.models.fixed_effects.spec import Cluster, Effects
from bstate_stats.models.revenue.results import RevenueResults
from bstate_stats.panel.panel import Panel


def revenue_panel(panel: Panel, revenue: str, satisfaction: str, threshold: float) -> tuple[Panel, str]:
    """The panel with ``log_<revenue>`` (missing where revenue is not positive) and the threshold indicator, checked.

    Parameters
    ----------
    panel
        A validated panel.
    revenue, satisfaction, threshold
        Columns and the threshold.

    Returns
    -------
    tuple
        The extended panel and the indicator's name; a :class:`ColumnError` when a column is missing, a
        :class:`SpecificationError` when satisfaction never crosses the threshold (the lift is not identified).
    """
    for column in (revenue, satisfaction):
        if column not in panel.data:
            raise ColumnError(f"{column!r} is not in the panel (a revenue model needs a revenue column and a satisfaction score)")
    values = panel.data[revenue]
    log_revenue = np.log(values.where(values > 0))
    indicator = f"{satisfaction}_at_or_above_{threshold:g}"
    above = (panel.data[satisfaction] >= threshold).astype(float).where(panel.data[satisfaction].notna())
    if above.dropna().nunique() < 2:
        raise SpecificationError(f"{satisfaction} never crosses {threshold:g}: the revenue lift of the threshold is not identified")
    return panel.with_columns({f"log_{revenue}": log_revenue, indicator: above}), indicator


@renamed_keywords(level="confidence_level", include_level="include_satisfaction")
def revenue_model(
    panel: Panel,
    *,
    revenue: str = "revenue",
    satisfaction: str = "csat",
    threshold: float = 8.0,
    include_satisfaction: bool = False,
    effects: Effects = "twoway",
    cluster: Cluster = "team",
    confidence_level: float = 0.95,
    bootstrap_reps: int = 999,
    seed: int = 0,
) -> RevenueResults:
    r"""Percentage revenue lift of a team-period at or above the satisfaction threshold.

    .. math:: \log R_{it} = \alpha_i + \delta_t + \lambda \, 1[s_{it} \ge c] \; (+ \kappa s_{it}) + e_{it}

    Rows with zero revenue have no logarithm: they are excluded and counted in
    the ledger ("missing log_revenue"). ``include_satisfaction`` adds the
    satisfaction score itself, so that the lift is the jump at the threshold beyond
    a linear trend in satisfaction.

    Parameters
    ----------
    panel
        A validated panel with revenue and satisfaction.
    revenue, satisfaction
        Column names.
    threshold
        Satisfaction threshold.
    include_satisfaction
        Also control for the satisfaction score itself.
    effects, cluster, confidence_level, bootstrap_reps, seed
        As for :func:`~bstate_stats.fixed_effects`.

    Returns
    -------
    RevenueResults
        The regression and ``lift``: the relative revenue change of a period at or above the threshold.

    Notes
    -----
    Estimand: within a team, how much higher revenue is in periods at or above
    the threshold than in its other periods (net of period shocks). Causal only
    if nothing else that moves revenue also moves satisfaction across the threshold.
    """
    with_columns, indicator = revenue_panel(panel, revenue, satisfaction, threshold)
    drivers = [indicator, *([satisfaction] if include_satisfaction else [])]
    fit = fixed_effects(with_columns, f"log_{revenue}", drivers, effects=effects, cluster=cluster, confidence_level=confidence_level, bootstrap_reps=bootstrap_reps, seed=seed)
    if indicator in fit.not_identified:
        raise SpecificationError(f"the threshold indicator is not identified: {fit.not_identified[indicator]}")
    return RevenueResults(fit, indicator, threshold)
