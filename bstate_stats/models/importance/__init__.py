"""Relative importance family: which drivers account for how much of the within-team variation of an outcome."""

from bstate_stats.models.importance.estimate import relative_importance
from bstate_stats.models.importance.matrix import ImportanceMatrix, importance_matrix
from bstate_stats.models.importance.metrics import MetricsResults, metrics_and_outcomes
from bstate_stats.models.importance.results import RelativeImportanceResults

__all__ = ["ImportanceMatrix", "importance_matrix", "MetricsResults", "RelativeImportanceResults", "metrics_and_outcomes", "relative_importance"]
