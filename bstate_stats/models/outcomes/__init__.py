"""Several outcomes at once: how a habit change moves churn, attrition, absence, cost to serve and satisfaction, and what that is worth.

Imports run one way inside the family: spec -> results -> estimate.
"""

from bstate_stats.models.outcomes.estimate import outcome_effects
from bstate_stats.models.outcomes.results import OutcomeEffectsResults
from bstate_stats.models.outcomes.spec import OutcomeSpec, outcome_spec

__all__ = ["OutcomeEffectsResults", "OutcomeSpec", "outcome_effects", "outcome_spec"]
