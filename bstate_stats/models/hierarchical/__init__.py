"""Bayesian hierarchical model family: one engine for any outcome.

Imports run one way inside the family: families, spec, priors -> geometry, design, build -> predict -> estimands -> results -> fit, calibrate.
"""

from bstate_stats.models.hierarchical.calibrate import CalibrationResults, calibrate
from bstate_stats.models.hierarchical.families import FAMILIES
from bstate_stats.models.hierarchical.fit import hierarchical, prior_predictive_check
from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.models.hierarchical.results import HierarchicalResults
from bstate_stats.models.hierarchical.spec import HierarchicalSpec

__all__ = ["FAMILIES", "CalibrationResults", "HierarchicalResults", "HierarchicalSpec", "Priors", "calibrate", "hierarchical", "prior_predictive_check"]
