"""Relative importance family: which drivers account for how much of the within-team variation of an outcome."""

from bstate_stats.models.importance.estimate import relative_importance
from bstate_stats.models.importance.results import RelativeImportanceResults

__all__ = ["RelativeImportanceResults", "relative_importance"]
