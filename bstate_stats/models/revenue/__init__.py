"""Revenue family: the lift of satisfaction at or above the threshold, and the habit -> revenue chain (fixed effects and Bayesian)."""

from bstate_stats.models.revenue.bayes import BayesianRevenueLift, bayesian_revenue, bayesian_revenue_lift
from bstate_stats.models.revenue.chain import habit_to_revenue
from bstate_stats.models.revenue.estimate import revenue_model
from bstate_stats.models.revenue.results import HabitRevenueChain, RevenueResults

__all__ = ["BayesianRevenueLift", "HabitRevenueChain", "RevenueResults", "bayesian_revenue", "bayesian_revenue_lift", "habit_to_revenue", "revenue_model"]
