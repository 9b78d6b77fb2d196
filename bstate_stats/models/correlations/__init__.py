"""Correlations family: how deliverables, habits and relationships move together within teams, with their lags."""

from bstate_stats.models.correlations.estimate import within_team_correlations
from bstate_stats.models.correlations.results import CorrelationResults

__all__ = ["CorrelationResults", "within_team_correlations"]
