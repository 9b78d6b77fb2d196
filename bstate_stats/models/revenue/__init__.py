"""Revenue family: the lift of satisfaction at or above the threshold, and the habit -> revenue chain."""

from bstate_stats.models.revenue.chain import habit_to_revenue
from bstate_stats.models.revenue.estimate import revenue_model
from bstate_stats.models.revenue.results import HabitRevenueChain, RevenueResults

__all__ = ["HabitRevenueChain", "RevenueResults", "habit_to_revenue", "revenue_model"]
