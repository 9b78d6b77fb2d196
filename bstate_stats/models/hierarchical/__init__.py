"""Bayesian hierarchical model family: specification, priors, data design, PyMC model, fitting and results.

Imports run one way inside the family: spec, priors -> design, build -> results -> fit.
"""

from bstate_stats.models.hierarchical.fit import hierarchical, prior_predictive_check
from bstate_stats.models.hierarchical.priors import Priors
from bstate_stats.models.hierarchical.results import HierarchicalResults
from bstate_stats.models.hierarchical.spec import HierarchicalSpec

__all__ = ["HierarchicalResults", "HierarchicalSpec", "Priors", "hierarchical", "prior_predictive_check"]
