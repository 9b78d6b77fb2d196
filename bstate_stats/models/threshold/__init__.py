"""Threshold family: the chance that a team-period is at or above the threshold, as habits change."""

from bstate_stats.models.threshold.estimate import threshold_model
from bstate_stats.models.threshold.results import ConditionalLogitFit, ThresholdResults

__all__ = ["ConditionalLogitFit", "ThresholdResults", "threshold_model"]
