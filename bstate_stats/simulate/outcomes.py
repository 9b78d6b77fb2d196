"""Churn, attrition, absence and cost to serve for :func:`~bstate_stats.simulate.case_study`, with known effects of habits and relationships.

The T-Mobile-like scenario: a programme that raises habits (and relationships)
lowers customer churn, employee attrition, absence and the cost to serve.
For outcome k, team i and period t::

    log rate_kit = log(base_k) + u_ki + v_kt + beta_k (habit_index_it - H0) / 10 + gamma_k (relationship_index_it - R0) / 10

customers lost ~ Binomial(customers, rate), leavers ~ Binomial(headcount, rate),
absence days ~ Poisson(scheduled days x rate), and the cost per contact is
lognormal around its rate (the "rate" of cost is its expected log level).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from bstate_stats.simulate.case_study import CaseStudyParameters

FURTHER_OUTCOMES = {"customers_lost": "churn", "leavers": "attrition", "absence_days": "absence", "cost_to_serve": "cost"}


def _log_rate(rng: np.random.Generator, p: CaseStudyParameters, stem: str, n_teams: int, habit_change: np.ndarray, relationship_change: np.ndarray) -> np.ndarray:
    """log(base) + team effect + period effect + effects per +10 index points, one value per row (team-major)."""
    team = np.repeat(rng.normal(0, p.outcome_team_sd, n_teams) - p.outcome_team_sd**2 / 2, p.n_periods)
    period = np.tile(rng.normal(0, p.outcome_period_sd, p.n_periods), n_teams)
    slopes = getattr(p, f"{stem}_habit_effect") * habit_change + getattr(p, f"{stem}_relationship_effect") * relationship_change
    return np.log(getattr(p, f"{stem}_base")) + team + period + slopes


def further_outcomes(rng: np.random.Generator, p: CaseStudyParameters, keys: pd.DataFrame, habit_change: np.ndarray, relationship_change: np.ndarray) -> pd.DataFrame:
    """Churn, attrition, absence and cost to serve with their exposures (a programme that raises habits lowers all four).

    Customers lost ~ Binomial(customers, rate), leavers ~ Binomial(headcount, rate),
    absence days ~ Poisson(scheduled days x rate), cost per contact lognormal; each
    log rate (log cost) moves by the stated effect per +10 points of the habit and
    relationship indices, with team and period effects.
    """
    n_teams, n_rows = len(keys) // p.n_periods, len(keys)
    customers = np.repeat(rng.poisson(p.customers_per_team, n_teams), p.n_periods) + rng.poisson(p.customers_per_team / 20, n_rows)
    headcount = np.maximum(np.repeat(rng.poisson(p.headcount_per_team, n_teams), p.n_periods), 3)
    scheduled = headcount * p.working_days

    def rate(stem: str) -> np.ndarray:
        return np.clip(np.exp(_log_rate(rng, p, stem, n_teams, habit_change, relationship_change)), 0, 1)

    lost = rng.binomial(customers, rate("churn"))
    leavers = rng.binomial(headcount, rate("attrition"))
    absence = np.minimum(rng.poisson(scheduled * rate("absence")), scheduled)
    cost = np.exp(_log_rate(rng, p, "cost", n_teams, habit_change, relationship_change) + rng.normal(-p.cost_noise_sd**2 / 2, p.cost_noise_sd, n_rows))
    return pd.DataFrame(
        {
            "churn": np.round(lost / customers, 4), "customers": customers, "customers_lost": lost, "headcount": headcount, "leavers": leavers,
            "scheduled_days": scheduled, "absence_days": absence, "cost_to_serve": np.round(cost, 2),
        },
        index=keys.index,
    )
